import { clusterRoutes, type z } from '@capstan/contracts';
import { PreconditionFailedError } from '@capstan/domain';
import { etagOf, matchesEtag } from '@capstan/platform';
import { type ClusterWithRelations, type FetchedNodePool, presentMaintenanceWindow } from '../cluster-view';

/** Request bodies as the route contracts parse them. */
export type NodePoolSpec = z.infer<typeof clusterRoutes.nodePoolSpec>;
export type MaintenanceWindowSpec = z.infer<typeof clusterRoutes.maintenanceWindow>;

export function assertEtag(resource: string, id: string, resourceVersion: number, ifMatch: string | undefined): void {
  if (ifMatch !== undefined && !matchesEtag(ifMatch, resourceVersion)) {
    throw new PreconditionFailedError(`${resource} ${id} has changed since you read it; its etag is now ${etagOf(resourceVersion)}`, {
      etag: etagOf(resourceVersion),
    });
  }
}

/** The audit log keeps the field names it has always had (camelCase), whatever the row's. */
export function audited(cluster: ClusterWithRelations) {
  return {
    name: cluster.name,
    provider: cluster.provider,
    region: cluster.region,
    currentVersion: cluster.current_version,
    labels: cluster.labels,
    autoUpgrade: cluster.auto_upgrade,
    deletionProtection: cluster.deletion_protection,
    releaseChannel: cluster.release_channel,
    maintenanceWindow: presentMaintenanceWindow(cluster.maintenance_window),
    nodePools: cluster.node_pools.map((p) => p.name),
  };
}

export function auditedPool(pool: FetchedNodePool) {
  return {
    name: pool.name,
    machineType: pool.machine_type,
    nodeCount: pool.node_count,
    autoscaleMin: pool.autoscale_min,
    autoscaleMax: pool.autoscale_max,
    labels: pool.labels,
    taints: pool.taints,
    maxSurge: pool.max_surge,
    maxUnavailable: pool.max_unavailable,
  };
}

/** Kept in the operation's params (camelCase, as the operations library reads them) so a cancel can put it back. */
export function previousPoolOf(pool: FetchedNodePool) {
  return {
    nodeCount: pool.node_count,
    autoscaleMin: pool.autoscale_min,
    autoscaleMax: pool.autoscale_max,
    labels: pool.labels,
    taints: pool.taints,
    maxSurge: pool.max_surge,
    maxUnavailable: pool.max_unavailable,
    status: pool.status,
  };
}

export function toPoolCounts(pool: Pick<NodePoolSpec, 'count' | 'autoscaling'>) {
  return { nodeCount: pool.count ?? pool.autoscaling?.min ?? 0, autoscaleMin: pool.autoscaling?.min ?? null, autoscaleMax: pool.autoscaling?.max ?? null };
}
