import type { OperationType } from '@capstan/domain';
import type { Prisma, PrismaTx } from '@capstan/platform';

/** What an operation's request changed up front, kept in its params so a cancel can put it back. */
export interface AnnouncedChange {
  previousClusterStatus?: string;
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

type ClusterStatus = 'provisioning' | 'running' | 'updating' | 'upgrading' | 'degraded' | 'error' | 'deleting' | 'deleted';
type PoolStatus = 'provisioning' | 'running' | 'updating' | 'upgrading' | 'error' | 'deleting' | 'deleted';

/**
 * Undoes in Postgres what a cancelled operation announced when it was requested: a cluster or
 * pool that was never built disappears, a spec that was never applied goes back to what it was,
 * and statuses return to what they were (an `error` cluster stays in error). What the provider
 * already did is the worker's to compensate (OperationRunner).
 */
export async function restoreAnnouncedState(
  tx: PrismaTx,
  op: { type: OperationType; clusterId: string | null; targetId: string; params: Prisma.JsonValue },
  now: Date,
): Promise<void> {
  if (!op.clusterId) return;
  const params = (op.params ?? {}) as AnnouncedChange;
  const clusterStatus = (params.previousClusterStatus ?? 'running') as ClusterStatus;
  switch (op.type) {
    case 'create_cluster':
      await tx.nodePool.updateMany({ where: { clusterId: op.clusterId, deletedAt: null }, data: { status: 'deleted', liveName: null, deletedAt: now } });
      await tx.cluster.update({ where: { id: op.clusterId }, data: { status: 'deleted', liveName: null, deletedAt: now, statusReason: 'creation was cancelled' } });
      return;
    case 'create_node_pool':
      await tx.nodePool.update({ where: { id: op.targetId }, data: { status: 'deleted', liveName: null, deletedAt: now } });
      break;
    case 'update_node_pool':
    case 'scale_node_pool':
    case 'delete_node_pool': {
      const previous = params.previousPool;
      await tx.nodePool.update({
        where: { id: op.targetId },
        data: previous
          ? {
              nodeCount: previous.nodeCount,
              autoscaleMin: previous.autoscaleMin,
              autoscaleMax: previous.autoscaleMax,
              labels: previous.labels ?? {},
              taints: previous.taints ?? [],
              maxSurge: previous.maxSurge,
              maxUnavailable: previous.maxUnavailable,
              status: previous.status as PoolStatus,
              resourceVersion: { increment: 1 },
            }
          : { status: 'running' },
      });
      break;
    }
    default:
      break;
  }
  await tx.cluster.update({ where: { id: op.clusterId }, data: { status: clusterStatus } });
}
