/**
 * What the SLA monitor concludes about a cluster's API server from its latest minutes, and what it
 * keeps about the clusters it watches. Shared by libs/sla (which observes) and libs/clusters (which
 * records the status it implies), the two sides of the port in libs/composition
 * (docs/sla.md, "Cluster status").
 */
export type ApiServerObservation = { state: 'down'; since: Date; reason: string } | { state: 'up' } | { state: 'undecided' };

/** A cluster whose view or announcement the monitor keeps, so it writes only where something can change. */
export interface WatchedCluster {
  clusterId: string;
  status: string;
  /** The monitor holds its API server down. */
  heldDown: boolean;
  /** Its status changed between `running` and `degraded` and its organisation was not told yet. */
  unannounced: boolean;
}
