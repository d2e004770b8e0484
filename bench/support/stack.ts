import { OPERATIONS_QUEUE } from '@capstan/operations';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from '../../libs/testing/src/stack';
import { WORKSPACE_ROOT as HARNESS_ROOT } from '../../libs/testing/src/test-env';
import { WORKSPACE_ROOT } from './environment';

/**
 * Worker processes for a `startStack()` stack, from a bench running in `dist/bench`.
 *
 * `stack.spawnWorker()` runs `<WORKSPACE_ROOT>/dist/apps/worker/src/main.js`, where the harness's
 * WORKSPACE_ROOT is three directories above libs/testing/src/test-env: right under jest (sources),
 * but `dist/` once compiled, so from a bench it points at `dist/dist/...`, which does not exist.
 * Then this starts the same file the same way (same command, environment and stdio as
 * `spawnWorker`'s); once the harness finds the root from either place, `spawnWorker` is used.
 */
export function spawnStackWorker(stack: Stack, extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  if (existsSync(join(HARNESS_ROOT, 'dist', 'apps', 'worker', 'src', 'main.js'))) return stack.spawnWorker(extraEnv);
  const { config } = stack;
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist', 'apps', 'worker', 'src', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      DATABASE_URL: config.database.url,
      REDIS_URL: config.redis.url,
      REDIS_PREFIX: config.redis.prefix,
      SECRETS_KEYS: config.secrets.keyring.map((k) => `${k.id}:${k.key.toString('base64')}`).join(','),
      ...stack.env,
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (code && code !== 0 && signal === null) process.stderr.write(`worker exited with ${code}: ${errors}\n`);
  });
  return Promise.resolve(child);
}

/**
 * Waits until `count` BullMQ workers are attached to the operations queue of the stack (BullMQ
 * names its workers' Redis connections after the queue, so CLIENT LIST shows them).
 */
export async function waitForOperationWorkers(stack: Stack, count: number, children: ChildProcess[], timeoutMs = 60_000): Promise<void> {
  const connection = new IORedis(stack.config.redis.url, { maxRetriesPerRequest: 1 });
  connection.on('error', () => undefined);
  const queue = new Queue(OPERATIONS_QUEUE, { connection, prefix: `${stack.config.redis.prefix}:bull` });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead) throw new Error(`worker process ${dead.pid} exited (code ${dead.exitCode}, signal ${dead.signalCode}) before it was ready`);
      if ((await queue.getWorkersCount()) >= count) return;
      if (Date.now() > deadline) throw new Error(`${count} operation workers did not attach to the queue within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}
