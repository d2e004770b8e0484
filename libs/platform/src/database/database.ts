import { Injectable } from '@nestjs/common';
import { Kysely, PostgresDialect } from 'kysely';
import { Pool, types } from 'pg';
import { DatabaseConfig } from '../config/config';
import type { DB } from './generated/kysely-types';
import { pgConnectionFromUrl } from './pg-connection';

export type { DB } from './generated/kysely-types';

const INT8_OID = 20;

/**
 * BIGINT comes back as `bigint`, everywhere, matching the generated table types
 * (`bigIntTypeOverride` in prisma/schema.prisma): exact for ids, byte sizes and counts, and a type
 * error instead of a silent string where code forgets to convert for JSON. Set per pool, not on
 * pg's global registry, so other pg users in the process (tests, tools) are unaffected.
 */
function typeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID) return (value: string) => BigInt(value);
  return types.getTypeParser(oid, format as 'text');
}

/**
 * The process's one PostgreSQL pool, sized by DATABASE_POOL_SIZE. It fails fast when Postgres is
 * away (readiness answers quickly) and opens new connections as soon as it is back: recovery
 * needs no restart.
 */
@Injectable()
export class DatabasePool {
  readonly pool: Pool;
  /** Whether CompiledOnce may name its statements on this pool's connections (see compiled-once.ts). */
  readonly preparedStatements: boolean;

  constructor(config: DatabaseConfig) {
    this.preparedStatements = config.preparedStatements;
    this.pool = new Pool({
      ...pgConnectionFromUrl(config.url),
      max: config.poolSize,
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
      types: { getTypeParser: typeParser as typeof types.getTypeParser },
    });
    // An idle connection that dies (Postgres restarted) is dropped by the pool and replaced on
    // the next query; without a listener its 'error' would crash the process.
    this.pool.on('error', () => undefined);
    // A client checked out of the pool (by Kysely, between or during its statements) reports a
    // lost connection on itself, where pg-pool no longer listens: unheard, it would crash the
    // process. Heard here; the pool then discards the client when it is released (not queryable).
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  async end(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

/**
 * Kysely over the process's pool: the one query layer (docs/architecture.md, Data access).
 * Queries are typed from the Prisma schema through prisma-kysely; Kysely only builds SQL text, so
 * a statement costs what the same SQL through pg costs.
 */
@Injectable()
export class Database extends Kysely<DB> {
  /** The pg pool under Kysely, for the one thing Kysely cannot build: COPY (see copy.ts). */
  readonly pgPool: Pool;
  readonly preparedStatements: boolean;

  constructor(pool: DatabasePool) {
    super({ dialect: new PostgresDialect({ pool: pool.pool }) });
    this.pgPool = pool.pool;
    this.preparedStatements = pool.preparedStatements;
  }
}
