import type {
  ClusterObject,
  ExclusionScope,
  MaintenanceWindowSpec,
  PlannedPool,
  PodDisruptionBudgetState,
  Provider,
  VersionCatalogueEntry,
} from '@capstan/domain';

/** What the planner needs to know about one cluster. */
export interface UpgradeClusterFacts {
  id: string;
  provider: Provider;
  controlPlaneVersion: string;
  pools: PlannedPool[];
  window: MaintenanceWindowSpec | null;
  exclusions: { startsAt: Date; endsAt: Date; scope: ExclusionScope }[];
  /** Objects found by a removed-API scan, or null when none has run. */
  objects: ClusterObject[] | null;
  /** PodDisruptionBudgets read from the cluster, or null when they were not read. */
  disruptionBudgets: PodDisruptionBudgetState[] | null;
}

/**
 * The port through which libs/upgrades reads clusters and the version catalogue, both owned by
 * libs/clusters. Features do not import each other (docs/architecture.md, "Feature-to-feature
 * calls"), so the API's composition root binds this to the public read functions of
 * @capstan/clusters listed there.
 */
export abstract class UpgradeClusterSource {
  /** The caller's cluster; another organisation's answers NotFoundError (404). */
  abstract cluster(organizationId: string, clusterId: string): Promise<UpgradeClusterFacts>;
  abstract catalogue(provider: Provider): Promise<VersionCatalogueEntry[]>;
}
