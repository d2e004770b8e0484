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
  /** For `update_addons`: the add-on it installed or removed, and its tier (its params); null otherwise. */
  addon: { name: string; action: 'install' | 'remove'; tier: string } | null;
}

const SIZING: db.OperationType[] = ['create_cluster', 'create_node_pool', 'scale_node_pool', 'update_node_pool', 'update_addons'];

/**
 * The operations that create clusters and pools, change a pool's size, or install or remove an
 * add-on, of the given clusters
 * (docs/architecture.md, "Feature-to-feature calls": billing meters usage from them). One statement.
 */
@Injectable()
export class OperationHistory {
  constructor(private readonly db: Database) {}

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
      addon: addonChange(row.params),
    }));
  }

  /**
   * The status of each operation named, with when it started and ended (an id that names none is
   * left out): fleet rollouts follow the upgrades they started; libs/backups keeps a backup while the
   * restore reading it is active and a pre-upgrade one until its upgrade succeeded.
   */
  async statuses(ids: readonly string[]): Promise<Map<string, { status: db.OperationStatus; startedAt: Date | null; finishedAt: Date | null }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('operations')
      .select(['id', 'status', 'started_at', 'finished_at'])
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [r.id, { status: r.status, startedAt: r.started_at, finishedAt: r.finished_at }]));
  }

  /**
   * For each cluster named, the status and end of its latest operation of `type` that `actor`
   * requested (clusters with none are left out): the GKE drift check holds back after a
   * correction of its own failed (docs/gke-driver.md, "Drift"). One statement.
   */
  async latestRequestedBy(
    clusterIds: readonly string[],
    type: db.OperationType,
    actor: { type: db.ActorType; id: string },
  ): Promise<Map<string, { status: db.OperationStatus; finishedAt: Date | null }>> {
    if (clusterIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('operations')
      .distinctOn('cluster_id')
      .select(['cluster_id', 'status', 'finished_at'])
      .where('cluster_id', 'in', [...new Set(clusterIds)])
      .where('type', '=', type)
      .where('requested_by_type', '=', actor.type)
      .where('requested_by_id', '=', actor.id)
      .orderBy('cluster_id')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return new Map(rows.map((r) => [r.cluster_id!, { status: r.status, finishedAt: r.finished_at }]));
  }
}

function previousNodeCount(params: unknown): number | null {
  const previous = (params as { previousPool?: { nodeCount?: unknown } } | null)?.previousPool;
  return typeof previous?.nodeCount === 'number' ? previous.nodeCount : null;
}

function addonChange(params: unknown): SizingOperation['addon'] {
  const p = params as { addon?: unknown; action?: unknown; tier?: unknown } | null;
  if (typeof p?.addon !== 'string' || (p.action !== 'install' && p.action !== 'remove')) return null;
  return { name: p.addon, action: p.action, tier: typeof p.tier === 'string' ? p.tier : 'optional' };
}
