import type { Database } from '@capstan/platform';
import { sql } from 'kysely';

/** Columns that change by design when a request is only read: a token records that it was used. */
const READ_TOUCHED_COLUMNS = ['last_used_at'];

/**
 * A digest of every row of every table of the application (all schemas but Postgres' own, so a
 * table added tomorrow is covered): equal digests mean nothing was written. Only Prisma's
 * migration journal is left out.
 */
export async function databaseFingerprint(database: Database): Promise<Record<string, string>> {
  // Kysely's `sql` template throughout: the catalogue is not in the generated types, and each
  // table is only known at run time, which the typed builder cannot express.
  const { rows: tables } = await sql<{ schema: string; name: string }>`
    SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') AND table_name <> '_prisma_migrations'
    ORDER BY table_schema, table_name`.execute(database);
  const result: Record<string, string> = {};
  const strip = sql.raw(READ_TOUCHED_COLUMNS.map((c) => ` - '${c}'`).join(''));
  for (const { schema, name } of tables) {
    const { rows } = await sql<{ n: bigint; digest: string | null }>`
      SELECT count(*) AS n, md5(string_agg((to_jsonb(t)${strip})::text, '|' ORDER BY (to_jsonb(t)${strip})::text)) AS digest
      FROM ${sql.table(`${schema}.${name}`)} t`.execute(database);
    result[`${schema}.${name}`] = `${rows[0]?.n ?? 0}:${rows[0]?.digest ?? ''}`;
  }
  return result;
}
