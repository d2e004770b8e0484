import { Prisma } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { QueryResultRow } from 'pg';
import { EngineDatabase } from './engine-database';

/** The operation as the lock statement found it: enough to decide and to name its events. */
export interface LockedOperation {
  id: string;
  organizationId: string;
  clusterId: string | null;
  type: string;
  status: string;
  targetType: string;
  targetId: string;
}

/** A connection that holds one operation's cluster lock; the operation's statements run on it. */
export interface OperationSession {
  readonly operation: LockedOperation;
  query<R extends QueryResultRow>(statement: Prisma.Sql): Promise<R[]>;
  release(): Promise<void>;
}

export type Opened =
  /** Gone, finished, or paused for a person: a duplicate or late delivery has nothing to do. */
  | { state: 'idle' }
  /** Another worker runs an operation on the same cluster. */
  | { state: 'busy'; key: string }
  | { state: 'held'; session: OperationSession };

interface LockRow {
  id: string;
  organization_id: string;
  cluster_id: string | null;
  type: string;
  status: string;
  target_type: string;
  target_id: string;
  locked: boolean | null;
}

/**
 * One operation at a time per cluster, across any number of workers: a PostgreSQL session
 * advisory lock on the cluster id, held on its own connection while the operation runs; the
 * operation's statements run on that connection too. If the worker dies, its connection closes
 * and the lock is gone with it, so there is no lease to expire or to steal.
 */
@Injectable()
export class OperationSessions {
  constructor(private readonly database: EngineDatabase) {}

  /**
   * Reads the operation and, if it still has work to do, takes its cluster's lock, in one
   * statement. The status read here may be a moment old when the lock is granted; the claim that
   * follows re-checks it under the lock.
   */
  async open(operationId: string): Promise<Opened> {
    const connection = await this.database.connect();
    let row: LockRow | undefined;
    try {
      [row] = await connection.query<LockRow>(Prisma.sql`
        SELECT id, organization_id, cluster_id, type, status, target_type, target_id,
               CASE WHEN status IN ('pending', 'running') THEN pg_try_advisory_lock(hashtextextended(coalesce(cluster_id, id), 0)) END AS locked
          FROM operations WHERE id = ${operationId}`);
    } catch (error) {
      connection.release(true);
      throw error;
    }
    if (!row || row.locked !== true) {
      connection.release();
      return !row || row.locked === null ? { state: 'idle' } : { state: 'busy', key: row.cluster_id ?? row.id };
    }
    const key = row.cluster_id ?? row.id;
    const operation: LockedOperation = {
      id: row.id,
      organizationId: row.organization_id,
      clusterId: row.cluster_id,
      type: row.type,
      status: row.status,
      targetType: row.target_type,
      targetId: row.target_id,
    };
    return {
      state: 'held',
      session: {
        operation,
        query: connection.query,
        release: async () => {
          try {
            await connection.query(Prisma.sql`SELECT pg_advisory_unlock(hashtextextended(${key}, 0))`);
            connection.release();
          } catch {
            // A broken connection has released the lock already; do not reuse it.
            connection.release(true);
          }
        },
      },
    };
  }
}
