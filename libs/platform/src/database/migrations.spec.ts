import { createEmptyDatabase, createTestDatabase, WORKSPACE_ROOT } from '@capstan/testing';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

const prisma = join(WORKSPACE_ROOT, 'node_modules', '.bin', 'prisma');

function schemaDump(url: string): string {
  const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', '--exclude-table=_prisma_migrations', url], { encoding: 'utf8' });
  return dump
    .split('\n')
    .filter((line) => !line.startsWith('--') && !/^SET |^SELECT pg_catalog|^\\(un)?restrict /.test(line) && line.trim() !== '')
    .join('\n');
}

/**
 * `migrate dev` cannot run offline, so migrations are written by `npm run migration:new`
 * (`migrate diff`). This proves that applying the migrations and building the database straight
 * from schema.prisma give the same schema: a forgotten migration fails here. What schema.prisma
 * cannot say (a table's storage parameters) is in prisma/beyond-schema.sql, applied after it.
 */
describe('migrations', () => {
  it('produce the same database as schema.prisma', async () => {
    const migrated = await createTestDatabase();
    const fromSchema = await createEmptyDatabase();
    try {
      const sql = execFileSync(prisma, ['migrate', 'diff', '--from-empty', '--to-schema-datamodel', 'prisma/schema.prisma', '--script'], {
        cwd: WORKSPACE_ROOT,
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: fromSchema.url },
      });
      const client = new Client({ connectionString: fromSchema.url });
      await client.connect();
      await client.query(sql);
      await client.query(readFileSync(join(WORKSPACE_ROOT, 'prisma', 'beyond-schema.sql'), 'utf8'));
      await client.end();

      expect(schemaDump(migrated.url)).toEqual(schemaDump(fromSchema.url));
    } finally {
      await Promise.all([migrated.drop(), fromSchema.drop()]);
    }
  }, 60_000);
});
