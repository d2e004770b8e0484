import {
  type ClusterStatus,
  type ExclusionScope,
  type FleetCluster,
  type MaintenanceWindowSpec,
  type PlannedPool,
  type Provider,
  validateWindow,
  type VersionCatalogueEntry,
  type WindowDay,
} from '@capstan/domain';
import type { LockedClusterVersions, PlannedUpgrade, UpgradeRequester } from '../upgrade-cluster-source';

/** What the fleet scheduler knows of a cluster. */
export interface FleetClusterFacts extends FleetCluster {
  name: string;
  status: ClusterStatus;
  pools: PlannedPool[];
}

/**
 * The port through which the fleet scheduler reads the fleet and starts upgrades (tables of
 * libs/clusters) and reads the clusters' probes (libs/sla). Features do not import each other
 * (docs/architecture.md, "Feature-to-feature calls"): each app's composition root binds it to the
 * public functions listed there (`ReadFleetClusters.page`, `ReadVersions.entries`,
 * `StartClusterUpgrade.execute`, `ClusterDowntime.downSince`).
 */
export abstract class FleetClusterSource {
  /** Live clusters across organisations, by id, after `after`, at most `limit`. */
  abstract page(after: string | undefined, limit: number, now: Date): Promise<FleetClusterFacts[]>;
  /** An organisation's live clusters. */
  abstract ofOrganization(organizationId: string, now: Date): Promise<FleetClusterFacts[]>;
  /** The live clusters among `ids`. */
  abstract byIds(ids: readonly string[], now: Date): Promise<FleetClusterFacts[]>;
  /** Every provider's catalogue rows. */
  abstract catalogue(): Promise<VersionCatalogueEntry[]>;
  abstract startUpgrade(
    requester: UpgradeRequester,
    clusterId: string,
    plan: (cluster: LockedClusterVersions) => PlannedUpgrade,
  ): Promise<{ operation: { id: string } }>;
  /** Clusters (among the keys) whose probes saw downtime after their moment. */
  abstract downSince(since: ReadonlyMap<string, Date>): Promise<Set<string>>;
}

/** The row `ReadFleetClusters.page` answers, as the composition roots pass it on. */
export interface FleetClusterRowShape {
  id: string;
  organization_id: string;
  name: string;
  provider: Provider;
  status: string;
  current_version: string;
  auto_upgrade: boolean;
  release_channel?: string;
  labels: Record<string, string>;
  node_pools: { id: string; name: string; version: string; max_surge: number; max_unavailable: number }[];
  maintenance_window: { time_zone: string; days: string[]; start_time: string; duration_minutes: number } | null;
  exclusions: { scope: ExclusionScope; starts_at: string; ends_at: string }[];
}

/** The facts of a fleet row. A window stored before zones were validated (e.g. "CET") counts as none. */
export function fleetClusterFacts(row: FleetClusterRowShape): FleetClusterFacts {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    provider: row.provider,
    status: row.status as ClusterStatus,
    controlPlaneVersion: row.current_version,
    autoUpgrade: row.auto_upgrade,
    releaseChannel: row.release_channel,
    labels: row.labels ?? {},
    pools: row.node_pools.map((p) => ({ id: p.id, name: p.name, version: p.version, maxSurge: p.max_surge, maxUnavailable: p.max_unavailable })),
    window: usableWindow(row.maintenance_window),
    exclusions: row.exclusions.map((e) => ({ scope: e.scope, startsAt: new Date(e.starts_at), endsAt: new Date(e.ends_at) })),
  };
}

/** Validated windows by their fields: a fleet pass meets the same few windows thousands of times. */
const validated = new Map<string, MaintenanceWindowSpec | null>();

function usableWindow(w: FleetClusterRowShape['maintenance_window']): MaintenanceWindowSpec | null {
  if (!w) return null;
  const key = `${w.time_zone}|${w.days.join(',')}|${w.start_time}|${w.duration_minutes}`;
  if (validated.has(key)) return validated.get(key)!;
  let spec: MaintenanceWindowSpec | null;
  try {
    spec = validateWindow({ timeZone: w.time_zone, days: w.days as WindowDay[], startTime: w.start_time, durationMinutes: w.duration_minutes });
  } catch {
    spec = null;
  }
  if (validated.size >= 50_000) validated.clear();
  validated.set(key, spec);
  return spec;
}
