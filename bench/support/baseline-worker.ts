import { type Job, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { Pool } from 'pg';
// The module itself, not @capstan/platform's index, which would load Nest into the baseline.
import { pgConnectionFromUrl } from '../../libs/platform/src/database/pg-connection';
import { BASELINE_TABLE, type BaselineJob, type BaselineWorkerOptions } from './baseline-queue';

/**
 * Child-process entry point of the queue baseline in bench/operations.bench.ts: a bare BullMQ 5
 * worker whose every job is one `UPDATE` through a `pg` Pool, nothing else (no Nest, no Prisma,
 * no outbox, no provider). Settings mirror the Capstan worker's (concurrency, lock duration,
 * stalled check, pool size, a dedicated ioredis connection with `maxRetriesPerRequest: null`).
 * Reports `{ type: 'ready' }` over IPC once it is taking jobs; closes and exits on `stop`.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as BaselineWorkerOptions;
  const pool = new Pool({ ...pgConnectionFromUrl(options.databaseUrl), max: options.poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');
  const connection = new IORedis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const worker = new Worker<BaselineJob>(
    options.queue,
    async (job: Job<BaselineJob>) => {
      // Enqueued at (BullMQ's own timestamp) and done at, both on this machine's clock as the
      // Capstan side's are, for latency; runs, for exactly-once.
      await pool.query(
        `UPDATE ${BASELINE_TABLE} SET runs = runs + 1, worker = $2, enqueued_at = to_timestamp($3::float8 / 1000), done_at = to_timestamp($4::float8 / 1000) WHERE n = $1`,
        [job.data.n, options.index, job.timestamp, Date.now()],
      );
    },
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      maxStalledCount: 10,
    },
  );
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
  // The parent went away without saying stop: do not linger holding connections.
  process.on('disconnect', () => void stop(1));
  process.send!({ type: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
