import 'reflect-metadata';
import { startApi } from '@capstan/api';
import {
  type CapstanConfig,
  ConfigError,
  EmbeddedPostgresServer,
  EmbeddedRedisServer,
  loadConfig,
  Database,
  DatabasePool,
  RedisServerMissingError,
} from '@capstan/platform';
import { driverEnvironment, startSimulator } from '@capstan/simulator';
import { startSlaMonitor } from '@capstan/sla-monitor';
import { startWorker } from '@capstan/worker';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { LocalState } from './local-state';
import { seedDemo } from './seed-demo';
import { walkthrough } from './walkthrough';

/**
 * `npm start`: the whole of Capstan in one process for a laptop or a demo. API, worker and SLA
 * monitor run as three Nest applications side by side (each also runs alone from its own
 * main.ts). Where DATABASE_URL or REDIS_URL are not set, an embedded PostgreSQL and a local
 * redis-server are started with their data under .capstan/, so data survives a restart.
 */
const workspaceRoot = resolve(__dirname, '..', '..', '..', '..');
const EMBEDDED_POSTGRES_PORT = 54329;
const EMBEDDED_REDIS_PORT = 63799;

type Closable = { close(): Promise<unknown> };

async function main(): Promise<void> {
  const state = new LocalState(join(workspaceRoot, '.capstan'));
  const stops: (() => Promise<unknown>)[] = [];
  // warn, not info: the banner below is the walk through, and a request log line per CLI poll
  // would bury it. The README's configuration table says so; LOG_LEVEL set by you wins.
  const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn', ...process.env };

  if (!env.DATABASE_URL) {
    const postgres = new EmbeddedPostgresServer({ dataDir: state.path('postgres'), port: EMBEDDED_POSTGRES_PORT, database: 'capstan' });
    say(`starting embedded PostgreSQL (data in ${state.path('postgres')})`);
    await postgres.start();
    stops.push(() => postgres.stop());
    env.DATABASE_URL = postgres.url;
  }
  if (!env.REDIS_URL) {
    const redis = new EmbeddedRedisServer({ dataDir: state.path('redis'), port: EMBEDDED_REDIS_PORT });
    say('starting redis-server');
    await redis.start();
    stops.push(() => redis.stop());
    env.REDIS_URL = redis.url;
  }
  env.SECRETS_KEYS ??= state.secretsKeyring();

  // The simulated cloud: its own tables (schema `simulator`), API, and one HTTPS listener that
  // serves every simulated cluster's API server.
  const simulator = await startSimulator({
    databaseUrl: env.DATABASE_URL,
    host: '127.0.0.1',
    apiPort: Number(env.SIMULATOR_PORT ?? 8090),
    kubePort: Number(env.SIMULATOR_KUBE_PORT ?? 8443),
    gkePort: Number(env.SIMULATOR_GKE_PORT ?? 8091),
    stepDelayMs: Number(env.SIMULATOR_STEP_DELAY_MS ?? 3000),
    // The simulated cloud wants a credential like a real one; API and worker get it from env.
    apiToken: (env.SIMULATOR_API_TOKEN ??= randomBytes(32).toString('base64url')),
  });
  env.SIMULATOR_URL ??= simulator.apiUrl;
  // The product's own drivers run against the emulators, each setting you set yourself winning
  // (a real management cluster's kubeconfig, say).
  const emulated = await driverEnvironment(simulator, { kubeconfigPath: state.path('management.kubeconfig'), apiToken: env.SIMULATOR_API_TOKEN });
  for (const [name, value] of Object.entries(emulated)) env[name] ??= value;

  const config = loadConfig(env);
  say('applying database migrations');
  execFileSync(join(workspaceRoot, 'node_modules', '.bin', 'prisma'), ['migrate', 'deploy'], {
    cwd: workspaceRoot,
    env: { ...process.env, DATABASE_URL: config.database.url },
    stdio: 'pipe',
  });

  const credentials = await seedWith(config, state);
  const apps: Closable[] = [simulator, await startApi(config), await startWorker(config), await startSlaMonitor(config)];

  const shutdown = async (signal: string) => {
    say(`${signal}: stopping`);
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const url = config.http.publicUrl;
  process.stdout.write(
    [
      '',
      `Capstan is running (${config.provider.driver === 'drivers' ? 'RKE2 and GKE drivers against the emulated cloud' : 'simulated provider'}).`,
      `  API            ${url}/v1`,
      `  API docs       ${url}/docs`,
      `  OpenAPI        ${url}/openapi.json`,
      `  readiness      ${url}/readyz`,
      `  worker         http://${config.http.host}:${config.http.workerPort}/readyz`,
      `  SLA monitor    http://${config.http.host}:${config.http.slaMonitorPort}/readyz`,
      `  simulated cloud ${simulator.apiUrl}  (cluster API servers on ${simulator.kubeUrl}, GKE Container API on ${simulator.gkeUrl})`,
      `  management     kubectl --kubeconfig ${env.RKE2_MANAGEMENT_KUBECONFIG} get clusters.cluster.x-k8s.io,machinedeployments,machines -A`,
      '',
      `  demo token     ${credentials.customerToken}`,
      `  staff token    ${credentials.staffToken}`,
      '',
      '  try:',
      ...walkthrough({
        url,
        customerToken: credentials.customerToken,
        staffToken: credentials.staffToken,
        cliPath: join(workspaceRoot, 'dist', 'apps', 'cli', 'src', 'main.js'),
      }),
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

async function seedWith(config: CapstanConfig, state: LocalState) {
  const pool = new DatabasePool(config.database);
  try {
    return await seedDemo(new Database(pool), state);
  } finally {
    await pool.end();
  }
}

function say(line: string): void {
  process.stdout.write(`capstan: ${line}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof RedisServerMissingError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`capstan failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
