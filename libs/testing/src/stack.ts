import { createApi } from '@capstan/api';
import { type CapstanConfig, Database, PrismaService } from '@capstan/platform';
import { driverEnvironment, type RunningSimulator, startSimulator } from '@capstan/simulator';
import { startWorker } from '@capstan/worker';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from './databases';
import { type FixtureDatabase, kyselyOf } from './fixtures';
import { freePort } from './ports';
import { testConfig } from './test-config';
import { WORKSPACE_ROOT } from './test-env';

export interface StackOptions {
  /** Environment overrides for API and workers (e.g. a REDIS_URL of the test's own). */
  env?: Record<string, string>;
  /** Simulated provider delay per step; 0 makes every step immediate. */
  stepDelayMs?: number;
  /** Run a worker inside the test process (fast), or none (start worker processes yourself). */
  inProcessWorker?: boolean;
  database?: TestDatabase;
  /**
   * Run the real drivers (RKE2 through Cluster API, GKE through the Container API) against the
   * simulator's emulators, as `npm start` does, instead of the older simulated cloud API.
   */
  drivers?: boolean;
}

export interface Stack {
  config: CapstanConfig;
  env: Record<string, string>;
  api: NestFastifyApplication;
  apiUrl: string;
  /** The in-process worker (absent with `inProcessWorker: false`), e.g. to scrape its /metrics. */
  worker?: NestFastifyApplication;
  /** The API's Kysely `Database` (new tests: query with this; `prisma` stays for existing ones). */
  database: Database;
  prisma: PrismaService;
  simulator: RunningSimulator;
  db: TestDatabase;
  /** Starts `node dist/apps/worker/src/main.js` with the stack's settings (npm test builds first). */
  spawnWorker(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  /**
   * Closes the in-process worker (as a rollout's SIGTERM does: runs hand their operations back)
   * and starts a new one with the same settings: waits and checkpoints must carry across.
   */
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Capstan end to end on one machine: a database of its own, the simulated cloud, the API on a real
 * port and, optionally, a worker. Fault tests spawn workers as real processes to kill them.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const db = options.database ?? (await createTestDatabase());
  // Driver stacks use the emulators' credentials as an installation would; the older tests call
  // the simulated cloud's API without one.
  const apiToken = options.drivers ? randomBytes(32).toString('base64url') : undefined;
  const simulator = await startSimulator({
    databaseUrl: db.url,
    host: '127.0.0.1',
    apiPort: await freePort(),
    kubePort: await freePort(),
    gkePort: await freePort(),
    stepDelayMs: options.stepDelayMs ?? 0,
    ...(apiToken ? { apiToken } : {}),
  });
  const drivers = apiToken
    ? await driverEnvironment(simulator, { kubeconfigPath: join(mkdtempSync(join(tmpdir(), 'capstan-stack-')), 'management.kubeconfig'), apiToken })
    : { PROVIDER: 'simulated' };
  const env: Record<string, string> = {
    SIMULATOR_URL: simulator.apiUrl,
    ...(apiToken ? { SIMULATOR_API_TOKEN: apiToken } : {}),
    ...drivers,
    RECONCILE_INTERVAL_MS: '1000',
    OPERATION_BACKOFF_MS: '100',
    JOB_LOCK_MS: '2000',
    WORKER_PORT: '0',
    // A step's wait may run long on a loaded machine: beside CPU burners an emulated RKE2 control
    // plane created alongside three others answered only after 60 s. No test waits for this to
    // fail a step; those that test timeouts set their own.
    STEP_TIMEOUT_MS: '180000',
    ...options.env,
  };
  const config = testConfig(db.url, env);
  const api = await createApi(config);
  await api.listen({ host: '127.0.0.1', port: 0 });
  let worker = options.inProcessWorker === false ? undefined : await startWorker(config);
  const children: ChildProcess[] = [];

  const childEnv = (extra: Record<string, string>) => ({
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DATABASE_URL: config.database.url,
    REDIS_URL: config.redis.url,
    REDIS_PREFIX: config.redis.prefix,
    SECRETS_KEYS: config.secrets.keyring.map((k) => `${k.id}:${k.key.toString('base64')}`).join(','),
    ...env,
    ...extra,
  });

  const apiUrl = (await api.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    config,
    env,
    api,
    apiUrl,
    worker,
    database: api.get(Database),
    prisma: api.get(PrismaService),
    simulator,
    db,
    async spawnWorker(extraEnv = {}) {
      const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist', 'apps', 'worker', 'src', 'main.js')], {
        env: childEnv(extraEnv),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let errors = '';
      child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
      child.once('exit', (code, signal) => {
        if (code && code !== 0 && signal === null) process.stderr.write(`worker exited with ${code}: ${errors}\n`);
      });
      return child;
    },
    async restartWorker() {
      await worker?.close();
      worker = await startWorker(config);
    },
    async stop() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // Bounded: a close stuck on a connection that died with its server must not hang the suite.
      await withinSeconds(10, worker?.close());
      await withinSeconds(10, api.close());
      await withinSeconds(10, simulator.close());
      if (!options.database) await db.drop();
    },
  };
}

/** Waits until an operation reaches one of `statuses`, failing with its last state if it does not. */
export async function waitForOperation(database: FixtureDatabase, id: string, statuses: string[] = ['succeeded'], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const db = kyselyOf(database);
  for (;;) {
    const row = await db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const steps = await db.selectFrom('operation_steps').selectAll().where('operation_id', '=', id).orderBy('position').execute();
    // The operation row as it is, plus the two names tests read in the shape they have always had.
    const op = { ...row, finishedAt: row.finished_at, steps };
    if (statuses.includes(op.status)) return op;
    if (['succeeded', 'failed', 'cancelled'].includes(op.status) || Date.now() > deadline) {
      throw new Error(
        `operation ${id} is ${op.status} (wanted ${statuses.join('/')}): ${JSON.stringify(op.error)} steps ${op.steps.map((s) => `${s.name}:${s.status}`).join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function withinSeconds(seconds: number, work: Promise<unknown> | undefined): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, seconds * 1000)))]);
  clearTimeout(timer);
}
