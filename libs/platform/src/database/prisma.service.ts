import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { DatabasePool } from './database';
import { PrismaClient } from './generated/client';

/**
 * The Prisma client over the pg driver adapter (no query-engine binary). The pool fails fast
 * when Postgres is away, so readiness answers quickly, and new connections are opened as soon as
 * it is back: recovery needs no restart.
 *
 * It runs on the process's one pool (`DatabasePool`), shared with Kysely.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  readonly pool: Pool;

  constructor(readonly databasePool: DatabasePool) {
    super({ adapter: new PrismaPg(databasePool.pool, { disposeExternalPool: true }) });
    this.pool = databasePool.pool;
  }

  /** After the HTTP server has closed (Nest's last hook), so requests in flight can finish. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    // The adapter ends the pool only if Prisma itself ever connected; Kysely may have used it alone.
    await this.databasePool.end();
  }
}

/** What a repository receives: the client itself or the transaction it has been enlisted in. */
export type PrismaTx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;
