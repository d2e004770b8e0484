/** The Container API methods the emulated GKE serves, as fault-injection and stats names. */
export const GKE_CALLS = [
  'gke.clusters.create',
  'gke.clusters.get',
  'gke.clusters.list',
  'gke.clusters.delete',
  'gke.clusters.update',
  'gke.clusters.updateMaster',
  'gke.clusters.setMaintenancePolicy',
  'gke.nodePools.create',
  'gke.nodePools.get',
  'gke.nodePools.list',
  'gke.nodePools.delete',
  'gke.nodePools.update',
  'gke.nodePools.setSize',
  'gke.nodePools.setAutoscaling',
  'gke.nodePools.rollback',
  'gke.operations.get',
  'gke.operations.list',
  'gke.operations.cancel',
  'gke.serverConfig.get',
  // Not a method: the point where an operation's new nodes join, for faults that fail them.
  'gke.nodes.create',
] as const;

export type GkeCall = (typeof GKE_CALLS)[number];
