import type { PoolConfig } from 'pg';

/**
 * Turns a `postgresql://` URL into discrete pg pool fields.
 *
 * Why not hand pg the URL: the Prisma driver adapter and the migration engine both take the
 * fields more reliably than a connection string (percent-encoded passwords, socket hosts), and
 * one parser here means the API, the workers, the CLI and the tests agree on what a URL means.
 */
export function pgConnectionFromUrl(databaseUrl: string): PoolConfig {
  const url = new URL(databaseUrl);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`expected a postgresql:// URL, got ${url.protocol}//`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error('the PostgreSQL URL names no database');
  const socketHost = url.searchParams.get('host');
  return {
    host: socketHost ?? (url.hostname || '127.0.0.1'),
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || 'postgres',
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    ssl: url.searchParams.get('sslmode') === 'require' ? { rejectUnauthorized: false } : undefined,
  };
}

/** The same URL pointing at another database on the same server (test databases, templates). */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
