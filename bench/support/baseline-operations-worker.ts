import { type Job, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { Pool } from 'pg';
// Modules themselves, not the libraries' index files, which would load Nest into the baseline.
import { managedAddonsFor } from '../../libs/domain/src/addons/managed-stack';
import { pgConnectionFromUrl } from '../../libs/platform/src/database/pg-connection';
import { externalClusterName, externalNodePoolName } from '../../libs/providers/src/cluster-provider';
import { SimulatedProvider } from '../../libs/providers/src/simulated/simulated-provider';
import { BASELINE_STEPS, type BaselineOperationJob, type BaselineWorkerOptions } from './baseline-operations';

const ADMIN_CREDENTIAL_TTL_SECONDS = 365 * 24 * 3600;

/** Polls as Capstan's waits do (100 ms, doubling), inline: with an instant cloud the first one answers. */
async function poll<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Child-process entry point of the hand-written baseline (baseline-operations.ts): a bare BullMQ
 * worker that runs a cluster create's 7 steps with plain `pg` and the simulated-cloud client, one
 * commit per step. Settings mirror the Capstan worker's (concurrency, lock duration, stalled
 * check, pool size). Reports `{ type: 'ready' }` over IPC; closes and exits on `stop`.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as BaselineWorkerOptions;
  const pool = new Pool({ ...pgConnectionFromUrl(options.databaseUrl), max: options.poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');
  const cloud = new SimulatedProvider({ apiUrl: options.simulatorUrl });
  const connection = new IORedis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);

  const checkpoint = (operationId: string, position: number, value: unknown, progress: number) =>
    pool.query(
      `WITH op AS (UPDATE bench_base_operations SET progress = $4 WHERE id = $1)
       UPDATE bench_base_steps SET status = 'succeeded', checkpoint = $3::jsonb, finished_at = clock_timestamp() WHERE operation_id = $1 AND position = $2`,
      [operationId, position, JSON.stringify(value ?? null), progress],
    );

  const run = async (operationId: string) => {
    // Claimed once: a second delivery finds it running or done and does nothing.
    const claimed = await pool.query<{
      cluster_id: string;
      name: string;
      region: string;
      version: string;
      pool_id: string;
      machine_type: string;
      node_count: number;
    }>(
      `WITH op AS (UPDATE bench_base_operations SET status = 'running', runs = runs + 1, started_at = clock_timestamp() WHERE id = $1 AND status = 'pending' RETURNING cluster_id)
       SELECT c.id AS cluster_id, c.name, c.region, c.version, p.id AS pool_id, p.machine_type, p.node_count
         FROM op JOIN bench_base_clusters c ON c.id = op.cluster_id JOIN bench_base_node_pools p ON p.cluster_id = c.id`,
      [operationId],
    );
    const row = claimed.rows[0];
    if (!row) return;
    const name = externalClusterName(row.cluster_id);
    const poolName = externalNodePoolName(row.pool_id);
    const progress = (position: number) => Math.floor((100 * (position + 1)) / BASELINE_STEPS.length);

    await checkpoint(operationId, 0, { externalName: name }, progress(0));
    const created = await cloud.ensureCluster({ name, flavour: 'rke2', region: row.region, version: row.version, labels: {} });
    await checkpoint(operationId, 1, { externalName: created.name }, progress(1));
    const ready = await poll(async () => {
      const current = await cloud.getCluster(name);
      return current && current.status === 'running' && current.endpoint ? current : undefined;
    });
    await pool.query(
      `WITH c AS (UPDATE bench_base_clusters SET endpoint = $2, ca_certificate = $3, updated_at = clock_timestamp() WHERE id = $1)
       UPDATE bench_base_steps SET status = 'succeeded', checkpoint = $4::jsonb, finished_at = clock_timestamp() WHERE operation_id = $5 AND position = 2`,
      [row.cluster_id, ready.endpoint, ready.caCertificate, JSON.stringify({ endpoint: ready.endpoint }), operationId],
    );
    await cloud.ensureNodePool(name, {
      name: poolName,
      machineType: row.machine_type,
      count: row.node_count,
      autoscaling: null,
      version: row.version,
      labels: {},
      taints: [],
      maxSurge: 1,
      maxUnavailable: 0,
    });
    const nodes = await poll(async () => {
      const current = await cloud.getNodePool(name, poolName);
      return current && current.status === 'running' && current.nodes.length === current.count && current.nodes.every((n) => n.ready) ? current : undefined;
    });
    await checkpoint(operationId, 3, { pools: [{ pool: row.pool_id, nodes: nodes.nodes.length }] }, progress(3));
    const addons = managedAddonsFor(row.version);
    await cloud.installAddons(name, addons);
    await checkpoint(operationId, 4, { addons }, progress(4));
    const credentials = await cloud.issueCredentials(name, ADMIN_CREDENTIAL_TTL_SECONDS);
    await pool.query(
      `WITH cred AS (INSERT INTO bench_base_credentials (id, cluster_id, sealed, expires_at) VALUES ($1, $2, $3, $4))
       UPDATE bench_base_steps SET status = 'succeeded', checkpoint = $5::jsonb, finished_at = clock_timestamp() WHERE operation_id = $6 AND position = 5`,
      [
        `cred_${operationId}`,
        row.cluster_id,
        JSON.stringify(credentials),
        credentials.expiresAt,
        JSON.stringify({ credentialId: `cred_${operationId}` }),
        operationId,
      ],
    );
    await pool.query(
      `WITH pools AS (UPDATE bench_base_node_pools SET status = 'running', updated_at = clock_timestamp() WHERE cluster_id = $1),
            c AS (UPDATE bench_base_clusters SET status = 'running', updated_at = clock_timestamp() WHERE id = $1)
       UPDATE bench_base_steps SET status = 'succeeded', finished_at = clock_timestamp() WHERE operation_id = $2 AND position = 6`,
      [row.cluster_id, operationId],
    );
    await pool.query(
      `WITH e AS (INSERT INTO bench_base_events (source, type, data) VALUES ('/v1/operations/' || $1, 'operation.succeeded', json_build_object('operation_id', $1::text)::jsonb))
       UPDATE bench_base_operations SET status = 'succeeded', progress = 100, finished_at = clock_timestamp() WHERE id = $1 AND status = 'running'`,
      [operationId],
    );
  };

  const worker = new Worker<BaselineOperationJob>(options.queue, async (job: Job<BaselineOperationJob>) => run(job.data.operationId), {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    maxStalledCount: 10,
  });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  let stopping: Promise<void> | undefined;
  const stop = (code: number) =>
    (stopping ??= (async () => {
      await worker.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      connection.disconnect();
      process.exit(code);
    })());
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') void stop(0);
  });
  process.on('disconnect', () => void stop(1));
  process.send!({ type: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
