import type { AddressInfo } from 'node:net';
import type { ServerKind, ServerOptions } from './servers';

/**
 * Child-process entry point: serves one API under test on 127.0.0.1 and an ephemeral port, so the
 * load generator in the parent process gets a core of its own. `full` is the real NestJS app
 * (createApi), `bare` the hand-written baseline. Reports `{ port }` over IPC; closes and exits on
 * `stop` (a clean exit, so `--cpu-prof` can write its profile). Each kind loads only its own
 * code: the baseline process never loads Nest or Prisma.
 */
async function main(): Promise<void> {
  const [kind, json] = process.argv.slice(2) as [ServerKind, string];
  const options = JSON.parse(json) as ServerOptions;
  let close: () => Promise<unknown>;
  let port: number;
  if (kind === 'full') {
    const [{ createApi }, { loadConfig }] = await Promise.all([import('@capstan/api'), import('@capstan/platform')]);
    const config = loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      DATABASE_URL: options.databaseUrl,
      DATABASE_POOL_SIZE: String(options.poolSize),
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.redisPrefix,
      SECRETS_KEYS: options.secretsKeys,
      RATE_LIMIT_PER_MINUTE: String(options.rateLimitPerMinute),
      // `DATABASE_PREPARED_STATEMENTS=false node dist/bench/http.bench.js`: the API as it ran before
      // CompiledOnce named its statements, for a side-by-side of that change.
      ...(process.env.DATABASE_PREPARED_STATEMENTS ? { DATABASE_PREPARED_STATEMENTS: process.env.DATABASE_PREPARED_STATEMENTS } : {}),
    });
    const app = await createApi(config);
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.getHttpServer().address() as AddressInfo).port;
    close = () => app.close();
  } else {
    const { buildBareServer } = await import('./bare-server');
    const server = await buildBareServer(options.databaseUrl, options.poolSize);
    await server.listen({ host: '127.0.0.1', port: 0 });
    port = (server.server.address() as AddressInfo).port;
    close = () => server.close();
  }
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') {
      void close().finally(() => process.exit(0));
    }
    // The CPU this process has used so far (user + system, µs): the bench's CPU per request.
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ type: 'cpu', micros: user + system });
    }
  });
  // The parent went away without saying stop: do not linger holding connections.
  process.on('disconnect', () => process.exit(1));
  process.send!({ type: 'ready', port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
