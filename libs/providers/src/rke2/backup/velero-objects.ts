import type { BackupSpec, ProviderBackup, RestoreSpec } from '../../backup-driver';
import { ProviderError } from '../../cluster-provider';
import type { ProviderOperationStatus } from '../../infrastructure-driver';
import type { Manifest } from '../manifest';
import { backupLabels, restoreObjectName, snapshotObjectName } from './etcd-objects';

/**
 * Velero's kinds on the workload cluster (`velero.io/v1`, in the namespace the `velero` add-on
 * installs it into): what Capstan's workload backups are. docs/rke2-driver.md ("Workload backups").
 */
export const VELERO_API_VERSION = 'velero.io/v1';
export const VELERO_NAMESPACE = 'velero';
export const VELERO_BACKUP_OPERATION = 'velero-backup';
export const VELERO_RESTORE_OPERATION = 'velero-restore';
/** Velero's default BackupStorageLocation, which the add-on configures. */
const STORAGE_LOCATION = 'default';

export const veleroBackupName = snapshotObjectName;
export const veleroRestoreName = restoreObjectName;

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * A label selector in kubectl's syntax (`app=web,tier!=cache,env in (a,b),!legacy,owner`) as the
 * metav1.LabelSelector Velero's `spec.labelSelector` takes; `!=` becomes NotIn of one value, as
 * apimachinery converts it. A malformed selector is a final error naming it.
 */
export function labelSelectorFrom(selector: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  const invalid = (why: string) => new ProviderError(`label selector "${selector}" is not valid: ${why}`, false, 'invalid_label_selector');
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  for (const raw of parts.map((p) => p.trim())) {
    if (!raw) throw invalid('an empty requirement');
    let match: RegExpExecArray | null;
    if ((match = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(raw))) {
      const values = match[3]!.split(',').map((v) => v.trim());
      if (!KEY.test(match[1]!) || values.some((v) => !VALUE.test(v))) throw invalid(`"${raw}"`);
      matchExpressions.push({ key: match[1]!, operator: match[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((match = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(raw))) {
      if (!KEY.test(match[1]!) || !VALUE.test(match[2]!)) throw invalid(`"${raw}"`);
      matchExpressions.push({ key: match[1]!, operator: 'NotIn', values: [match[2]!] });
    } else if ((match = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(raw))) {
      if (!KEY.test(match[1]!) || !VALUE.test(match[2]!)) throw invalid(`"${raw}"`);
      matchLabels[match[1]!] = match[2]!;
    } else if ((match = /^!\s*(\S+)$/.exec(raw))) {
      if (!KEY.test(match[1]!)) throw invalid(`"${raw}"`);
      matchExpressions.push({ key: match[1]!, operator: 'DoesNotExist' });
    } else if (KEY.test(raw)) matchExpressions.push({ key: raw, operator: 'Exists' });
    else throw invalid(`"${raw}"`);
  }
  return { ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}), ...(matchExpressions.length > 0 ? { matchExpressions } : {}) };
}

/** The Velero Backup of a Capstan workload backup. Velero's TTL is left at its default (720h): Capstan's retention deletes backups itself. */
export function buildVeleroBackup(spec: BackupSpec): Manifest {
  return {
    apiVersion: VELERO_API_VERSION,
    kind: 'Backup',
    metadata: { name: veleroBackupName(spec.backupId), namespace: VELERO_NAMESPACE, labels: backupLabels(spec.cluster, spec.backupId) },
    spec: {
      ...(spec.includedNamespaces.length > 0 ? { includedNamespaces: spec.includedNamespaces } : {}),
      ...(spec.excludedNamespaces.length > 0 ? { excludedNamespaces: spec.excludedNamespaces } : {}),
      ...(spec.labelSelector?.trim() ? { labelSelector: labelSelectorFrom(spec.labelSelector) } : {}),
      storageLocation: STORAGE_LOCATION,
    },
  };
}

export function buildVeleroRestore(spec: RestoreSpec): Manifest {
  return {
    apiVersion: VELERO_API_VERSION,
    kind: 'Restore',
    metadata: {
      name: veleroRestoreName(spec.restoreId),
      namespace: VELERO_NAMESPACE,
      labels: backupLabels(spec.targetCluster, spec.backup.backupId),
    },
    spec: {
      backupName: veleroBackupName(spec.backup.backupId),
      ...(spec.includedNamespaces.length > 0 ? { includedNamespaces: spec.includedNamespaces } : {}),
    },
  };
}

interface VeleroStatus {
  phase?: string;
  failureReason?: string;
  validationErrors?: string[];
  errors?: number;
  completionTimestamp?: string;
  progress?: { totalItems?: number; itemsBackedUp?: number; itemsRestored?: number };
}

const FAILED = new Set(['Failed', 'FailedValidation', 'PartiallyFailed', 'FinalizingPartiallyFailed', 'WaitingForPluginOperationsPartiallyFailed']);

function failure(status: VeleroStatus, what: string): string {
  if (status.validationErrors?.length) return `${what} is not valid: ${status.validationErrors.join('; ')}`;
  if (status.failureReason) return `${what} failed: ${status.failureReason}`;
  if (status.phase === 'PartiallyFailed') return `${what} partially failed with ${status.errors ?? 'some'} errors`;
  return `${what} failed`;
}

/** Completed is the only good end: a partly failed backup would restore less than asked for. */
export function presentVeleroBackup(backupId: string, backup: Manifest): ProviderBackup {
  const status = (backup.status ?? {}) as VeleroStatus;
  const base = { backupId, location: null, sizeBytes: null, completedAt: null };
  if (status.phase === 'Completed')
    return {
      backupId,
      state: 'succeeded',
      location: `velero://${String((backup.spec as { storageLocation?: string } | undefined)?.storageLocation ?? STORAGE_LOCATION)}/backups/${backup.metadata.name}`,
      sizeBytes: null,
      completedAt: status.completionTimestamp ? new Date(status.completionTimestamp) : null,
    };
  if (status.phase && FAILED.has(status.phase)) return { ...base, state: 'failed', error: failure(status, 'the Velero backup') };
  return { ...base, state: 'running' };
}

export function veleroOperationStatus(object: Manifest | null, what: 'backup' | 'restore', target: string): ProviderOperationStatus {
  if (!object)
    return {
      done: true,
      error: { message: `the Velero ${what} on cluster ${target} was deleted before it finished`, retryable: false, code: `${what}_missing` },
    };
  const status = (object.status ?? {}) as VeleroStatus;
  if (status.phase === 'Completed') return { done: true };
  if (status.phase && FAILED.has(status.phase))
    return { done: true, error: { message: failure(status, `the Velero ${what}`), retryable: false, code: `velero_${what}_failed` } };
  const progress = status.progress;
  const count = what === 'backup' ? progress?.itemsBackedUp : progress?.itemsRestored;
  return {
    done: false,
    progress: `Velero ${what} ${status.phase ?? 'New'}${progress?.totalItems ? ` (${count ?? 0} of ${progress.totalItems} items)` : ''}`,
  };
}
