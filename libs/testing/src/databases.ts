import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { WORKSPACE_ROOT, databaseUrl, templateDatabaseName } from './test-env';

async function withAdminClient<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Applies the migrations with the real Prisma CLI, as deployments do. */
export function migrate(url: string): void {
  execFileSync(join(WORKSPACE_ROOT, 'node_modules', '.bin', 'prisma'), ['migrate', 'deploy'], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'pipe',
  });
}

/**
 * Makes sure the migrated template exists. Built under a temporary name and renamed when done,
 * so parallel test runs never clone a half-migrated template.
 */
export async function ensureTemplateDatabase(): Promise<string> {
  const template = templateDatabaseName();
  const exists = await withAdminClient(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount === 1);
  if (exists) return template;
  const building = `${template}_b${randomBytes(3).toString('hex')}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quote(building)}`));
  migrate(databaseUrl(building));
  await withAdminClient(async (c) => {
    try {
      await c.query(`ALTER DATABASE ${quote(building)} RENAME TO ${quote(template)}`);
    } catch {
      // Another run finished first; its template is as good as ours.
      await c.query(`DROP DATABASE IF EXISTS ${quote(building)}`);
    }
  });
  return template;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of this test file's own: tests run in parallel without sharing rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = templateDatabaseName();
  const name = `capstan_t_${randomBytes(6).toString('hex')}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(template)}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`)).then(() => undefined),
  };
}

/** An empty database, for tests that build a schema themselves (e.g. the migration drift test). */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const name = `capstan_e_${randomBytes(6).toString('hex')}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quote(name)}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`)).then(() => undefined),
  };
}
