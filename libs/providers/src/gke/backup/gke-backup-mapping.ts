import { createHash } from 'node:crypto';
import type { BackupKindName, BackupSpec, ProviderBackup, RestoreScope } from '../../backup-driver';
import { ProviderError } from '../../cluster-provider';
import type { ProviderOperationStatus } from '../../infrastructure-driver';
import { RPC } from '../gke-mapping';

/**
 * Pure translations between Capstan's backup port and Backup for GKE v1 (gkebackup.googleapis.com):
 * resource ids, a backup's scope as a BackupPlan's BackupConfig, states and errors. No I/O.
 * The field names are those of google/cloud/gkebackup/v1/*.proto, as the REST API spells them.
 */

/** Final ProviderError codes of what Backup for GKE cannot do; the API answers them as 422. */
export const BACKUP_KIND_UNSUPPORTED = 'backup-kind-unsupported';
export const BACKUP_SCOPE_UNSUPPORTED = 'backup-scope-unsupported';

/**
 * Namespaces Backup for GKE never restores into ("managed namespaces", skipped silently; Google's
 * "Plan a set of restores" page). Excluding them from a backup therefore changes nothing a restore
 * brings back, which is why such an exclusion is accepted on GKE.
 */
export const GKE_MANAGED_NAMESPACES: ReadonlySet<string> = new Set([
  'cnrm-system',
  'configconnector-operator-system',
  'gatekeeper-system',
  'gke-connect',
  'gke-gmp-system',
  'gmp-public',
  'kube-node-lease',
  'kube-public',
  'kube-system',
]);

export interface GkeBackupConfig {
  allNamespaces?: boolean;
  selectedNamespaces?: { namespaces: string[] };
  includeVolumeData: boolean;
  includeSecrets: boolean;
}

export interface GkeBackup {
  name: string;
  state?: 'STATE_UNSPECIFIED' | 'CREATING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'DELETING';
  stateReason?: string;
  completeTime?: string;
  sizeBytes?: string;
}

export interface GkeRestore {
  name: string;
  state?: 'STATE_UNSPECIFIED' | 'CREATING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'DELETING' | 'VALIDATING';
  stateReason?: string;
  resourcesRestoredCount?: number;
}

/**
 * A Backup for GKE resource id from a Capstan id: "1 to 63 lower-case letters, digits and dashes,
 * starting with a letter, ending with a letter or digit" (`bk_01j...` -> `bk-01j...`). Stable, so a
 * retry names the same resource.
 */
export function resourceIdOf(capstanId: string): string {
  let id = capstanId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z]/.test(id)) id = `x-${id}`;
  return id.slice(0, 63).replace(/-+$/, '') || 'x';
}

/**
 * Refuses what GKE does not offer: its control plane is Google's, so there is no etcd snapshot to
 * take or restore (a workload backup is what Backup for GKE makes).
 */
export function assertWorkloadKind(kind: BackupKindName, scope?: RestoreScope): void {
  if (kind === 'etcd_snapshot' || scope === 'control_plane') {
    throw new ProviderError(
      'GKE clusters have no etcd snapshots: Google runs their control plane; take a workload backup (Backup for GKE) instead',
      false,
      BACKUP_KIND_UNSUPPORTED,
    );
  }
}

/**
 * A workload backup's scope as a BackupPlan's BackupConfig, and the key of that scope (one plan per
 * cluster and scope, so the plan of a scope never changes under a backup). Backup for GKE selects
 * whole namespaces (all, or a list): it has no label selector and no exclusion list, so those are
 * refused, except an exclusion of managed namespaces only, which no restore brings back anyway.
 */
export function backupConfigOf(spec: Pick<BackupSpec, 'includedNamespaces' | 'excludedNamespaces' | 'labelSelector'>): {
  config: GkeBackupConfig;
  scopeKey: string;
} {
  if (spec.labelSelector && spec.labelSelector.trim() !== '') {
    throw new ProviderError(
      'Backup for GKE selects whole namespaces; it cannot back up by label selector (leave labelSelector empty for GKE clusters)',
      false,
      BACKUP_SCOPE_UNSUPPORTED,
    );
  }
  const unmanaged = spec.excludedNamespaces.filter((n) => !GKE_MANAGED_NAMESPACES.has(n));
  if (unmanaged.length > 0) {
    throw new ProviderError(
      `Backup for GKE backs up all namespaces or a list of them, with no exclusions: name the namespaces to include instead of excluding ${unmanaged.join(', ')}`,
      false,
      BACKUP_SCOPE_UNSUPPORTED,
    );
  }
  const included = [...new Set(spec.includedNamespaces)].sort();
  // Volumes and Secrets are part of a workload: a restore without them does not bring it back.
  const common = { includeVolumeData: true, includeSecrets: true };
  if (included.length === 0) return { config: { allNamespaces: true, ...common }, scopeKey: 'all' };
  return { config: { selectedNamespaces: { namespaces: included }, ...common }, scopeKey: `ns:${included.join(',')}` };
}

/** `<cluster>-<6 hex of the scope>`: one BackupPlan per cluster and scope, at most 47 characters (cluster names are 40 at most). */
export function backupPlanIdOf(cluster: string, scopeKey: string): string {
  return `${resourceIdOf(cluster).slice(0, 56)}-${shortHash(scopeKey)}`;
}

/** One RestorePlan per target cluster, source backup plan and namespaces restored. */
export function restorePlanIdOf(targetCluster: string, backupPlan: string, namespaces: readonly string[]): string {
  return `${resourceIdOf(targetCluster).slice(0, 56)}-${shortHash(`${backupPlan}|${[...new Set(namespaces)].sort().join(',')}`)}`;
}

/**
 * What a Capstan restore asks of Backup for GKE: revert the namespaces to the backup
 * (DELETE_AND_RESTORE deletes each conflicting namespace with everything in it first, so objects
 * made after the backup are gone), volumes from the backup, and cluster-scoped resources the
 * target lacks (CRDs, ClusterRoles) without replacing those it has.
 */
export function restoreConfigOf(includedNamespaces: readonly string[]): Record<string, unknown> {
  const namespaces = [...new Set(includedNamespaces)].sort();
  return {
    ...(namespaces.length > 0 ? { selectedNamespaces: { namespaces } } : { allNamespaces: true }),
    namespacedResourceRestoreMode: 'DELETE_AND_RESTORE',
    volumeDataRestorePolicy: 'RESTORE_VOLUME_DATA_FROM_BACKUP',
    clusterResourceConflictPolicy: 'USE_EXISTING_VERSION',
    clusterResourceRestoreScope: { allGroupKinds: true },
  };
}

export function providerBackupOf(backupId: string, backup: GkeBackup): ProviderBackup {
  const state = backup.state === 'SUCCEEDED' ? 'succeeded' : backup.state === 'FAILED' || backup.state === 'DELETING' ? 'failed' : 'running';
  return {
    backupId,
    state,
    location: backup.name,
    sizeBytes: backup.sizeBytes !== undefined && /^\d+$/.test(backup.sizeBytes) && state === 'succeeded' ? BigInt(backup.sizeBytes) : null,
    completedAt: backup.completeTime ? new Date(backup.completeTime) : null,
    ...(state === 'failed' ? { error: backup.state === 'DELETING' ? 'the backup is being deleted' : (backup.stateReason ?? 'the backup failed') } : {}),
  };
}

/** A backup or restore as an operation: done once SUCCEEDED or FAILED. A failed one stays failed: retrying the same id finds it again. */
export function resourceStatus(kind: 'backup' | 'restore', resource: GkeBackup | GkeRestore): ProviderOperationStatus {
  switch (resource.state) {
    case 'SUCCEEDED':
      return { done: true };
    case 'FAILED':
      return {
        done: true,
        error: { message: `${kind} ${resource.name} failed: ${resource.stateReason ?? 'no reason given'}`, retryable: false, code: `gke_${kind}_failed` },
      };
    case 'DELETING':
      return { done: true, error: { message: `${kind} ${resource.name} is being deleted`, retryable: false, code: `gke_${kind}_deleted` } };
    default:
      return { done: false, progress: `${kind} ${String(resource.state ?? 'CREATING').toLowerCase()}` };
  }
}

const STATUS_CODES: Record<string, number> = {
  ...RPC,
  OK: 0,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  DATA_LOSS: 15,
};

/** A REST error body (`{ "error": { code, message, status } }`) as the error shape toProviderError reads (`code` = google.rpc.Code). */
export function restError(httpStatus: number, body: unknown): { code: number; message: string } {
  const error = (body as { error?: { message?: string; status?: string } } | null)?.error;
  const byName = error?.status ? STATUS_CODES[error.status] : undefined;
  const byHttp = HTTP_CODES[httpStatus] ?? (httpStatus >= 500 ? RPC.UNAVAILABLE : RPC.UNKNOWN);
  return { code: byName ?? byHttp, message: error?.message ?? `HTTP ${httpStatus}` };
}

const HTTP_CODES: Record<number, number> = {
  400: RPC.INVALID_ARGUMENT,
  401: RPC.UNAUTHENTICATED,
  403: RPC.PERMISSION_DENIED,
  404: RPC.NOT_FOUND,
  409: RPC.ABORTED,
  429: RPC.RESOURCE_EXHAUSTED,
  500: RPC.INTERNAL,
  503: RPC.UNAVAILABLE,
  504: RPC.DEADLINE_EXCEEDED,
};

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);
