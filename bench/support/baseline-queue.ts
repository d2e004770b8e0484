import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { pgConnectionFromUrl } from '../../libs/platform/src/database/pg-connection';
import { type ProcessUsage, sampleProcesses } from './processes';

/**
 * The floor under bench/operations.bench.ts: what BullMQ and one Postgres write per job cost on
 * this machine, with nothing of Capstan's in between. The bench process adds `jobs` jobs with
 * `inFlight` adds outstanding (as Capstan's creates are sent), `workers` child processes
 * (baseline-worker.ts) process them, each job one `UPDATE` of a scratch table.
 */

export const BASELINE_TABLE = 'bench_queue_jobs';
const QUEUE = 'baseline';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface BaselineJob {
  n: number;
}

export interface BaselineWorkerOptions {
  index: number;
  redisUrl: string;
  /** BullMQ key prefix (under the run's own Redis prefix). */
  prefix: string;
  queue: string;
  databaseUrl: string;
  concurrency: number;
  poolSize: number;
  lockMs: number;
}

export interface QueueBaselineOptions {
  databaseUrl: string;
  redisUrl: string;
  /** The run's own Redis prefix; the baseline's keys go under `<prefix>:baseline`. */
  redisPrefix: string;
  jobs: number;
  warmupJobs: number;
  inFlight: number;
  workers: number;
  concurrency: number;
  poolSize: number;
  lockMs: number;
  /** The job options Capstan's relay uses (attempts, backoff), so BullMQ does the same work per job. */
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

export interface QueueBaselineResult {
  /** From the first add accepted to the last job's UPDATE, ms. */
  wallMs: number;
  /** Per job, enqueued (BullMQ timestamp) to done (its UPDATE issued), ms, ascending. */
  latencies: Float64Array;
  done: number;
  /** Jobs whose row was updated exactly once. */
  exactlyOnce: number;
  workers: ProcessUsage[];
  /** CPU ms of this (adding) process during the measured window. */
  producerCpuMs: number;
}

interface RunningChild {
  pid: number;
  stop(): Promise<void>;
}

async function startWorker(options: BaselineWorkerOptions): Promise<RunningChild> {
  const child: ChildProcess = fork(join(__dirname, 'baseline-worker.js'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

/** Runs `work(i)` for i in [from, to) with at most `inFlight` outstanding. */
export async function withBoundedConcurrency(from: number, to: number, inFlight: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = from;
  const lane = async () => {
    while (next < to) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, to - from) }, lane));
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function runQueueBaseline(options: QueueBaselineOptions): Promise<QueueBaselineResult> {
  const total = options.warmupJobs + options.jobs;
  const db = new Client(pgConnectionFromUrl(options.databaseUrl));
  await db.connect();
  const prefix = `${options.redisPrefix}:baseline`;
  const connection = new IORedis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = new Queue<BaselineJob>(QUEUE, { connection, prefix });
  const workers: RunningChild[] = [];
  try {
    await db.query(`CREATE TABLE ${BASELINE_TABLE} (n int PRIMARY KEY, runs int NOT NULL DEFAULT 0, worker int, enqueued_at timestamptz, done_at timestamptz)`);
    await db.query(`INSERT INTO ${BASELINE_TABLE} (n) SELECT generate_series(1, $1::int)`, [total]);
    for (let index = 1; index <= options.workers; index++) {
      workers.push(
        await startWorker({
          index,
          redisUrl: options.redisUrl,
          prefix,
          queue: QUEUE,
          databaseUrl: options.databaseUrl,
          concurrency: options.concurrency,
          poolSize: options.poolSize,
          lockMs: options.lockMs,
        }),
      );
    }
    const sampler = sampleProcesses(workers.map((w) => w.pid));
    const jobOptions = (n: number) => ({
      jobId: `job-${n}`,
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    });
    const add = (n: number) => queue.add('run', { n }, jobOptions(n)).then(() => undefined);
    const doneAbove = async (above: number) =>
      Number((await db.query<{ done: string }>(`SELECT count(*) AS done FROM ${BASELINE_TABLE} WHERE n > $1 AND done_at IS NOT NULL`, [above])).rows[0]!.done);

    await withBoundedConcurrency(1, options.warmupJobs + 1, options.inFlight, add);
    await waitUntil(async () => (await doneAbove(0)) >= options.warmupJobs, options.timeoutMs, 'the baseline warm-up');

    sampler.mark();
    const producerCpu = process.cpuUsage();
    let firstAdded: number | undefined;
    await withBoundedConcurrency(options.warmupJobs + 1, total + 1, options.inFlight, async (n) => {
      await add(n);
      firstAdded ??= Date.now();
    });
    await waitUntil(async () => (await doneAbove(options.warmupJobs)) >= options.jobs, options.timeoutMs, `${options.jobs} baseline jobs`).catch(
      () => undefined,
    );
    const cpu = process.cpuUsage(producerCpu);
    const usage = sampler.stop();

    const { rows } = await db.query<{ latency: number; done: number; runs: number }>(
      `SELECT extract(epoch FROM done_at - enqueued_at) * 1000 AS latency, extract(epoch FROM done_at) * 1000 AS done, runs
         FROM ${BASELINE_TABLE} WHERE n > $1`,
      [options.warmupJobs],
    );
    const finished = rows.filter((r) => r.latency !== null);
    const lastDone = Math.max(...finished.map((r) => Number(r.done)));
    return {
      wallMs: lastDone - firstAdded!,
      latencies: Float64Array.from(finished.map((r) => Number(r.latency))).sort(),
      done: finished.length,
      exactlyOnce: rows.filter((r) => r.runs === 1).length,
      workers: workers.map((w) => usage.get(w.pid)!),
      producerCpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await queue.close().catch(() => undefined);
    connection.disconnect();
    await db.query(`DROP TABLE IF EXISTS ${BASELINE_TABLE}`).catch(() => undefined);
    await db.end().catch(() => undefined);
  }
}
