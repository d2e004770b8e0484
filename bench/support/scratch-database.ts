import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { databaseUrl, WORKSPACE_ROOT } from './environment';

/**
 * Scratch databases for one bench run, cloned from the migrated template exactly as
 * libs/testing/src/databases.ts does (same template name, so a template built by `npm test` is
 * reused and vice versa). That module cannot be imported from `dist/`: it locates the migrations
 * relative to its own source directory.
 */

const MIGRATIONS_DIR = join(WORKSPACE_ROOT, 'prisma', 'migrations');
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function withAdminClient<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** `capstan_tpl_<hash of the migrations>`, as in libs/testing/src/test-env.ts. */
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

/** Builds the template under a temporary name and renames it when migrated, so no run clones half of one. */
async function ensureTemplateDatabase(): Promise<string> {
  const template = templateDatabaseName();
  const exists = await withAdminClient(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount === 1);
  if (exists) return template;
  const building = `${template}_b${randomBytes(3).toString('hex')}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quote(building)}`));
  execFileSync(join(WORKSPACE_ROOT, 'node_modules', '.bin', 'prisma'), ['migrate', 'deploy'], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl(building) },
    stdio: 'pipe',
  });
  await withAdminClient(async (c) => {
    try {
      await c.query(`ALTER DATABASE ${quote(building)} RENAME TO ${quote(template)}`);
    } catch {
      await c.query(`DROP DATABASE IF EXISTS ${quote(building)}`);
    }
  });
  return template;
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of this run's own; `drop()` removes it even with connections open. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const template = await ensureTemplateDatabase();
  const name = `capstan_bench_${randomBytes(6).toString('hex')}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(template)}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`)).then(() => undefined),
  };
}
