import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where benches find their servers: DATABASE_URL / REDIS_URL when set, else the local defaults
 * (the same rule as `npm test`). Benches run from `dist/bench`, so the workspace root is found by
 * walking up to the Prisma schema rather than by a fixed number of `..`.
 */
export const BASE_DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export const WORKSPACE_ROOT = findWorkspaceRoot(__dirname);

function findWorkspaceRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'prisma', 'schema.prisma'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no prisma/schema.prisma above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The configured server's URL with another database name. */
export function databaseUrl(database: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Optional integer knob from the environment (e.g. BENCH_SECONDS), for quick local runs. */
export function numberSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return value;
}
