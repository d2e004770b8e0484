import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { DB } from './generated/kysely-types';

/**
 * What a repository method takes: the process's `Database` outside a transaction, or the
 * `Transaction<DB>` of `db.transaction().execute(trx => ...)` inside one. `Transaction<DB>` is a
 * `Kysely<DB>`, so one signature serves both and a use case decides where the boundary is
 * (docs/architecture.md, Data access).
 */
export type UnitOfWork = Kysely<DB>;

/** A unit of work that is certainly a transaction (for code that takes row locks). */
export type TransactionOf = Transaction<DB>;

/**
 * A JSON value for a `jsonb` column, serialised by us and cast in SQL: pg would turn a JS array
 * into a Postgres array, not JSON.
 */
export function jsonb(value: unknown): RawBuilder<unknown> {
  return sql<unknown>`${JSON.stringify(value)}::jsonb`;
}
