import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startSlaMonitor } from '@capstan/sla-monitor';
import { clusterRequest, seedOrganization, type Stack, startStack, waitForOperation } from '@capstan/testing';
import { monitorConfig } from './monitor-support';

/**
 * Every process's /metrics after a cluster create (docs/observability.md): the API counts the
 * operation it wrote, the worker the steps, provider calls and outcome and the fleet's operations
 * and queue, the SLA monitor its probes and the availability it wrote.
 */

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

async function scrape(app: NestFastifyApplication): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
}

/** Scrapes until `check` holds (samplers and probes move on their own schedule), or fails with the last scrape. */
async function scrapeUntil(app: NestFastifyApplication, check: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(app);
    if (check(text)) return text;
    if (Date.now() > deadline)
      throw new Error(
        `metrics never matched; last scrape:\n${text
          .split('\n')
          .filter((l) => l.startsWith('capstan_'))
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('metrics of the API, the worker and the SLA monitor after a create', () => {
  let stack: Stack;
  let token: string;
  let monitor: NestFastifyApplication | undefined;

  beforeAll(async () => {
    // Slow enough steps that a scrape catches the operation running.
    stack = await startStack({ stepDelayMs: 150 });
    token = (await seedOrganization(stack.prisma)).token;
  }, 60_000);

  afterAll(async () => {
    await monitor?.close().catch(() => undefined);
    await stack?.stop();
  }, 60_000);

  it('moves the operation, step, provider, outbox, queue and probe series', async () => {
    const worker = stack.worker!;
    const apiBefore = await scrape(stack.api);
    const workerBefore = await scrape(worker);
    const finished = { type: 'create_cluster', outcome: 'succeeded' };
    expect(sample(apiBefore, 'capstan_operations_enqueued_total', { type: 'create_cluster' }) ?? 0).toBe(0);

    const res = await stack.api.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${token}` },
      payload: clusterRequest({ name: 'metered' }),
    });
    expect(res.statusCode).toBe(202);

    // The API counted what it wrote, labelled by service and type only (no ids as labels).
    const api = await scrape(stack.api);
    expect(sample(api, 'capstan_operations_enqueued_total', { type: 'create_cluster', service: 'api' })).toBe(1);
    expect(sample(api, 'capstan_http_request_duration_seconds_count', { method: 'POST', route: '/v1/clusters', status: '202' })).toBe(1);
    expect(api).not.toContain(res.json().cluster.id);

    // While it runs, the fleet gauge shows it; once it ended, it no longer does.
    await scrapeUntil(worker, (t) => sample(t, 'capstan_operations', { type: 'create_cluster', status: 'running' }) === 1);
    await waitForOperation(stack.prisma, res.json().operation.id);
    // BullMQ completes the job just after the run's last write: the queue gauge settles a moment later.
    const done = await scrapeUntil(
      worker,
      (t) =>
        (sample(t, 'capstan_operations', { type: 'create_cluster' }) ?? 0) === 0 &&
        sample(t, 'capstan_queue_jobs', { queue: 'operations', state: 'active' }) === 0,
    );

    expect(sample(done, 'capstan_operations_finished_total', finished)).toBe((sample(workerBefore, 'capstan_operations_finished_total', finished) ?? 0) + 1);
    expect(sample(done, 'capstan_operation_duration_seconds_count', finished)).toBe(1);
    expect(sample(done, 'capstan_operation_steps_total', { type: 'create_cluster', result: 'succeeded' })).toBe(7);
    // wait_control_plane_ready polls the cloud: at least one step yielded and came back.
    expect(sample(done, 'capstan_operation_steps_total', { type: 'create_cluster', result: 'waiting' })).toBeGreaterThanOrEqual(1);
    expect(sample(done, 'capstan_provider_call_duration_seconds_count', { provider: 'rke2', call: 'ensureCluster', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(done, 'capstan_outbox_relayed_total')).toBeGreaterThanOrEqual(1);
    expect(sample(done, 'capstan_outbox_lag_seconds')).toBe(0);
    expect(sample(done, 'capstan_operation_runs_in_flight')).toBe(0);
    // BullMQ's counters by state, read from Redis: the run left the queue empty of waiting jobs.
    expect(sample(done, 'capstan_queue_jobs', { queue: 'operations', state: 'waiting' })).toBe(0);
    expect(sample(done, 'capstan_queue_jobs', { queue: 'operations', state: 'active' })).toBe(0);
    expect(sample(done, 'capstan_operation_oldest_active_age_seconds', { type: 'create_cluster' })).toBeUndefined();

    // The SLA monitor finds the running cluster, probes it and writes its first interval.
    monitor = await startSlaMonitor(monitorConfig(stack));
    const probed = await scrapeUntil(
      monitor,
      (t) => (sample(t, 'capstan_probes_total', { result: 'up' }) ?? 0) >= 3 && (sample(t, 'capstan_availability_intervals_written_total') ?? 0) >= 1,
    );
    expect(sample(probed, 'capstan_probe_targets', { service: 'sla-monitor' })).toBe(1);
    expect(sample(probed, 'capstan_probe_duration_seconds_count', { result: 'up' })).toBeGreaterThanOrEqual(3);
    expect(sample(probed, 'capstan_probes_total', { result: 'down' }) ?? 0).toBe(0);
    expect(sample(probed, 'capstan_sla_alerts_firing', { severity: 'page' })).toBe(0);
    // Computed at boot from the monthly reports: nothing was down, nothing is breached.
    expect(sample(probed, 'capstan_sla_breaches', { provider: 'rke2' })).toBe(0);
  }, 120_000);
});
