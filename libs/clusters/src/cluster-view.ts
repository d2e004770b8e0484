import { slaTargetPercent } from '@capstan/domain';
import { etagOf, type PrismaService } from '@capstan/platform';

type ClusterRow = Awaited<ReturnType<PrismaService['cluster']['findFirstOrThrow']>>;
type NodePoolRow = Awaited<ReturnType<PrismaService['nodePool']['findFirstOrThrow']>>;
type WindowRow = Awaited<ReturnType<PrismaService['maintenanceWindow']['findFirstOrThrow']>>;

export type ClusterWithRelations = ClusterRow & { nodePools: NodePoolRow[]; maintenanceWindow: WindowRow | null };

/** What a cluster read includes: its live pools in creation order and its maintenance window. */
export const clusterRelations = {
  nodePools: { where: { deletedAt: null }, orderBy: { id: 'asc' as const } },
  maintenanceWindow: true,
};

export function presentNodePool(pool: NodePoolRow) {
  return {
    id: pool.id,
    cluster_id: pool.clusterId,
    name: pool.name,
    machine_type: pool.machineType,
    count: pool.nodeCount,
    autoscaling: pool.autoscaleMin !== null && pool.autoscaleMax !== null ? { min: pool.autoscaleMin, max: pool.autoscaleMax } : null,
    version: pool.version,
    labels: pool.labels as Record<string, string>,
    taints: pool.taints as { key: string; value: string; effect: string }[],
    max_surge: pool.maxSurge,
    max_unavailable: pool.maxUnavailable,
    status: pool.status,
    etag: etagOf(pool.resourceVersion),
    created_at: pool.createdAt.toISOString(),
    updated_at: pool.updatedAt.toISOString(),
  };
}

export function presentMaintenanceWindow(window: WindowRow | null) {
  return window
    ? { time_zone: window.timeZone, days: window.days as ('MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU')[], start_time: window.startTime, duration_minutes: window.durationMinutes }
    : null;
}

export function presentCluster(cluster: ClusterWithRelations, warnings?: string[]) {
  return {
    id: cluster.id,
    name: cluster.name,
    provider: cluster.provider,
    region: cluster.region,
    release_channel: cluster.releaseChannel,
    status: cluster.status,
    status_reason: cluster.statusReason,
    current_version: cluster.currentVersion,
    desired_version: cluster.desiredVersion,
    endpoint: cluster.endpoint,
    auto_upgrade: cluster.autoUpgrade,
    deletion_protection: cluster.deletionProtection,
    labels: cluster.labels as Record<string, string>,
    sla: { target_percent: slaTargetPercent(cluster.provider) },
    maintenance_window: presentMaintenanceWindow(cluster.maintenanceWindow),
    node_pools: cluster.nodePools.map(presentNodePool),
    ...(warnings && warnings.length > 0 ? { warnings } : {}),
    etag: etagOf(cluster.resourceVersion),
    created_at: cluster.createdAt.toISOString(),
    updated_at: cluster.updatedAt.toISOString(),
  };
}
