import { OPERATIONS_QUEUE } from '@capstan/operations';
import { EmbeddedRedisServer } from '@capstan/platform';
import { externalClusterName } from '@capstan/providers';
import {
  clusterRequest,
  creationsByName,
  databaseUrl,
  freePort,
  PostgresProcess,
  seedOrganization,
  type Stack,
  startStack,
  templateDatabaseName,
  waitForOperation,
} from '@capstan/testing';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function createClusters(stack: Stack, token: string, names: string[]) {
  const operations: { clusterId: string; operationId: string }[] = [];
  for (const name of names) {
    const res = await stack.api.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${token}` },
      payload: clusterRequest({ name }),
    });
    expect(res.statusCode).toBe(202);
    operations.push({ clusterId: res.json().cluster.id, operationId: res.json().operation.id });
  }
  return operations;
}

async function expectEachCreatedOnce(stack: Stack, clusterIds: string[]) {
  const creations = await creationsByName(stack.simulator.apiUrl, 'cluster');
  for (const id of clusterIds) expect(creations[externalClusterName(id)]).toBe(1);
}

/** Faults that take a server away use servers of the test's own, never the shared ones. */
describe('operations survive losing their dependencies', () => {
  it('completes every operation after Redis loses all its data (FLUSHALL)', async () => {
    const redis = new EmbeddedRedisServer({ port: await freePort() });
    await redis.start();
    // One job at a time, so most operations are still waiting in Redis when it is flushed.
    const stack = await startStack({ stepDelayMs: 300, env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: '1' } });
    try {
      const token = (await seedOrganization(stack.prisma)).token;
      const ops = await createClusters(stack, token, ['flush-a', 'flush-b', 'flush-c', 'flush-d']);
      // Some running, some still pending.
      await waitForOperation(stack.prisma, ops[0]!.operationId, ['running']);
      const admin = new IORedis(redis.url);
      await admin.flushall();
      await admin.quit();

      for (const op of ops) await waitForOperation(stack.prisma, op.operationId, ['succeeded'], 60_000);
      await expectEachCreatedOnce(
        stack,
        ops.map((o) => o.clusterId),
      );
    } finally {
      await stack.stop();
      await redis.stop();
    }
  }, 120_000);

  it('completes every operation across a PostgreSQL restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'capstan-pg-restart-'));
    chmodSync(dataDir, 0o755);
    const postgres = new PostgresProcess(join(dataDir, 'pg'), await freePort());
    await postgres.start();
    // The migrated template every other test clones, copied onto this server: what \`prisma migrate
    // deploy\` would build here (the template is built by it), in a second instead of ~13 s.
    execFileSync('sh', [
      '-c',
      'pg_dump --no-owner --no-privileges "$1" | psql -q -v ON_ERROR_STOP=1 "$2"',
      'copy',
      databaseUrl(templateDatabaseName()),
      postgres.url,
    ]);
    const stack = await startStack({ stepDelayMs: 300, database: { name: 'capstan', url: postgres.url, drop: async () => undefined } });
    try {
      const token = (await seedOrganization(stack.prisma)).token;
      const ops = await createClusters(stack, token, ['restart-a', 'restart-b', 'restart-c']);
      await waitForOperation(stack.prisma, ops[0]!.operationId, ['running']);

      await postgres.stop();
      await new Promise((r) => setTimeout(r, 2_000));
      await postgres.start();

      for (const op of ops) await waitForOperation(stack.prisma, op.operationId, ['succeeded'], 120_000);
      await expectEachCreatedOnce(
        stack,
        ops.map((o) => o.clusterId),
      );
    } finally {
      await stack.stop();
      await postgres.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);

  it("never runs one cluster's operation twice at once, even when two workers get it", async () => {
    const stack = await startStack({ inProcessWorker: false, stepDelayMs: 200 });
    const connection = new IORedis(stack.config.redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(OPERATIONS_QUEUE, { connection, prefix: `${stack.config.redis.prefix}:bull` });
    try {
      await Promise.all([stack.spawnWorker(), stack.spawnWorker()]);
      const token = (await seedOrganization(stack.prisma)).token;
      const ops = await createClusters(stack, token, ['race-a', 'race-b', 'race-c']);
      // A duplicate delivery of each operation under another job id: both workers will hold one.
      for (const op of ops) await queue.add('run', { operationId: op.operationId }, { jobId: `${op.operationId}-duplicate`, removeOnComplete: true });

      for (const op of ops) {
        const done = await waitForOperation(stack.prisma, op.operationId, ['succeeded'], 60_000);
        // Each step ran exactly once: the second delivery waited for the cluster lock, then found
        // the operation finished.
        expect(done.steps.map((s) => s.attempts)).toEqual(done.steps.map(() => 1));
      }
      await expectEachCreatedOnce(
        stack,
        ops.map((o) => o.clusterId),
      );
    } finally {
      // A connection handed to BullMQ stays the caller's to close.
      await queue.close();
      await connection.quit();
      await stack.stop();
    }
  }, 120_000);
});
