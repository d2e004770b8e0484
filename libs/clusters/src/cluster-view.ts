import { slaTargetPercent } from '@capstan/domain';
import { type DB, etagOf } from '@capstan/platform';
import type { Selectable } from 'kysely';

export type ClusterRow = Selectable<DB['clusters']>;
export type NodePoolRow = Selectable<DB['node_pools']>;
export type WindowRow = Selectable<DB['maintenance_windows']>;

/*
 * The columns the use cases and the presented views read, no more: a page's node pools travel as
 * JSON text that PostgreSQL builds and the API parses per request, and the columns no reader needs
 * (live names, the CA certificate, billing currency, deletion marks of live rows) were a third of
 * that text.
 */
export const CLUSTER_COLUMNS = [
  'id',
  'organization_id',
  'name',
  'provider',
  'region',
  'release_channel',
  'status',
  'status_reason',
  'api_server_down_since',
  'current_version',
  'desired_version',
  'endpoint',
  'auto_upgrade',
  'deletion_protection',
  'labels',
  'resource_version',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ClusterRow)[];
export const NODE_POOL_COLUMNS = [
  'id',
  'cluster_id',
  'name',
  'machine_type',
  'node_count',
  'autoscale_min',
  'autoscale_max',
  'version',
  'labels',
  'taints',
  'max_surge',
  'max_unavailable',
  'status',
  'resource_version',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof NodePoolRow)[];
export const WINDOW_COLUMNS = ['time_zone', 'days', 'start_time', 'duration_minutes'] as const satisfies readonly (keyof WindowRow)[];

/** A live node pool as a cluster read carries it. */
export type FetchedNodePool = Pick<NodePoolRow, (typeof NODE_POOL_COLUMNS)[number]>;

/** A cluster with its live node pools (creation order) and its maintenance window. */
export type ClusterWithRelations = Pick<ClusterRow, (typeof CLUSTER_COLUMNS)[number]> & {
  node_pools: FetchedNodePool[];
  maintenance_window: Pick<WindowRow, (typeof WINDOW_COLUMNS)[number]> | null;
};

export function presentNodePool(pool: FetchedNodePool) {
  return {
    id: pool.id,
    cluster_id: pool.cluster_id,
    name: pool.name,
    machine_type: pool.machine_type,
    count: pool.node_count,
    autoscaling: pool.autoscale_min !== null && pool.autoscale_max !== null ? { min: pool.autoscale_min, max: pool.autoscale_max } : null,
    version: pool.version,
    labels: pool.labels as Record<string, string>,
    taints: pool.taints as { key: string; value: string; effect: string }[],
    max_surge: pool.max_surge,
    max_unavailable: pool.max_unavailable,
    status: pool.status,
    etag: etagOf(pool.resource_version),
    created_at: pool.created_at.toISOString(),
    updated_at: pool.updated_at.toISOString(),
  };
}

export function presentMaintenanceWindow(window: ClusterWithRelations['maintenance_window']) {
  return window
    ? {
        time_zone: window.time_zone,
        days: window.days as ('MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU')[],
        start_time: window.start_time,
        duration_minutes: window.duration_minutes,
      }
    : null;
}

export function presentCluster(cluster: ClusterWithRelations, warnings?: string[]) {
  return {
    id: cluster.id,
    name: cluster.name,
    provider: cluster.provider,
    region: cluster.region,
    release_channel: cluster.release_channel,
    status: cluster.status,
    status_reason: cluster.status_reason,
    // The monitor's view is shown only where it made the status: an operation's own status says what runs.
    degraded_since: cluster.status === 'degraded' && cluster.api_server_down_since ? cluster.api_server_down_since.toISOString() : null,
    current_version: cluster.current_version,
    desired_version: cluster.desired_version,
    endpoint: cluster.endpoint,
    auto_upgrade: cluster.auto_upgrade,
    deletion_protection: cluster.deletion_protection,
    labels: cluster.labels as Record<string, string>,
    sla: { target_percent: slaTargetPercent(cluster.provider) },
    maintenance_window: presentMaintenanceWindow(cluster.maintenance_window),
    node_pools: cluster.node_pools.map(presentNodePool),
    ...(warnings && warnings.length > 0 ? { warnings } : {}),
    etag: etagOf(cluster.resource_version),
    created_at: cluster.created_at.toISOString(),
    updated_at: cluster.updated_at.toISOString(),
  };
}

export type ClusterView = ReturnType<typeof presentCluster>;
