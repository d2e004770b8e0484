import { ProviderError } from './cluster-provider';
import type { InfrastructureProvider, ProviderOperation, ProviderOperationStatus } from './infrastructure-driver';

/**
 * The backup port: taking, listing, deleting and restoring a cluster's backups at its provider.
 * RKE2 backs up etcd (snapshots listed as `ETCDSnapshotFile` objects, restored by a cluster reset)
 * and workloads in Velero's model; GKE uses Backup for GKE (backup plans, backups, restore plans).
 * Capstan's own scheduler decides when a backup is taken; the driver only carries it out.
 *
 * The contract of InfrastructureDriver holds here too: provider-side names derive from Capstan's
 * ids (`backupId`, `restoreId`), so a call repeated after a crash finds what the first one started
 * instead of starting a second backup; deleting an absent backup succeeds; long work is returned as
 * a `ProviderOperation` a step checkpoints and follows with `getOperation`; failures throw
 * ProviderError with `retryable`.
 */
export type BackupKindName = 'etcd_snapshot' | 'workload';

/** What a restore brings back: the control plane's whole state (etcd), or workloads only. */
export type RestoreScope = 'control_plane' | 'workloads';

export interface BackupSpec {
  /** Capstan's backup id (`bk_...`): the provider-side name derives from it. */
  backupId: string;
  /** The cluster's external name, as the InfrastructureDriver knows it. */
  cluster: string;
  kind: BackupKindName;
  /** Workload backups only (Velero's model); empty = every namespace. */
  includedNamespaces: string[];
  excludedNamespaces: string[];
  /** Workload backups only: a label selector in Kubernetes syntax, e.g. `app=web,tier!=cache`. */
  labelSelector?: string;
  /** Backup for GKE's delete lock in days (GKE only; checked before a backup is taken). */
  deleteLockDays?: number;
}

export interface ProviderBackup {
  backupId: string;
  state: 'running' | 'succeeded' | 'failed';
  /** Where the artefact lives (an object-store URL or the provider's resource name). */
  location: string | null;
  sizeBytes: bigint | null;
  completedAt: Date | null;
  error?: string;
}

export interface RestoreSpec {
  /** Capstan's id of the restore operation: the provider-side restore's name derives from it. */
  restoreId: string;
  backup: { backupId: string; cluster: string; kind: BackupKindName; location: string | null };
  /** The cluster restored into: the backup's own, or (workloads only) another of the same organisation. */
  targetCluster: string;
  scope: RestoreScope;
  /** Workloads only: restore just these namespaces; empty = everything the backup holds. */
  includedNamespaces: string[];
}

export abstract class BackupDriver {
  abstract readonly provider: InfrastructureProvider;
  /** Starts a backup (or finds the one already started for `backupId`). */
  abstract startBackup(spec: BackupSpec): Promise<ProviderOperation>;
  /** The backup as the provider has it now; null when it has none for `backupId`. */
  abstract getBackup(cluster: string, backupId: string, kind: BackupKindName): Promise<ProviderBackup | null>;
  abstract deleteBackup(cluster: string, backupId: string, kind: BackupKindName): Promise<void>;
  abstract startRestore(spec: RestoreSpec): Promise<ProviderOperation>;
  abstract getOperation(operation: ProviderOperation): Promise<ProviderOperationStatus>;
}

/** Resolves the backup driver for a cluster's `provider`, as DriverRegistry does for infrastructure. */
export abstract class BackupDrivers {
  abstract driverFor(provider: InfrastructureProvider): BackupDriver;
}

/** Builds a backup driver, or says in one sentence why this installation has none for the provider. */
export type BackupDriverSource = { create: () => BackupDriver } | { unavailable: string };

/**
 * The backup drivers of one installation, each built on first use. A provider without one fails
 * its backup steps with a final ProviderError saying why, not the process's boot.
 */
export class ConfiguredBackupDrivers extends BackupDrivers {
  private readonly built = new Map<InfrastructureProvider, BackupDriver>();

  constructor(private readonly sources: Record<InfrastructureProvider, BackupDriverSource>) {
    super();
  }

  driverFor(provider: InfrastructureProvider): BackupDriver {
    const existing = this.built.get(provider);
    if (existing) return existing;
    const source = this.sources[provider];
    if (!source) throw new ProviderError(`no backup driver is known for provider "${provider}"`, false, 'driver_unavailable');
    if ('unavailable' in source) throw new ProviderError(source.unavailable, false, 'driver_unavailable');
    const driver = source.create();
    this.built.set(provider, driver);
    return driver;
  }
}
