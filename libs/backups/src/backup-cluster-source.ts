import type { ClusterStatus, Provider } from '@capstan/domain';
import type { OperationView } from '@capstan/operations';
import type { UnitOfWork } from '@capstan/platform';
import type { Actor } from '@capstan/tenancy';

/** What the backups feature needs to know about a cluster. */
export interface BackupClusterFacts {
  id: string;
  organizationId: string;
  provider: Provider;
  region: string;
  status: ClusterStatus;
  /** The control plane's version now. */
  version: string;
}

/** Who asks, and the Idempotency-Key their request carried. */
export interface BackupRequester {
  organizationId: string;
  actor: Actor;
  idempotencyKey?: string;
}

/** What the backups feature decided for the locked cluster (see StartBackupOperation in libs/clusters). */
export interface PlannedBackupOperation {
  type: 'create_backup' | 'restore_backup';
  /** The status the cluster shows while the work runs; null leaves it as it is. */
  status: ClusterStatus | null;
  target: { type: string; id: string };
  params: Record<string, unknown>;
  audit: { action: string; target: { type: string; id: string }; changes: Record<string, { before?: unknown; after?: unknown }> };
  /** Runs in the same transaction once the operation exists (records its id on the backup). */
  enqueued?(operationId: string, trx: UnitOfWork): Promise<void>;
}

/**
 * The port through which libs/backups reads clusters and starts its operations on them, both
 * owned by libs/clusters, and reads the add-ons a cluster runs, owned by libs/addons. Features do
 * not import each other (docs/architecture.md, "Feature-to-feature calls"); each app's composition
 * root binds this to ReadClusters and StartBackupOperation of @capstan/clusters and
 * AddonCatalogue.enabledAddons of @capstan/addons.
 */
export abstract class BackupClusterSource {
  /** The caller's cluster; another organisation's answers NotFoundError (404). */
  abstract cluster(organizationId: string, clusterId: string): Promise<BackupClusterFacts>;
  /**
   * The names of the add-ons the cluster runs (its choices, else its tier's defaults), owned by
   * libs/addons: an RKE2 workload backup or restore needs `velero`. Pass the transaction of
   * {@link start}'s `plan` to read them under the cluster's lock.
   */
  abstract enabledAddons(organizationId: string, clusterId: string, trx?: UnitOfWork): Promise<string[]>;
  /**
   * Starts a backup operation under the cluster's lock, with the state machine and the
   * one-mutating-operation rule checked; `plan` sees the cluster as locked and writes the backups
   * feature's own rows in the same transaction.
   */
  abstract start(
    requester: BackupRequester,
    clusterId: string,
    type: PlannedBackupOperation['type'],
    plan: (cluster: BackupClusterFacts, trx: UnitOfWork) => Promise<PlannedBackupOperation>,
  ): Promise<{ operation: OperationView }>;
}

/**
 * The port through which restore steps put a cluster back to `running` (libs/clusters'
 * RecordRestore, bound by the worker's composition root).
 */
export abstract class RestoredClusters {
  abstract restored(clusterId: string): Promise<void>;
}
