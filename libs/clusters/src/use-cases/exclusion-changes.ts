import {
  assertClusterAccepts,
  clusterStatusDuring,
  ConflictError,
  type MaintenanceWindowSpec,
  normaliseTimeZone,
  type Provider,
  type WindowDay,
} from '@capstan/domain';
import type { ClusterChange } from '../cluster-change';
import type { ClusterWithRelations } from '../cluster-view';
import { setClusterStatus } from '../cluster-writes';

/**
 * Whether the provider keeps its own copy of a cluster's maintenance exclusions: GKE holds them in
 * the cluster's maintenance policy and honours them itself (docs/gke-driver.md, "Settings Capstan
 * keeps in step"); on RKE2 only Capstan's planner and fleet scheduler read them.
 */
export function providerHoldsExclusions(provider: Provider): boolean {
  return provider === 'gke';
}

/** An exclusion is not added to, nor taken from, a cluster on its way out. */
export function assertNotDeleting(cluster: ClusterWithRelations): void {
  if (cluster.status === 'deleting') {
    throw new ConflictError('cluster-state-conflict', `cluster ${cluster.id} is being deleted; its maintenance exclusions can no longer be changed`);
  }
}

/**
 * The `update_cluster` operation that brings the provider's copy of the cluster's settings to
 * Capstan's rows, as a PATCH of a GKE cluster's window starts it (UpdateCluster): under the
 * lifecycle's rules (another operation on the cluster is a 409, which rolls the change back), the
 * cluster `updating` until it has run. Its step reads every setting again when it runs.
 */
export async function startSettingsUpdate(change: Pick<ClusterChange, 'trx' | 'active' | 'enqueue'>, cluster: ClusterWithRelations, settings: string[]) {
  assertClusterAccepts(cluster, 'update_cluster', change.active);
  await setClusterStatus(change.trx, cluster.id, clusterStatusDuring('update_cluster'));
  return change.enqueue({
    clusterId: cluster.id,
    type: 'update_cluster',
    target: { type: 'cluster', id: cluster.id },
    params: { change: settings, previousClusterStatus: cluster.status },
  });
}

/** The cluster's window for the domain's rules; none when unset or stored before zones were checked. */
export function windowSpecOf(cluster: ClusterWithRelations): MaintenanceWindowSpec | null {
  const w = cluster.maintenance_window;
  if (!w) return null;
  try {
    return { timeZone: normaliseTimeZone(w.time_zone), days: w.days as WindowDay[], startTime: w.start_time, durationMinutes: w.duration_minutes };
  } catch {
    return null;
  }
}
