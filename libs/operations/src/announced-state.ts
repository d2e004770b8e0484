import type { ClusterStatus, OperationType } from '@capstan/domain';
import { jsonb, type Prisma, type UnitOfWork } from '@capstan/platform';
import { sql } from 'kysely';
import { clusterStatusColumnsAfter } from './cluster-status-after';

/** What an operation's request changed up front, kept in its params so a cancel can put it back. */
export interface AnnouncedChange {
  previousClusterStatus?: string;
  /** A restore's scope (only a control-plane restore takes the cluster's status). */
  scope?: 'control_plane' | 'workloads';
  previousPool?: {
    nodeCount: number;
    autoscaleMin: number | null;
    autoscaleMax: number | null;
    labels: Prisma.JsonValue;
    taints: Prisma.JsonValue;
    maxSurge: number;
    maxUnavailable: number;
    status: string;
  };
}

type PoolStatus = 'provisioning' | 'running' | 'updating' | 'upgrading' | 'error' | 'deleting' | 'deleted';

/**
 * Undoes in Postgres what a cancelled operation announced when it was requested: a cluster or
 * pool that was never built disappears, a spec that was never applied goes back to what it was,
 * and statuses return to what they were (an `error` cluster stays in error). What the provider
 * already did is the worker's to compensate (OperationRunner).
 */
export async function restoreAnnouncedState(
  tx: UnitOfWork,
  op: { type: OperationType; clusterId: string | null; targetId: string; params: unknown },
  now: Date,
): Promise<void> {
  if (!op.clusterId) return;
  const params = (op.params ?? {}) as AnnouncedChange;
  const clusterStatus = (params.previousClusterStatus ?? 'running') as ClusterStatus;
  switch (op.type) {
    case 'create_cluster':
      await tx
        .updateTable('node_pools')
        .set({ status: 'deleted', live_name: null, deleted_at: now, updated_at: now })
        .where('cluster_id', '=', op.clusterId)
        .where('deleted_at', 'is', null)
        .execute();
      await tx
        .updateTable('clusters')
        .set({ status: 'deleted', live_name: null, deleted_at: now, status_reason: 'creation was cancelled', updated_at: now })
        .where('id', '=', op.clusterId)
        .execute();
      return;
    case 'create_node_pool':
      await tx.updateTable('node_pools').set({ status: 'deleted', live_name: null, deleted_at: now, updated_at: now }).where('id', '=', op.targetId).execute();
      break;
    case 'update_node_pool':
    case 'scale_node_pool':
    case 'delete_node_pool': {
      const previous = params.previousPool;
      await tx
        .updateTable('node_pools')
        .set(
          previous
            ? {
                node_count: previous.nodeCount,
                autoscale_min: previous.autoscaleMin,
                autoscale_max: previous.autoscaleMax,
                labels: jsonb(previous.labels ?? {}),
                taints: jsonb(previous.taints ?? []),
                max_surge: previous.maxSurge,
                max_unavailable: previous.maxUnavailable,
                status: previous.status as PoolStatus,
                resource_version: sql<number>`resource_version + 1`,
                updated_at: now,
              }
            : { status: 'running', updated_at: now },
        )
        .where('id', '=', op.targetId)
        .execute();
      break;
    }
    case 'upgrade_cluster':
      // The target was announced as the desired version; a stopped upgrade desires what runs.
      await tx
        .updateTable('clusters')
        .set((eb) => ({ desired_version: eb.ref('current_version') }))
        .where('id', '=', op.clusterId)
        .execute();
      break;
    default:
      break;
  }
  // Back to the status before the request, where serving is `running` or `degraded` as the SLA
  // monitor holds the API server now, not as it did then (docs/operations-engine.md, "Where an
  // operation leaves its cluster"); work that never took the status leaves it alone.
  const status = clusterStatusColumnsAfter({ type: op.type, outcome: 'cancelled', previousStatus: clusterStatus, restoreScope: params.scope });
  if (status)
    await tx
      .updateTable('clusters')
      .set({ ...status, updated_at: now })
      .where('id', '=', op.clusterId)
      .execute();
}
