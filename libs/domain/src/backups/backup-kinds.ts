/**
 * Which backup kinds each provider offers (docs/backups.md, "The model"). RKE2 runs etcd on the
 * customer's servers and snapshots it; GKE runs the control plane itself and gives no access to its
 * etcd, so Backup for GKE backs up workloads only (Google Cloud, "Backup for GKE overview").
 */
import { UnprocessableError } from '../errors/domain-error';
import type { Provider } from '../catalogue/provider';

export type BackupKind = 'etcd_snapshot' | 'workload';

const OFFERED: Readonly<Record<Provider, readonly BackupKind[]>> = Object.freeze({ rke2: ['etcd_snapshot', 'workload'], gke: ['workload'] });

export function backupKindsOffered(provider: Provider): readonly BackupKind[] {
  return OFFERED[provider];
}

/** What a backup or schedule is when the request names no kind: the control plane where it can be had. */
export function defaultBackupKind(provider: Provider): BackupKind {
  return OFFERED[provider][0]!;
}

/** The kind asked for (or the provider's default), refused with 422 when the provider has no such backups. */
export function backupKindFor(provider: Provider, kind: BackupKind | undefined): BackupKind {
  const chosen = kind ?? defaultBackupKind(provider);
  if (!OFFERED[provider].includes(chosen))
    throw new UnprocessableError(
      'backup-kind-unsupported',
      `${provider} clusters have no ${chosen} backups: the provider runs the control plane and gives no access to its etcd; take a workload backup`,
      { rule: 'backup kinds the provider offers', provider, kind: chosen, offered: [...OFFERED[provider]] },
    );
  return chosen;
}

/** The add-on that brings Velero, which takes and restores RKE2 workload backups (docs/backups.md, "The model"). */
export const WORKLOAD_BACKUP_ADDON = 'velero';

/**
 * Refuses (422 `velero-addon-required`) a workload backup, schedule or restore on an RKE2 cluster
 * whose add-ons (`enabledAddons`: its choices, else its tier's defaults) do not include `velero`:
 * RKE2 workload backups are Velero `Backup`s and `Restore`s on the cluster itself, which only a
 * cluster running Velero serves; without it the operation would start and fail in the worker
 * (`velero_missing`). GKE is not asked: Backup for GKE is Google's service, and Google enables its
 * agent on the cluster by itself when the first backup or restore plan is made (Google Cloud,
 * "Enable Backup for GKE for a cluster"); an etcd snapshot needs no add-on.
 */
export function assertWorkloadBackupTool(
  cluster: { id: string; provider: Provider },
  kind: BackupKind,
  enabledAddons: readonly string[],
  doing: 'take workload backups of' | 'schedule workload backups of' | 'restore workload backups into',
): void {
  if (kind !== 'workload' || cluster.provider !== 'rke2' || enabledAddons.includes(WORKLOAD_BACKUP_ADDON)) return;
  throw new UnprocessableError(
    'velero-addon-required',
    `cluster ${cluster.id} does not run the ${WORKLOAD_BACKUP_ADDON} add-on: enable it (PUT /v1/clusters/${cluster.id}/addons/${WORKLOAD_BACKUP_ADDON}) to ${doing} it`,
    { rule: 'RKE2 workload backups and restores need the velero add-on', cluster_id: cluster.id, addon: WORKLOAD_BACKUP_ADDON },
  );
}

/** Why a backup was marked deleted when its cluster was (the backup's `error`). */
export const LOST_WITH_CLUSTER = {
  code: 'cluster_deleted',
  message: "the etcd snapshot was stored on the cluster's own servers (not in an object store) and was deleted with the cluster",
} as const;

/**
 * Whether a backup goes with its cluster when the cluster is deleted (docs/backups.md, "When a
 * cluster is deleted"). An RKE2 etcd snapshot without RKE2_ETCD_S3_* settings is a file on the
 * servers that took it (`file://`, RKE2 documentation, "Backup and Restore"): deleting the
 * cluster's machines deletes it. One copied to S3 (`s3://`, its location once the copy exists)
 * stays. Workload backups never lie on the cluster: Velero's are in the installation's object
 * store, Backup for GKE's are Google resources that outlive the cluster.
 */
export function lostWithCluster(backup: { kind: BackupKind; location: string | null }): boolean {
  return backup.kind === 'etcd_snapshot' && !(backup.location ?? '').startsWith('s3://');
}
