import { ProviderError } from '../../cluster-provider';
import type { ProviderBackup } from '../../backup-driver';
import type { ProviderOperationStatus } from '../../infrastructure-driver';
import { CAPI_CLUSTER_NAME_LABEL, CLUSTER_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../api-versions';
import type { Manifest } from '../manifest';
import { clusterIdOf } from '../naming';

/**
 * Rancher Turtles' etcd snapshot and restore kinds (its "day2" operations, group
 * `turtles-capi.cattle.io`), on the management cluster beside the Cluster; RKE2's own listing of
 * snapshot files, `ETCDSnapshotFile` (`k3s.cattle.io/v1`, cluster-scoped), on the workload cluster.
 * docs/rke2-driver.md ("Backups") says why these and how they behave.
 */
export const TURTLES_API_VERSION = 'turtles-capi.cattle.io/v1alpha1';
export const ETCD_SNAPSHOT_KIND = 'ETCDMachineSnapshot';
export const ETCD_RESTORE_KIND = 'ETCDSnapshotRestore';
export const SNAPSHOT_FILE_API_VERSION = 'k3s.cattle.io/v1';
export const SNAPSHOT_FILE_KIND = 'ETCDSnapshotFile';
/** Capstan's backup id on the objects it writes for a backup, to find them by selector. */
export const BACKUP_LABEL = 'capstan.io/backup';

/** `ProviderOperation.kind`s of this driver; `name` is `<Kind>/<object name>`. */
export const ETCD_SNAPSHOT_OPERATION = 'etcd-snapshot';
export const ETCD_RESTORE_OPERATION = 'etcd-restore';

/**
 * Capstan's ids as object names: `bk_01JX...` -> `bk-01jx...`, `op_01JX...` -> `restore-op-01jx...`.
 * Deterministic, so a call repeated after a crash finds the object the first one made. RKE2 names
 * the snapshot file `<name>-<node>-<unix seconds>`, so the name stays short.
 */
export function snapshotObjectName(backupId: string): string {
  return dnsName(backupId, '', 'backup id');
}

export function restoreObjectName(restoreId: string): string {
  return dnsName(restoreId, 'restore-', 'restore id');
}

function dnsName(id: string, prefix: string, what: string): string {
  const name = `${prefix}${id.toLowerCase().replace(/_/g, '-')}`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63)
    throw new ProviderError(`${what} "${id}" cannot name a Kubernetes object`, false, 'invalid_name');
  return name;
}

export function backupLabels(cluster: string, backupId: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [CLUSTER_LABEL]: clusterIdOf(cluster), [CAPI_CLUSTER_NAME_LABEL]: cluster, [BACKUP_LABEL]: backupId };
}

interface SnapshotFileEntry {
  name?: string;
  machineName?: string;
  location?: string;
  creationTime?: string;
}

interface SnapshotStatus {
  phase?: string;
  error?: string;
  snapshotFileName?: string;
  snapshots?: SnapshotFileEntry[];
  s3Snapshots?: SnapshotFileEntry[];
}

function snapshotStatus(snapshot: Manifest): SnapshotStatus {
  return (snapshot.status ?? {}) as SnapshotStatus;
}

/** The snapshot file's name (`<name>-<node>-<unix seconds>`) once RKE2 has written it. */
export function snapshotFileOf(snapshot: Manifest): string | null {
  return snapshotStatus(snapshot).snapshots?.[0]?.name ?? null;
}

/**
 * A backup as Capstan reports it, from the ETCDMachineSnapshot and the ETCDSnapshotFiles RKE2
 * lists for its file (`files`: those whose `spec.snapshotName` is the file; null when the
 * workload cluster could not be asked). The S3 copy is the backup's location when there is one:
 * it survives the loss of the server that took it.
 */
export function presentEtcdBackup(backupId: string, snapshot: Manifest, files: Manifest[] | null): ProviderBackup {
  const status = snapshotStatus(snapshot);
  const base = { backupId, location: null, sizeBytes: null, completedAt: null };
  if (status.phase === 'Failed') return { ...base, state: 'failed', error: status.error ?? 'the etcd snapshot failed' };
  if (status.phase !== 'Done') return { ...base, state: 'running' };
  const entry = status.s3Snapshots?.[0] ?? status.snapshots?.[0];
  const recorded = { location: entry?.location ?? null, completedAt: entry?.creationTime ? new Date(entry.creationTime) : null };
  if (files === null) return { ...base, ...recorded, state: 'succeeded' };
  const file = [...files].sort((a, b) => Number(Boolean(b.spec?.s3)) - Number(Boolean(a.spec?.s3)))[0];
  if (!file) return { ...base, state: 'failed', error: `RKE2 lists no snapshot file ${snapshotFileOf(snapshot) ?? ''}: it was deleted on the cluster` };
  const fileStatus = (file.status ?? {}) as { readyToUse?: boolean; size?: string | number; creationTime?: string; error?: { message?: string } };
  if (fileStatus.readyToUse !== true) {
    if (fileStatus.error?.message) return { ...base, state: 'failed', error: fileStatus.error.message };
    return { ...base, state: 'running' };
  }
  return {
    backupId,
    state: 'succeeded',
    location: (file.spec as { location?: string } | undefined)?.location ?? recorded.location,
    sizeBytes: parseQuantity(fileStatus.size),
    completedAt: fileStatus.creationTime ? new Date(fileStatus.creationTime) : recorded.completedAt,
  };
}

export function snapshotOperationStatus(snapshot: Manifest | null, target: string): ProviderOperationStatus {
  if (!snapshot)
    return {
      done: true,
      error: { message: `the etcd snapshot of cluster ${target} was deleted before it finished`, retryable: false, code: 'backup_missing' },
    };
  const status = snapshotStatus(snapshot);
  if (status.phase === 'Done') return { done: true };
  if (status.phase === 'Failed')
    return { done: true, error: { message: status.error ?? 'the etcd snapshot failed', retryable: false, code: 'snapshot_failed' } };
  return { done: false, progress: `etcd snapshot ${status.phase ?? 'submitted'}` };
}

/** Turtles' restore phases in order, for a progress line. */
const RESTORE_PHASES = ['Pending', 'Started', 'Shutdown', 'Running', 'Restart', 'Unpause', 'Joining', 'Done'];

export function restoreOperationStatus(restore: Manifest | null, target: string): ProviderOperationStatus {
  if (!restore)
    return {
      done: true,
      error: { message: `the etcd restore of cluster ${target} was deleted before it finished`, retryable: false, code: 'restore_missing' },
    };
  const status = (restore.status ?? {}) as { phase?: string; conditions?: { message?: string }[] };
  const phase = status.phase || 'Pending';
  if (phase === 'Done') return { done: true };
  if (phase === 'Failed')
    return { done: true, error: { message: status.conditions?.[0]?.message ?? 'the etcd restore failed', retryable: false, code: 'restore_failed' } };
  const step = RESTORE_PHASES.indexOf(phase);
  return { done: false, progress: step >= 0 ? `etcd restore: ${phase} (${step + 1} of ${RESTORE_PHASES.length})` : `etcd restore: ${phase}` };
}

const QUANTITY_SUFFIXES: Record<string, bigint> = {
  '': 1n,
  k: 1000n,
  M: 1000n ** 2n,
  G: 1000n ** 3n,
  T: 1000n ** 4n,
  Ki: 1024n,
  Mi: 1024n ** 2n,
  Gi: 1024n ** 3n,
  Ti: 1024n ** 4n,
};

/** A Kubernetes quantity in bytes ("12345", "12Mi", "1.5Gi"); null when it is not one. */
export function parseQuantity(value: unknown): bigint | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? BigInt(Math.round(value)) : null;
  if (typeof value !== 'string') return null;
  const match = /^(\d+)(?:\.(\d+))?(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value.trim());
  if (!match) return null;
  const unit = QUANTITY_SUFFIXES[match[3] ?? '']!;
  const fraction = match[2] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  return (BigInt(match[1]! + fraction) * unit) / scale;
}
