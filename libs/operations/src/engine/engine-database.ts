import { checkOut, DatabaseConfig, inTransaction, pgConnectionFromUrl, type Prisma } from '@capstan/platform';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Pool, type PoolClient, type QueryResultRow } from 'pg';

export type Query = <R extends QueryResultRow>(statement: Prisma.Sql) => Promise<R[]>;

/** A checked-out connection that nobody else will use until it is given back. */
export interface Connection {
  query: Query;
  /** Gives the connection back; `broken` ones are closed instead of reused. */
  release(broken?: boolean): void;
}

const names = new Map<string, string>();

/** Statements on `client`, each prepared once per connection (see statementName). */
function queryOn(client: PoolClient): Query {
  return async <R extends QueryResultRow>(statement: Prisma.Sql) =>
    (await client.query<R>({ name: statementName(statement.text), text: statement.text, values: statement.values })).rows;
}

/**
 * Every statement is prepared once per connection, under a name derived from its text: the engine
 * sends the same few statements for every step of every operation, so the server parses them
 * once instead of each time. The text never holds values (they are parameters), so the set of
 * names stays small.
 */
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `capstan_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * The engine's own PostgreSQL pool, beside Prisma's.
 *
 * Why plain `pg` and not Prisma here: an operation's statements run on the connection that holds
 * its cluster lock (a session, which Prisma does not expose), one round trip each, and the engine
 * runs them for every step of every operation — Prisma's per-query compilation was most of a
 * worker's CPU (see bench/operations.bench.ts). Statements are built with `Prisma.sql`, so values
 * are always parameters. Rare paths (cancellation, the reconciler) keep Prisma.
 *
 * A pool of its own rather than Prisma's (which `Sql` shares): every running operation holds a
 * connection, with its cluster lock, for its whole run, and must not starve the other users.
 */
@Injectable()
export class EngineDatabase implements OnModuleDestroy {
  private readonly pool: Pool;

  constructor(config: DatabaseConfig) {
    this.pool = new Pool({ ...pgConnectionFromUrl(config.url), max: 64, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 5_000, application_name: 'capstan-engine' });
    // An idle connection lost (a Postgres restart) is simply replaced.
    this.pool.on('error', () => undefined);
  }

  async connect(): Promise<Connection> {
    const { client, release } = await checkOut(this.pool);
    return { query: queryOn(client), release };
  }

  /** `work` inside one transaction, on one connection. */
  transaction<T>(work: (query: Query) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) => work(queryOn(client)));
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }
}
