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
 * Plain `pg` on Prisma's own pool, for the few reads on the API's hottest paths that run outside
 * any transaction: the token lookup of every customer request, cluster get and list, organisation
 * usage. Everything else, and every statement inside a transaction, stays on Prisma.
 *
 * Why not Prisma there (issue #3): Prisma 6.19's client engine runs every call, raw SQL included,
 * through its wasm query compiler and plan interpreter, about 0.4-0.5 ms of CPU a statement on the
 * bench machine (as much as the round trip itself). That kept the cluster reads under their
 * throughput goal and the token lookup at 1.6x the same SQL through pg. Queries are still written
 * as `Prisma.sql` templates, so one statement can run here or on a transaction client.
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
