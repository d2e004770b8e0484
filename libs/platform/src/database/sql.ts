import { Injectable } from '@nestjs/common';
import type { Pool, QueryResultRow } from 'pg';
import type { Prisma } from './generated/client';
import { PrismaService } from './prisma.service';

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
}
