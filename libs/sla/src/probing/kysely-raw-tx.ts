import { type DB, Prisma, type RawTx } from '@capstan/platform';
import { CompiledQuery, type Transaction } from 'kysely';

/**
 * A Kysely transaction seen as a `RawTx`, so the statements of libraries that still take one (the
 * event log's `EventsService.record`) join the same transaction as this library's Kysely writes:
 * an alert's state and the event announcing it commit together or not at all. The statements are
 * theirs, already built; this only runs their text and values on the transaction's connection.
 */
export function rawTxOf(trx: Transaction<DB>): RawTx {
  const statementOf = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]) => (query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values));
  const queryRaw = async (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => {
    const statement = statementOf(query, values);
    return (await trx.executeQuery(CompiledQuery.raw(statement.text, statement.values))).rows;
  };
  const executeRaw = async (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => {
    const statement = statementOf(query, values);
    return Number((await trx.executeQuery(CompiledQuery.raw(statement.text, statement.values))).numAffectedRows ?? 0n);
  };
  return { $queryRaw: queryRaw, $executeRaw: executeRaw } as unknown as RawTx;
}
