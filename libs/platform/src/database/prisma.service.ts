import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { DatabaseConfig } from '../config/config';
import { PrismaClient } from './generated/client';
import { pgConnectionFromUrl } from './pg-connection';

/**
 * The Prisma client over the pg driver adapter (no query-engine binary). The pool fails fast
 * when Postgres is away, so readiness answers quickly, and new connections are opened as soon as
 * it is back: recovery needs no restart.
 *
 * The pool is created here and handed to the adapter so that `Sql` (sql.ts) can share it: one
 * set of connections per process, sized by DATABASE_POOL_SIZE. `$disconnect()` ends it.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  readonly pool: Pool;

  constructor(config: DatabaseConfig) {
    const pool = new Pool({
      ...pgConnectionFromUrl(config.url),
      max: config.poolSize,
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that dies (Postgres restarted) is dropped by the pool and replaced on
    // the next query; without a listener its 'error' would crash the process.
    pool.on('error', () => undefined);
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
    this.pool = pool;
  }

  /** After the HTTP server has closed (Nest's last hook), so requests in flight can finish. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    // The adapter ends the pool only if Prisma itself ever connected; `Sql` may have used it alone.
    if (!this.pool.ended) await this.pool.end();
  }
}

/** What a repository receives: the client itself or the transaction it has been enlisted in. */
export type PrismaTx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;
