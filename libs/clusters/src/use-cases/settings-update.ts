import { assertClusterAccepts, clusterStatusDuring } from '@capstan/domain';
import type { ClusterChange } from '../cluster-change';
import type { ClusterWithRelations } from '../cluster-view';
import { setClusterStatus } from '../cluster-writes';

/**
 * The `update_cluster` operation that brings the provider's copy of the cluster's settings to
 * Capstan's rows (a PATCH of a GKE cluster's window, or a change to its exclusions): under the
 * lifecycle's rules (another operation on the cluster is a 409, thrown before the commit, so the
 * settings written in the same transaction go with the refused change), the cluster `updating`
 * until it has run. Its step reads every setting again when it runs; `settings` names what moved.
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
