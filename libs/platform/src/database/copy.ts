import type { CompiledQuery } from 'kysely';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { DB } from './generated/kysely-types';
import type { Database } from './database';

/**
 * Bulk writes through `COPY ... FROM STDIN`, the one statement Kysely cannot build: for a few
 * thousand rows per batch it costs a fraction of an `INSERT ... SELECT unnest(...)` (no array
 * parameters to serialise and parse). Table and column names are typed from the schema; the rows
 * travel in COPY's text format, escaped here.
 */
export type CopyValue = string | number | bigint | boolean | Date | null;

export async function copyInto<T extends keyof DB & string>(
  client: PoolClient,
  table: T,
  columns: readonly (keyof DB[T] & string)[],
  rows: readonly (readonly CopyValue[])[],
): Promise<void> {
  if (rows.length === 0) return;
  const target = `COPY "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) FROM STDIN`;
  await pipeline(Readable.from(chunks(rows)), client.query(copyFrom(target)));
}

/** ~64 KiB chunks: one write per chunk, not per row. */
function* chunks(rows: readonly (readonly CopyValue[])[]): Generator<string> {
  let buffer = '';
  for (const row of rows) {
    buffer += row.map(encode).join('\t') + '\n';
    if (buffer.length >= 65_536) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

function encode(value: CopyValue): string {
  if (value === null) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value !== 'string') return String(value);
  // COPY text format: backslash, and the delimiter/row characters, are escaped with backslashes.
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * Runs `work` in one transaction on a client of its own, for the rare writer that needs COPY next
 * to ordinary statements: those are still built with Kysely (`query.compile()`) and run through
 * `run`. A client whose statement failed is discarded, not returned to the pool.
 */
export async function withCopyTransaction<T>(
  db: Database,
  work: (tx: { client: PoolClient; run: <R>(query: CompiledQuery<R>) => Promise<R[]> }) => Promise<T>,
): Promise<T> {
  const client = await db.pgPool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work({ client, run: async <R>(query: CompiledQuery<R>) => (await client.query(query.sql, [...query.parameters])).rows as R[] });
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(failure);
  }
}
