import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where tests find PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set (CI, a laptop with
 * its own servers), else the local defaults. Tests never mock either.
 */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The repository root, found from here whether this runs from source or from dist/. */
export const WORKSPACE_ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'prisma', 'schema.prisma'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no prisma/schema.prisma above ${__dirname}`);
    dir = parent;
  }
  return dir;
})();
const MIGRATIONS_DIR = join(WORKSPACE_ROOT, 'prisma', 'migrations');

/**
 * The template database holding every migration. Its name is a hash of the migrations, so a
 * changed migration gets a new template and an unchanged one is reused across runs.
 */
export function templateDatabaseName(): string {
  const hash = createHash('sha256');
  for (const entry of readdirSync(MIGRATIONS_DIR).sort()) {
    const path = join(MIGRATIONS_DIR, entry);
    if (statSync(path).isDirectory()) {
      hash.update(entry);
      hash.update(readFileSync(join(path, 'migration.sql')));
    }
  }
  return `capstan_tpl_${hash.digest('hex').slice(0, 16)}`;
}

/** The test server's URL with another database name. */
export function databaseUrl(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}
