import { DatabaseConfig, pgConnectionFromUrl } from '@capstan/platform';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Pool, type PoolClient } from 'pg';

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * One operation at a time per cluster, across any number of workers: a PostgreSQL session
 * advisory lock, held on its own connection while the operation runs. If the worker dies, its
 * connection closes and the lock is gone with it, so there is no lease to expire or to steal.
 */
@Injectable()
export class ClusterLocks implements OnModuleDestroy {
  private readonly pool: Pool;

  constructor(config: DatabaseConfig) {
    this.pool = new Pool({ ...pgConnectionFromUrl(config.url), max: 64, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 5_000 });
    this.pool.on('error', () => undefined);
  }

  /** The lock for `key` (a cluster id), or undefined if another worker holds it. */
  async tryAcquire(key: string): Promise<HeldLock | undefined> {
    const client: PoolClient = await this.pool.connect();
    // A checked-out client reports a lost connection on itself; unheard, it would crash the worker.
    const ignore = () => undefined;
    client.on('error', ignore);
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [key]);
      if (!rows[0]?.locked) {
        client.off('error', ignore);
        client.release();
        return undefined;
      }
    } catch (error) {
      client.off('error', ignore);
      client.release(true);
      throw error;
    }
    return {
      release: async () => {
        try {
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
          client.off('error', ignore);
          client.release();
        } catch {
          // A broken connection has released the lock already; do not reuse it.
          client.off('error', ignore);
          client.release(true);
        }
      },
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }
}
