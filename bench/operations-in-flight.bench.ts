/**
 * Issue 9 (a): 10,000 operations in flight at once, each waiting on a slow simulated cloud step,
 * on 2 worker processes, with at most 40 Postgres connections in total and under 300 MB RSS per
 * worker. Not a ratio bench: the figures are printed beside the goals.
 *
 * The operations are cluster creates written straight into a scratch database (clusters, pools,
 * create_cluster operations with their planned steps and outbox messages, as the API's create
 * leaves them): sending 10,000 creates through the API would measure the API, which
 * bench/operations.bench.ts does. The simulated cloud takes BENCH_INFLIGHT_STEP_SECONDS [900] per
 * step, so every operation reaches `wait_control_plane_ready` and waits there, yielding its worker
 * between polls (docs/operations-engine.md, Waits that yield). The bench follows them until all
 * are waiting at once, holds BENCH_INFLIGHT_HOLD_SECONDS [30] more, and samples throughout: the
 * workers' Postgres connections (their pools, named by PGAPPNAME, plus their relays' LISTEN
 * connections) and RSS.
 *
 * Knobs: BENCH_INFLIGHT_OPERATIONS [10000], BENCH_INFLIGHT_POOL_SIZE [15] (DATABASE_POOL_SIZE of
 * each worker: 2 x (15 + 1) = 32 connections at most), BENCH_INFLIGHT_POLL_MAX_MS [30000]
 * (WAIT_POLL_MAX_MS), BENCH_INFLIGHT_TIMEOUT_SECONDS [900].
 */
import { plannedSteps, resolveVersionForCreate, VERSION_CATALOGUE } from '@capstan/domain';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import { seedOrganization } from '../libs/testing/src/fixtures';
import { type Stack, startStack } from '../libs/testing/src/stack';
import { pgConnectionFromUrl } from '../libs/platform/src/database/pg-connection';
import { numberSetting, REDIS_URL } from './support/environment';
import { sampleProcesses } from './support/processes';
import { cleanRedis } from './support/redis';
import { createScratchDatabase } from './support/scratch-database';
import { HUGE_QUOTA } from './support/seed';
import { spawnStackWorker, waitForOperationWorkers } from './support/stack';
import { int, ms, printTable } from './support/stats';

const OPERATIONS = numberSetting('BENCH_INFLIGHT_OPERATIONS', 10_000);
const STEP_SECONDS = numberSetting('BENCH_INFLIGHT_STEP_SECONDS', 900);
const HOLD_SECONDS = numberSetting('BENCH_INFLIGHT_HOLD_SECONDS', 30);
const POOL_SIZE = numberSetting('BENCH_INFLIGHT_POOL_SIZE', 15);
const POLL_MAX_MS = numberSetting('BENCH_INFLIGHT_POLL_MAX_MS', 30_000);
const TIMEOUT_MS = numberSetting('BENCH_INFLIGHT_TIMEOUT_SECONDS', 900) * 1000;
const WORKERS = 2;
const WORKER_APP = 'capstan-bench-worker';
const WORKER_CONNECTIONS = [WORKER_APP, 'capstan-outbox-relay'];
const GOALS = { inFlight: 10_000, connections: 40, rssMb: 300 };

const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** 10,000 creates as the API leaves them: one statement per table, from generate_series. */
async function seedCreates(client: Client, organizationId: string, count: number): Promise<void> {
  const version = resolveVersionForCreate('rke2', undefined, new Date(), VERSION_CATALOGUE.entries).patch;
  const suffix = randomBytes(3).toString('hex');
  // Ids of the shape newId makes (prefix + 26 base32 characters), unique per row.
  const id = (prefix: string) => `'${prefix}_' || lpad(to_hex(n), 20, '0') || '${suffix}'`;
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO clusters (id, organization_id, name, live_name, provider, region, current_version, desired_version, updated_at)
     SELECT ${id('cl')}, $1, 'w-' || n, 'w-' || n, 'rke2', 'nine-cz41', $2, $2, now() FROM generate_series(1, $3::int) AS n`,
    [organizationId, version, count],
  );
  await client.query(
    `INSERT INTO node_pools (id, cluster_id, organization_id, name, live_name, machine_type, node_count, version, updated_at)
     SELECT ${id('np')}, ${id('cl')}, $1, 'default', 'default', 'nine-standard-2', 1, $2, now() FROM generate_series(1, $3::int) AS n`,
    [organizationId, version, count],
  );
  await client.query(
    `INSERT INTO operations (id, organization_id, cluster_id, type, target_type, target_id, requested_by_type, requested_by_id, updated_at)
     SELECT ${id('op')}, $1, ${id('cl')}, 'create_cluster', 'cluster', ${id('cl')}, 'system', 'bench', now() FROM generate_series(1, $2::int) AS n`,
    [organizationId, count],
  );
  await client.query(
    `INSERT INTO operation_steps (operation_id, position, name)
     SELECT ${id('op')}, s.ord - 1, s.name FROM generate_series(1, $1::int) AS n, unnest($2::text[]) WITH ORDINALITY AS s(name, ord)`,
    [count, [...plannedSteps('create_cluster')]],
  );
  await client.query(
    `INSERT INTO outbox_messages (topic, dedupe_key, payload)
     SELECT 'operations', ${id('op')}, json_build_object('operationId', ${id('op')})::jsonb FROM generate_series(1, $1::int) AS n`,
    [count],
  );
  // A notification without a message: the relay sweeps the outbox, 200 at a time.
  await client.query(`SELECT pg_notify('capstan_outbox', '')`);
  await client.query('COMMIT');
}

interface Sample {
  at: number;
  waiting: number;
  running: number;
  pending: number;
  failed: number;
  connections: number;
}

async function main(): Promise<void> {
  const db = await createScratchDatabase();
  const redisPrefix = `capstan-bench-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  let stack: Stack | undefined;
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () =>
    (cleaned ??= (async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.race([stack?.stop().catch(() => undefined), sleep(15_000)]);
      await Promise.allSettled([db.drop(), cleanRedis(redisPrefix)]);
    })());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    process.once(signal, () => void cleanUp().finally(() => process.exit(code)));

  let ok = false;
  const started = Date.now();
  try {
    console.log(
      `operations-in-flight: ${OPERATIONS} cluster creates, each waiting on a ${STEP_SECONDS} s simulated cloud step, on ${WORKERS} worker processes ` +
        `(DATABASE_POOL_SIZE ${POOL_SIZE}, WAIT_POLL_MAX_MS ${POLL_MAX_MS}); scratch database ${db.name}`,
    );
    stack = await startStack({
      database: db,
      stepDelayMs: STEP_SECONDS * 1000,
      inProcessWorker: false,
      env: {
        REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        DATABASE_POOL_SIZE: String(POOL_SIZE),
        WAIT_POLL_MAX_MS: String(POLL_MAX_MS),
        STEP_TIMEOUT_MS: String(4 * 3_600_000),
        RECONCILE_INTERVAL_MS: '30000',
        JOB_LOCK_MS: '30000',
      },
    });
    const org = await seedOrganization(stack.prisma, HUGE_QUOTA);
    const client = new Client({ ...pgConnectionFromUrl(db.url), application_name: 'capstan-bench' });
    await client.connect();
    try {
      const seeding = Date.now();
      await seedCreates(client, org.organizationId, OPERATIONS);
      console.log(`  seeded ${OPERATIONS} creates in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);

      const spawned = await Promise.all(Array.from({ length: WORKERS }, () => spawnStackWorker(stack!, { PGAPPNAME: WORKER_APP })));
      children.push(...spawned);
      const sampler = sampleProcesses(
        spawned.map((c) => c.pid!),
        500,
      );
      await waitForOperationWorkers(stack, WORKERS, spawned);
      sampler.mark();
      const workersUp = Date.now();

      const samples: Sample[] = [];
      const sample = async (): Promise<Sample> => {
        const { rows } = await client.query<{ waiting: string; running: string; pending: string; failed: string; connections: string }>(
          // Waiting: its wait step has recorded what it waits for (kept across its polls, unlike
          // wake_at, which a poll in progress clears).
          `SELECT count(*) FILTER (WHERE status = 'running' AND EXISTS (
                    SELECT 1 FROM operation_steps s WHERE s.operation_id = operations.id AND s.status = 'running' AND s.wait IS NOT NULL)) AS waiting,
                  count(*) FILTER (WHERE status = 'running') AS running,
                  count(*) FILTER (WHERE status = 'pending') AS pending,
                  count(*) FILTER (WHERE status IN ('failed', 'needs_attention', 'cancelled', 'succeeded')) AS failed,
                  (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ANY($2::text[])) AS connections
             FROM operations WHERE organization_id = $1`,
          [org.organizationId, WORKER_CONNECTIONS],
        );
        const r = rows[0]!;
        const s = {
          at: Date.now(),
          waiting: Number(r.waiting),
          running: Number(r.running),
          pending: Number(r.pending),
          failed: Number(r.failed),
          connections: Number(r.connections),
        };
        samples.push(s);
        return s;
      };

      let allWaitingAt: number | undefined;
      let lastLog = 0;
      const deadline = Date.now() + TIMEOUT_MS;
      for (;;) {
        const s = await sample();
        if (s.at - lastLog > 15_000) {
          lastLog = s.at;
          console.log(
            `  ${((s.at - workersUp) / 1000).toFixed(0)} s: ${s.waiting} waiting, ${s.running} running, ${s.pending} pending, ${s.failed} ended; ${s.connections} worker connections`,
          );
        }
        if (allWaitingAt === undefined && s.waiting >= OPERATIONS) allWaitingAt = s.at;
        if (allWaitingAt !== undefined && s.at - allWaitingAt >= HOLD_SECONDS * 1000) break;
        if (Date.now() > deadline || s.failed > 0) break;
        await sleep(500);
      }
      const usage = sampler.stop();
      const workerUsage = spawned.map((c) => usage.get(c.pid!)!);
      const peak = (key: keyof Sample) => Math.max(...samples.map((s) => s[key]));
      const peakRssMb = Math.max(...workerUsage.map((u) => u.peakRssKb / 1024));
      const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
      console.log('');
      printTable(
        ['issue 9 (a)', '>measured', 'goal', ''],
        [
          ['peak operations waiting at once', int(peak('waiting')), `>= ${GOALS.inFlight}`, verdict(peak('waiting') >= GOALS.inFlight)],
          ['peak Postgres connections, 2 workers', int(peak('connections')), `<= ${GOALS.connections}`, verdict(peak('connections') <= GOALS.connections)],
          ...workerUsage.map((u, i) => [
            `worker ${i + 1} peak RSS MB`,
            ms(u.peakRssKb / 1024, 0),
            `< ${GOALS.rssMb}`,
            verdict(u.peakRssKb / 1024 < GOALS.rssMb),
          ]),
        ],
      );
      console.log(
        `  all ${OPERATIONS} waiting ${allWaitingAt ? `${((allWaitingAt - workersUp) / 1000).toFixed(0)} s after the workers started` : 'never (timed out)'}; ` +
          `worker CPU ${workerUsage.map((u) => `${(u.cpuMs / 1000).toFixed(0)} s`).join(' + ')}; operations that ended (should be none): ${peak('failed')}`,
      );
      ok = allWaitingAt !== undefined && peak('failed') === 0 && peak('connections') <= GOALS.connections && peakRssMb < GOALS.rssMb;
    } finally {
      await client.end().catch(() => undefined);
    }
    console.log(`operations-in-flight: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanUp();
  }
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
