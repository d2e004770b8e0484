import { parse, toClientConfig } from 'pg-connection-string';
import type { PoolConfig } from 'pg';

/**
 * Turns a `postgresql://` URL into discrete pg pool fields.
 *
 * Why not hand pg the URL: the Prisma driver adapter and the migration engine both take the
 * fields more reliably than a connection string (percent-encoded passwords, socket hosts), and
 * one parser here means the API, the workers, the CLI and the tests agree on what a URL means.
 *
 * The parsing is pg-connection-string's, with libpq's meaning of `sslmode` (`useLibpqCompat`),
 * so a URL means here what it means to psql (docs/architecture.md, "Connecting to PostgreSQL"):
 *   disable       plain text;
 *   prefer        TLS without verifying the server. node-postgres cannot fall back to plain
 *                 text when the server offers no TLS, as libpq does: the connection fails;
 *   require       TLS without verifying the server, unless `sslrootcert` is given (then as verify-ca);
 *   verify-ca     TLS, the server's certificate must chain to `sslrootcert` (required), any host name;
 *   verify-full   TLS, the certificate must chain to `sslrootcert` (or the system CAs) and name the host.
 * Without `sslmode` the connection is plain text, as it always was here.
 */
export function pgConnectionFromUrl(databaseUrl: string): PoolConfig {
  const url = new URL(databaseUrl);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`expected a postgresql:// URL, got ${url.protocol}//`);
  }
  const parsed = toClientConfig(parse(databaseUrl, { useLibpqCompat: true }));
  if (!parsed.database) throw new Error('the PostgreSQL URL names no database');
  return {
    host: parsed.host || '127.0.0.1',
    port: parsed.port ?? 5432,
    user: parsed.user || 'postgres',
    password: typeof parsed.password === 'string' && parsed.password !== '' ? parsed.password : undefined,
    database: parsed.database,
    ssl: parsed.ssl,
  };
}

/** The same URL pointing at another database on the same server (test databases, templates). */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
