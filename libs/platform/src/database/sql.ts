import { Injectable } from '@nestjs/common';
import type { Pool, QueryResultRow } from 'pg';
import { Prisma } from './generated/client';
import { inTransaction } from './pg-transaction';
import { PrismaService, type PrismaTx } from './prisma.service';

/**
 * What code that only runs raw statements needs of a transaction: Prisma's interactive one or
 * `Sql.transaction`'s, which offers the same two methods on a plain `pg` connection. Results differ
 * in one way: pg gives bigint as a string where Prisma gives a BigInt (use Number() on counts).
 */
export type RawTx = Pick<PrismaTx, '$queryRaw' | '$executeRaw'>;

type Raw = (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => Promise<unknown>;

/** A tagged template or a built `Prisma.sql`, as Prisma's `$queryRaw` accepts both. */
function statementOf(query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql {
  return query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
}

/**
 * Transitional: plain `pg` on the process's pool for the code not yet on Kysely (libs/operations,
 * libs/sla), which still writes `Prisma.sql` templates. Everything else queries through `Database`
 * (docs/architecture.md, Data access); this class, `RawTx` and the bridges in unit-of-work.ts go
 * once those libraries take a `UnitOfWork`.
 */
@Injectable()
export class Sql {
  private readonly pool: Pool;

  constructor(prisma: PrismaService) {
    this.pool = prisma.pool;
  }

  /** The rows of one statement, with pg's own type parsing (timestamptz as Date, json parsed, bigint as string). */
  async rows<R extends QueryResultRow>(query: Prisma.Sql): Promise<R[]> {
    return (await this.pool.query<R>(query.text, query.values)).rows;
  }

  /** Runs one statement for its effect and says how many rows it touched. */
  async execute(query: Prisma.Sql): Promise<number> {
    return (await this.pool.query(query.text, query.values)).rowCount ?? 0;
  }

  /**
   * `work` in one transaction on one pooled connection, for write paths made only of raw
   * statements (a cluster create): each statement costs a round trip, not Prisma's compilation
   * on top, which matters most where a row lock is held until the commit (the organisation's, for
   * the quota). Rolled back if `work` throws.
   */
  async transaction<T>(work: (tx: RawTx) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) => {
      const queryRaw: Raw = async (query, ...values) => {
        const statement = statementOf(query, values);
        return (await client.query(statement.text, statement.values)).rows;
      };
      const executeRaw: Raw = async (query, ...values) => {
        const statement = statementOf(query, values);
        return (await client.query(statement.text, statement.values)).rowCount ?? 0;
      };
      return work({ $queryRaw: queryRaw, $executeRaw: executeRaw } as unknown as RawTx);
    });
  }

}
