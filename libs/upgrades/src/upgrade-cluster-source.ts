import type {
  AddonRelease,
  ClusterObject,
  ClusterStatus,
  ExclusionScope,
  MaintenanceWindowSpec,
  PlannedPool,
  PodDisruptionBudgetState,
  Provider,
  VersionCatalogueEntry,
} from '@capstan/domain';
import type { Actor } from '@capstan/tenancy';

/** What the planner needs to know about one cluster. */
export interface UpgradeClusterFacts {
  id: string;
  provider: Provider;
  status: ClusterStatus;
  controlPlaneVersion: string;
  pools: PlannedPool[];
  window: MaintenanceWindowSpec | null;
  exclusions: { startsAt: Date; endsAt: Date; scope: ExclusionScope }[];
  /** Objects found by a removed-API scan, or null when none has run. */
  objects: ClusterObject[] | null;
  /** PodDisruptionBudgets read from the cluster, or null when they were not read. */
  disruptionBudgets: PodDisruptionBudgetState[] | null;
  /** The add-on catalogue rows and the add-ons the cluster runs (libs/addons); absent: the catalogue seed's defaults. */
  addons?: { releases: AddonRelease[]; enabled: string[] };
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
  /**
   * Starts the cluster's upgrade operation: under the cluster's lock, with the state machine and
   * the one-mutating-operation rule checked, `plan` computes the steps from the cluster as locked.
   */
  abstract startUpgrade(
    requester: UpgradeRequester,
    clusterId: string,
    plan: (cluster: LockedClusterVersions) => PlannedUpgrade,
  ): Promise<{ operation: unknown }>;
}

/** Who asks for an upgrade, and the Idempotency-Key their request carried. */
export interface UpgradeRequester {
  organizationId: string;
  actor: Actor;
  idempotencyKey?: string;
}

/** The versions of a cluster read under its lock. */
export interface LockedClusterVersions {
  controlPlaneVersion: string;
  pools: PlannedPool[];
}

export interface PlannedUpgrade {
  target: string;
  steps: readonly string[];
  params: Record<string, unknown>;
  /** The audit action; `cluster.upgrade` unless said otherwise. */
  action?: string;
  /** Not to start before this time (`start: next_window`). */
  notBefore?: Date;
}
