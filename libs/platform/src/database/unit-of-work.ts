import { type CompiledQuery, type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { DB } from './generated/kysely-types';
import type { PrismaTx } from './prisma.service';
import { Prisma } from './generated/client';

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
 * Transitional: what `EventsService` and `AuditLog` accept besides a `UnitOfWork`. No product code
 * passes one any more (libs/sla is on Kysely); their own tests still record inside Prisma
 * transactions. It goes, with `isUnitOfWork` and `runOnRawTx`, once those tests do not
 * (docs/architecture.md, Units of work).
 */
export type RawTx = Pick<PrismaTx, '$queryRaw' | '$executeRaw'>;

/** Whether `tx` is a Kysely unit of work rather than a transitional `RawTx`. */
export function isUnitOfWork(tx: UnitOfWork | RawTx): tx is UnitOfWork {
  return !('$queryRaw' in tx);
}

/**
 * Transitional, the other way round: a Kysely statement run on a `RawTx` that a not-yet-converted
 * caller passed in (today only tests' Prisma transactions). Kysely numbers its parameters
 * `$1..$n` in order, each once, which is exactly the shape of a `Prisma.Sql`.
 */
export async function runOnRawTx<R>(tx: RawTx, compiled: CompiledQuery<R>): Promise<R[]> {
  const strings = compiled.sql.split(/\$\d+/);
  if (strings.length !== compiled.parameters.length + 1) throw new Error('a compiled statement whose parameters are not $1..$n in order');
  return (await tx.$queryRaw(new Prisma.Sql(strings, compiled.parameters as unknown[]))) as R[];
}

/**
 * A JSON value for a `jsonb` column, serialised by us and cast in SQL: pg would turn a JS array
 * into a Postgres array, not JSON, and a statement that also runs through `runOnRawTx` needs the
 * cast because Prisma sends strings typed as text.
 */
export function jsonb(value: unknown): RawBuilder<unknown> {
  return sql<unknown>`${JSON.stringify(value)}::jsonb`;
}
