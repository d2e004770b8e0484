import { ConflictError, type MaintenanceWindowSpec, normaliseTimeZone, type Provider, type WindowDay } from '@capstan/domain';
import type { ClusterWithRelations } from '../cluster-view';

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

/** The audit changes of an exclusion that comes (`after`) or goes (`before`), with the cluster it belongs to. */
export function exclusionAuditChanges(
  side: 'before' | 'after',
  clusterId: string,
  exclusion: { name: string; scope: string; startsAt: string; endsAt: string },
): Record<string, { before?: string; after?: string }> {
  const entry = (value: string) => ({ [side]: value });
  return {
    cluster: entry(clusterId),
    name: entry(exclusion.name),
    scope: entry(exclusion.scope),
    startsAt: entry(exclusion.startsAt),
    endsAt: entry(exclusion.endsAt),
  };
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
