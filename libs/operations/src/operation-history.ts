import { Database, type db } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/** An operation that created or resized something, as billing meters it. */
export interface SizingOperation {
  clusterId: string;
  type: db.OperationType;
  status: db.OperationStatus;
  targetId: string;
  finishedAt: Date | null;
  /** The node count a pool change replaced (its `params.previousPool.nodeCount`); null for creates. */
  previousNodeCount: number | null;
}

const SIZING: db.OperationType[] = ['create_cluster', 'create_node_pool', 'scale_node_pool', 'update_node_pool'];

/**
 * The operations that create clusters and pools or change a pool's size, of the given clusters
 * (docs/architecture.md, "Feature-to-feature calls": billing meters usage from them). One statement.
 */
@Injectable()
export class OperationHistory {
  constructor(private readonly db: Database) {}

  /**
   * The status of each of these operations (an id that names none is left out): libs/backups keeps
   * a backup while the restore reading it is active and a pre-upgrade one until its upgrade succeeded.
   */
  async statuses(ids: readonly string[]): Promise<Map<string, db.OperationStatus>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('operations')
      .select(['id', 'status'])
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  async sizingOperations(clusterIds: readonly string[]): Promise<SizingOperation[]> {
    if (clusterIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('operations')
      .select(['cluster_id', 'type', 'status', 'target_id', 'finished_at', 'params'])
      .where('cluster_id', 'in', [...clusterIds])
      .where('type', 'in', SIZING)
      .orderBy('cluster_id')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      clusterId: row.cluster_id!,
      type: row.type,
      status: row.status,
      targetId: row.target_id,
      finishedAt: row.finished_at,
      previousNodeCount: previousNodeCount(row.params),
    }));
  }
}

function previousNodeCount(params: unknown): number | null {
  const previous = (params as { previousPool?: { nodeCount?: unknown } } | null)?.previousPool;
  return typeof previous?.nodeCount === 'number' ? previous.nodeCount : null;
}
