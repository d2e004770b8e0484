import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { pgConnectionFromUrl } from '../../libs/platform/src/database/pg-connection';
import { type ProcessUsage, sampleProcesses } from './processes';

/**
 * The hand-written baseline of bench/operations.bench.ts (issue 9 (b)): the same cluster creates
 * done without Capstan, with plain `pg` and BullMQ, making the same commits and the same cloud
 * calls against the same simulated cloud.
 *
 * - Create (this process, as the API's request): ONE transaction that locks the organisation's
 *   row (the quota check) and writes the cluster, its pool, the operation and its 7 planned
 *   steps, an outbox message, an event and an audit row; then the job is added to BullMQ and
 *   the message marked dispatched (the relay's commit).
 * - Run (`workers` child processes, baseline-operations-worker.ts): claim the operation (guarded
 *   by its status), then per step its cloud calls through the same simulated-cloud client the
 *   Capstan worker uses (ensureCluster, getCluster until running, ensureNodePool, getNodePool
 *   until ready, installAddons, issueCredentials) and one commit that checkpoints the step with
 *   the step's own writes (endpoint, credential, statuses); then the end with its event.
 *
 * What it leaves out is what Capstan adds on top: HTTP, authentication, validation, idempotency
 * and rate limits in the API; leases, yields, cancellation checks and retries in the worker.
 * Its tables are scratch ones (`bench_base_*`), dropped at the end.
 */

const QUEUE = 'baseline-operations';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
export const BASELINE_STEPS = [
  'reserve_endpoint',
  'create_control_plane',
  'wait_control_plane_ready',
  'create_node_pools',
  'install_addons',
  'issue_admin_credentials',
  'mark_running',
] as const;

export interface BaselineOperationJob {
  operationId: string;
}

export interface BaselineWorkerOptions {
  index: number;
  redisUrl: string;
  prefix: string;
  queue: string;
  databaseUrl: string;
  simulatorUrl: string;
  concurrency: number;
  poolSize: number;
  lockMs: number;
}

export interface OperationsBaselineOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  simulatorUrl: string;
  /** The Kubernetes version Capstan's creates ask for (from the catalogue). */
  version: string;
  region: string;
  pool: { machineType: string; count: number };
  operations: number;
  warmup: number;
  inFlight: number;
  workers: number;
  concurrency: number;
  poolSize: number;
  lockMs: number;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

export interface OperationsBaselineResult {
  /** From the first create committed to the last operation finished, ms. */
  wallMs: number;
  /** Per operation, created (its transaction's write) to finished, ms, ascending. */
  latencies: Float64Array;
  done: number;
  /** Operations claimed exactly once that succeeded. */
  exactlyOnce: number;
  workers: ProcessUsage[];
  /** Postgres commits per operation in the measured window (all processes, one database). */
  commitsPerOperation: number;
  /** Calls to the simulated cloud per operation. */
  cloudCallsPerOperation: number;
}

/** Runs `work(i)` for i in [from, to) with at most `inFlight` outstanding. */
export async function withBoundedConcurrency(from: number, to: number, inFlight: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = from;
  const lane = async () => {
    while (next < to) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, to - from) }, lane));
}

const SCHEMA = `
  CREATE TABLE bench_base_orgs (id text PRIMARY KEY, clusters int NOT NULL DEFAULT 0);
  CREATE TABLE bench_base_clusters (id text PRIMARY KEY, org_id text NOT NULL, name text NOT NULL, region text NOT NULL, version text NOT NULL,
    status text NOT NULL, endpoint text, ca_certificate text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE bench_base_node_pools (id text PRIMARY KEY, cluster_id text NOT NULL, name text NOT NULL, machine_type text NOT NULL, node_count int NOT NULL,
    status text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE bench_base_operations (id text PRIMARY KEY, cluster_id text NOT NULL, status text NOT NULL, runs int NOT NULL DEFAULT 0, progress int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(), started_at timestamptz, finished_at timestamptz);
  CREATE TABLE bench_base_steps (operation_id text NOT NULL, position int NOT NULL, name text NOT NULL, status text NOT NULL DEFAULT 'pending',
    checkpoint jsonb, finished_at timestamptz, PRIMARY KEY (operation_id, position));
  CREATE TABLE bench_base_outbox (id bigserial PRIMARY KEY, operation_id text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), dispatched_at timestamptz);
  CREATE TABLE bench_base_events (id bigserial PRIMARY KEY, source text NOT NULL, type text NOT NULL, data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE bench_base_audit (id bigserial PRIMARY KEY, org_id text NOT NULL, action text NOT NULL, target text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE bench_base_credentials (id text PRIMARY KEY, cluster_id text NOT NULL, sealed text NOT NULL, expires_at timestamptz NOT NULL);`;

const DROP = ['orgs', 'clusters', 'node_pools', 'operations', 'steps', 'outbox', 'events', 'audit', 'credentials'].map(
  (t) => `DROP TABLE IF EXISTS bench_base_${t}`,
);

interface RunningChild {
  pid: number;
  stop(): Promise<void>;
}

async function startWorker(options: BaselineWorkerOptions): Promise<RunningChild> {
  const child: ChildProcess = fork(join(__dirname, 'baseline-operations-worker.js'), [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'stop' }, (error) => error && child.kill('SIGKILL'));
    else child.kill('SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`baseline worker ${options.index} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.once('message', (message: { type?: string }) => {
        clearTimeout(timer);
        if (message.type === 'ready') resolve();
        else reject(new Error(`baseline worker ${options.index} sent ${JSON.stringify(message)}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`baseline worker ${options.index} exited (code ${code}) before it was ready`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { pid: child.pid!, stop };
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

async function simulatorCalls(url: string): Promise<number> {
  const summary = (await (await fetch(`${url}/v1/stats`)).json()) as { calls: Record<string, number> };
  return Object.values(summary.calls).reduce((a, b) => a + b, 0);
}

const baseId = (prefix: string) => `${prefix}_base${randomBytes(10).toString('hex')}`;

export async function runOperationsBaseline(options: OperationsBaselineOptions): Promise<OperationsBaselineResult> {
  const admin = new Client(pgConnectionFromUrl(options.databaseUrl));
  await admin.connect();
  // The API side's pool, as the API's (DATABASE_POOL_SIZE).
  const pool = new Pool({ ...pgConnectionFromUrl(options.databaseUrl), max: options.poolSize });
  pool.on('error', () => undefined);
  const prefix = `${options.redisPrefix}:baseline`;
  const connection = new IORedis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = new Queue<BaselineOperationJob>(QUEUE, { connection, prefix });
  const workers: RunningChild[] = [];
  const databaseName = (await admin.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
  const commits = async () =>
    Number((await admin.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [databaseName])).rows[0]!.n);
  try {
    await admin.query(SCHEMA);
    const org = baseId('org');
    await admin.query('INSERT INTO bench_base_orgs (id) VALUES ($1)', [org]);
    for (let index = 1; index <= options.workers; index++) {
      workers.push(
        await startWorker({
          index,
          redisUrl: options.redisUrl,
          prefix,
          queue: QUEUE,
          databaseUrl: options.databaseUrl,
          simulatorUrl: options.simulatorUrl,
          concurrency: options.concurrency,
          poolSize: options.poolSize,
          lockMs: options.lockMs,
        }),
      );
    }
    const sampler = sampleProcesses(workers.map((w) => w.pid));
    const jobOptions = (operationId: string) => ({
      jobId: operationId,
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    });

    /** The API's transaction, then the relay's add and mark. */
    const create = async (label: string): Promise<string> => {
      const clusterId = baseId('cl');
      const operationId = baseId('op');
      const client = await pool.connect();
      let outboxId: string;
      try {
        await client.query('BEGIN');
        await client.query('SELECT id FROM bench_base_orgs WHERE id = $1 FOR UPDATE', [org]);
        await client.query('UPDATE bench_base_orgs SET clusters = clusters + 1 WHERE id = $1', [org]);
        await client.query(`INSERT INTO bench_base_clusters (id, org_id, name, region, version, status) VALUES ($1, $2, $3, $4, $5, 'provisioning')`, [
          clusterId,
          org,
          label,
          options.region,
          options.version,
        ]);
        await client.query(
          `INSERT INTO bench_base_node_pools (id, cluster_id, name, machine_type, node_count, status) VALUES ($1, $2, 'default', $3, $4, 'provisioning')`,
          [baseId('np'), clusterId, options.pool.machineType, options.pool.count],
        );
        const { rows } = await client.query<{ id: string }>(
          `WITH op AS (INSERT INTO bench_base_operations (id, cluster_id, status) VALUES ($1, $2, 'pending')),
                steps AS (INSERT INTO bench_base_steps (operation_id, position, name) SELECT $1, s.ord - 1, s.name FROM unnest($3::text[]) WITH ORDINALITY AS s(name, ord))
           INSERT INTO bench_base_outbox (operation_id) VALUES ($1) RETURNING id::text`,
          [operationId, clusterId, BASELINE_STEPS],
        );
        outboxId = rows[0]!.id;
        await client.query(`INSERT INTO bench_base_events (source, type, data) VALUES ($1, 'operation.pending', $2::jsonb)`, [
          `/v1/operations/${operationId}`,
          JSON.stringify({ operation_id: operationId, cluster_id: clusterId, status: 'pending' }),
        ]);
        await client.query(`INSERT INTO bench_base_audit (org_id, action, target) VALUES ($1, 'cluster.create', $2)`, [org, clusterId]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
      await queue.add('run', { operationId }, jobOptions(operationId));
      await pool.query('UPDATE bench_base_outbox SET dispatched_at = clock_timestamp() WHERE id = $1', [outboxId]);
      return operationId;
    };

    let polls = 0;
    const doneCount = async () =>
      ++polls && Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM bench_base_operations WHERE status = 'succeeded'`)).rows[0]!.n);

    await withBoundedConcurrency(0, options.warmup, options.inFlight, async (i) => {
      await create(`warm-${i}`);
    });
    await waitUntil(async () => (await doneCount()) >= options.warmup, options.timeoutMs);
    const warmDone = await doneCount();

    const [commitsBefore, callsBefore] = await Promise.all([commits(), simulatorCalls(options.simulatorUrl)]);
    const pollsBefore = polls;
    sampler.mark();
    const measured: string[] = [];
    let firstAccepted: number | undefined;
    await withBoundedConcurrency(0, options.operations, options.inFlight, async (i) => {
      measured.push(await create(`base-${String(i).padStart(5, '0')}`));
      firstAccepted ??= Date.now();
    });
    await waitUntil(async () => (await doneCount()) - warmDone >= options.operations, options.timeoutMs);
    const usage = sampler.stop();
    const [commitsAfter, callsAfter] = await Promise.all([commits(), simulatorCalls(options.simulatorUrl)]);

    const { rows } = await admin.query<{ latency: number; finished: number; runs: number; status: string }>(
      `SELECT extract(epoch FROM finished_at - created_at) * 1000 AS latency, extract(epoch FROM finished_at) * 1000 AS finished, runs, status
         FROM bench_base_operations WHERE id = ANY($1::text[])`,
      [measured],
    );
    const finished = rows.filter((r) => r.status === 'succeeded');
    return {
      wallMs: Math.max(...finished.map((r) => Number(r.finished))) - firstAccepted!,
      latencies: Float64Array.from(finished.map((r) => Number(r.latency))).sort(),
      done: finished.length,
      exactlyOnce: finished.filter((r) => r.runs === 1).length,
      workers: workers.map((w) => usage.get(w.pid)!),
      // The polls of this process (doneCount, and the counter's own read) are not the baseline's work.
      commitsPerOperation: (commitsAfter - commitsBefore - (polls - pollsBefore) - 1) / options.operations,
      cloudCallsPerOperation: (callsAfter - callsBefore) / options.operations,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close().catch(() => undefined);
    connection.disconnect();
    await pool.end().catch(() => undefined);
    for (const statement of DROP) await admin.query(statement).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}
