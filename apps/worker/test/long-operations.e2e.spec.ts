import { Database, Prisma } from '@capstan/platform';
import { externalClusterName } from '@capstan/providers';
import { sql } from 'kysely';
import { clusterRequest, creationsByName, seedOrganization, simulatorCall, type Stack, startStack, waitForOperation } from '@capstan/testing';
import type { ChildProcess } from 'node:child_process';

/**
 * Hour-long work, scaled down: waits that give the worker back (docs/operations-engine.md), with
 * real worker processes that are restarted and replaced while operations wait on the cloud.
 */

async function createClusters(stack: Stack, token: string, names: string[]): Promise<{ clusterId: string; operationId: string }[]> {
  const created: { clusterId: string; operationId: string }[] = [];
  for (const name of names) {
    const res = await stack.api.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${token}` },
      payload: clusterRequest({ name, node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 1 }] }),
    });
    expect(res.statusCode).toBe(202);
    created.push({ clusterId: res.json().cluster.id, operationId: res.json().operation.id });
  }
  return created;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** A graceful stop, as a rollout does it: SIGTERM, then wait for the process to be gone. */
async function stopWorker(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await exited(child);
}

describe('long operations: waits that yield the worker', () => {
  it('a long wait survives two worker restarts and a rolling replacement of every worker, and no step runs twice', async () => {
    // Each provisioning step of the simulated cloud takes 15 s: the control plane wait spans many
    // polls, during which the workers are restarted and replaced (a worker boots in seconds, more
    // on a loaded machine).
    const stack = await startStack({ inProcessWorker: false, stepDelayMs: 15_000, env: { WAIT_POLL_MAX_MS: '300' } });
    try {
      const token = (await seedOrganization(stack.prisma)).token;
      let workers = [await stack.spawnWorker()];
      const [op] = await createClusters(stack, token, ['patient']);
      // Each stop must land while the operation is parked in its wait (yielded, no worker holds
      // it); how many polls each generation made depends on how fast workers boot, so it is not
      // asserted.
      const waiting = () =>
        until(
          'the operation parked in its wait',
          async () => {
            const row = await stack.prisma.operation.findUniqueOrThrow({
              where: { id: op!.operationId },
              include: { steps: { where: { name: 'wait_control_plane_ready' } } },
            });
            return row.wakeAt !== null && row.steps[0]?.status === 'running' ? true : undefined;
          },
          30_000,
        );

      // Two restarts while the control plane is being built.
      for (let restart = 0; restart < 2; restart++) {
        await waiting();
        await stopWorker(workers[0]!);
        workers = [await stack.spawnWorker()];
      }
      // A rolling replacement: two new workers come up, then every old one goes.
      await waiting();
      const replacements = [await stack.spawnWorker(), await stack.spawnWorker()];
      for (const old of workers) await stopWorker(old);
      workers = replacements;

      const done = await waitForOperation(stack.prisma, op!.operationId, ['succeeded'], 120_000);
      // Polled across three generations of workers, the wait is still one attempt of its step, no
      // finished step ran again, and the operation never needed a second attempt.
      expect(done.steps.map((s) => `${s.name}:${s.attempts}`)).toEqual(done.steps.map((s) => `${s.name}:1`));
      expect(done.attempts).toBe(1);
      expect((await creationsByName(stack.simulator.apiUrl, 'cluster'))[externalClusterName(op!.clusterId)]).toBe(1);
      expect(await stack.prisma.operationLease.count()).toBe(0);
    } finally {
      await stack.stop();
    }
  }, 300_000);

  it('a stopping worker finishes the step in flight, hands the operation back at the boundary and exits within its grace', async () => {
    const stack = await startStack({ inProcessWorker: false, stepDelayMs: 0 });
    try {
      const token = (await seedOrganization(stack.prisma)).token;
      await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call: 'installAddons' }, mode: 'slow', delayMs: 1_500 });
      const first = await stack.spawnWorker({ WORKER_SHUTDOWN_GRACE_MS: '10000' });
      const [op] = await createClusters(stack, token, ['handed-back']);
      await until(
        'install_addons running',
        async () =>
          (await stack.prisma.operationStep.findFirstOrThrow({ where: { operationId: op!.operationId, name: 'install_addons' } })).status === 'running'
            ? true
            : undefined,
        30_000,
      );
      const stoppedAt = Date.now();
      await stopWorker(first);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      // The step in flight finished and nothing after it started: the operation waits for a worker.
      const handedBack = await stack.prisma.operation.findUniqueOrThrow({
        where: { id: op!.operationId },
        include: { steps: { orderBy: { position: 'asc' } } },
      });
      expect(handedBack.status).toBe('running');
      expect(handedBack.steps.find((s) => s.name === 'install_addons')!.status).toBe('succeeded');
      expect(handedBack.steps.find((s) => s.name === 'issue_admin_credentials')!.status).toBe('pending');
      expect(await stack.prisma.operationLease.findFirst({ where: { operationId: op!.operationId } })).toMatchObject({ owner: null });

      await stack.spawnWorker();
      const done = await waitForOperation(stack.prisma, op!.operationId, ['succeeded'], 60_000);
      expect(done.steps.map((s) => `${s.name}:${s.attempts}`)).toEqual(done.steps.map((s) => `${s.name}:1`));
    } finally {
      await stack.stop();
    }
  }, 120_000);

  it('500 operations wait at once on one worker with no more connections than its pool', async () => {
    const poolSize = 4;
    // Re-polls back off to 30 s: the operations that already wait must not keep the worker from
    // bringing the others to their wait (at 2 s, 500 waiters were 250 polls a second, and a loaded
    // 2-core machine never got all 500 there).
    const stack = await startStack({ inProcessWorker: false, stepDelayMs: 600_000, env: { WAIT_POLL_MAX_MS: '30000' } });
    try {
      const token = (await seedOrganization(stack.prisma, { maxClusters: 600, maxNodes: 1_000 })).token;
      // PGAPPNAME names the worker's pooled connections (the relay's LISTEN connection names itself).
      await stack.spawnWorker({ DATABASE_POOL_SIZE: String(poolSize), WORKER_CONCURRENCY: '16', PGAPPNAME: 'capstan-worker-under-test' });
      const ops = await createClusters(
        stack,
        token,
        Array.from({ length: 500 }, (_, i) => `waiting-${i}`),
      );
      expect(ops).toHaveLength(500);

      const db = stack.api.get(Database);
      let most = 0;
      await until(
        'all 500 operations waiting at once',
        async () => {
          // pg_stat_activity is not in the schema's types, hence Kysely's sql template.
          const { rows } = await sql<{ n: bigint }>`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'capstan-worker-under-test'`.execute(
            db,
          );
          most = Math.max(most, Number(rows[0]!.n));
          const waitingNow = await stack.prisma.operationStep.count({
            where: { name: 'wait_control_plane_ready', status: 'running', NOT: { wait: { equals: Prisma.DbNull } } },
          });
          const yielded = await stack.prisma.operation.count({ where: { wakeAt: { not: null } } });
          return waitingNow === 500 && yielded > 0 ? true : undefined;
        },
        180_000,
      );
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(poolSize);
    } finally {
      await stack.stop();
    }
  }, 300_000);

  it('a cloud outage longer than the old retry budget, in the middle of 100 creates, ends with all 100 succeeded', async () => {
    // Scaled down: backoff from 100 ms capped at 500 ms. The old budget (6 attempts from 100 ms)
    // was 3.1 s; the outage lasts 6 s, well inside the default 30-minute retry time.
    const stack = await startStack({ inProcessWorker: false, stepDelayMs: 0, env: { OPERATION_BACKOFF_MS: '100', OPERATION_BACKOFF_MAX_MS: '500' } });
    try {
      const token = (await seedOrganization(stack.prisma, { maxClusters: 200, maxNodes: 1_000 })).token;
      await stack.spawnWorker();
      const ops = await createClusters(
        stack,
        token,
        Array.from({ length: 100 }, (_, i) => `outage-${i}`),
      );
      await until(
        'some creates under way',
        async () => ((await stack.prisma.operation.count({ where: { status: 'succeeded' } })) >= 5 ? true : undefined),
        60_000,
      );
      for (const call of ['ensureCluster', 'getCluster', 'ensureNodePool', 'getNodePool', 'installAddons', 'issueCredentials']) {
        await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call }, mode: 'fail_always', retryable: true });
      }
      await new Promise((r) => setTimeout(r, 6_000));
      const failingDuringOutage = await stack.prisma.operationStep.count({ where: { retryingSince: { not: null } } });
      await simulatorCall(stack.simulator.apiUrl, 'DELETE', '/v1/chaos/faults');

      for (const op of ops) await waitForOperation(stack.prisma, op.operationId, ['succeeded'], 120_000);
      // The outage was felt (steps were retrying), and nothing was made twice.
      expect(failingDuringOutage).toBeGreaterThan(0);
      const creations = await creationsByName(stack.simulator.apiUrl, 'cluster');
      for (const op of ops) expect(creations[externalClusterName(op.clusterId)]).toBe(1);
    } finally {
      await stack.stop();
    }
  }, 300_000);
});
