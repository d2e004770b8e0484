import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { DatabaseConfig } from '../config/config';
import { PrismaClient } from './generated/client';
import { pgConnectionFromUrl } from './pg-connection';

/**
 * The Prisma client over the pg driver adapter (no query-engine binary). The pool fails fast
 * when Postgres is away, so readiness answers quickly, and new connections are opened as soon as
 * it is back: recovery needs no restart.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(config: DatabaseConfig) {
    super({
      adapter: new PrismaPg({
        ...pgConnectionFromUrl(config.url),
        max: config.poolSize,
        connectionTimeoutMillis: 3_000,
        idleTimeoutMillis: 30_000,
      }),
    });
  }

  /** After the HTTP server has closed (Nest's last hook), so requests in flight can finish. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}

/** What a repository receives: the client itself or the transaction it has been enlisted in. */
export type PrismaTx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;
