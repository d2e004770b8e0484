/**
 * The JSON shapes the emulated Backup for GKE API answers with: the fields of BackupPlan, Backup,
 * RestorePlan, Restore and OperationMetadata (google/cloud/gkebackup/v1/*.proto) the emulator
 * keeps, spelled as the REST API spells them (lowerCamelCase, enums by name, int64 as a string).
 */
export type BackupPlanState = 'CLUSTER_PENDING' | 'PROVISIONING' | 'READY' | 'FAILED' | 'DEACTIVATED' | 'DELETING';
export type BackupState = 'CREATING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'DELETING';
export type RestorePlanState = 'CLUSTER_PENDING' | 'READY' | 'FAILED' | 'DELETING';
export type RestoreState = 'CREATING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'DELETING' | 'VALIDATING';

export interface Namespaces {
  namespaces: string[];
}

/** The oneof `backup_scope`: exactly one member is present. */
export interface BackupScope {
  allNamespaces?: boolean;
  selectedNamespaces?: Namespaces;
}

export interface BackupPlanResource {
  name: string;
  uid: string;
  createTime: string;
  updateTime: string;
  description?: string;
  cluster: string;
  retentionPolicy?: { backupDeleteLockDays: number; backupRetainDays: number; locked: boolean };
  labels: Record<string, string>;
  backupSchedule?: { cronSchedule?: string; paused: boolean };
  etag: string;
  deactivated: boolean;
  backupConfig: BackupScope & { includeVolumeData: boolean; includeSecrets: boolean; permissiveMode: boolean };
  protectedPodCount: number;
  state: BackupPlanState;
  stateReason?: string;
  lastSuccessfulBackupTime?: string;
}

export interface BackupResource extends BackupScope {
  name: string;
  uid: string;
  createTime: string;
  updateTime: string;
  manual: boolean;
  labels: Record<string, string>;
  deleteLockDays: number;
  deleteLockExpireTime?: string;
  retainDays: number;
  retainExpireTime?: string;
  containsVolumeData: boolean;
  containsSecrets: boolean;
  clusterMetadata: { cluster: string; k8sVersion: string; gkeVersion: string; backupCrdVersions: Record<string, string> };
  state: BackupState;
  stateReason?: string;
  completeTime?: string;
  resourceCount: number;
  volumeCount: number;
  /** int64: a decimal string in JSON. */
  sizeBytes: string;
  configBackupSizeBytes: string;
  podCount: number;
  etag: string;
  description?: string;
  permissiveMode: boolean;
}

export interface GroupKind {
  resourceGroup: string;
  resourceKind: string;
}

export interface RestoreConfigResource {
  volumeDataRestorePolicy: string;
  clusterResourceConflictPolicy: string;
  namespacedResourceRestoreMode: string;
  clusterResourceRestoreScope?: { selectedGroupKinds?: GroupKind[]; excludedGroupKinds?: GroupKind[]; allGroupKinds?: boolean; noGroupKinds?: boolean };
  allNamespaces?: boolean;
  selectedNamespaces?: Namespaces;
  noNamespaces?: boolean;
  excludedNamespaces?: Namespaces;
}

export interface RestorePlanResource {
  name: string;
  uid: string;
  createTime: string;
  updateTime: string;
  description?: string;
  backupPlan: string;
  cluster: string;
  restoreConfig: RestoreConfigResource;
  labels: Record<string, string>;
  etag: string;
  state: RestorePlanState;
  stateReason?: string;
}

export interface RestoreResource {
  name: string;
  uid: string;
  createTime: string;
  updateTime: string;
  description?: string;
  backup: string;
  cluster: string;
  restoreConfig: RestoreConfigResource;
  labels: Record<string, string>;
  state: RestoreState;
  stateReason?: string;
  completeTime?: string;
  resourcesRestoredCount: number;
  resourcesExcludedCount: number;
  resourcesFailedCount: number;
  volumesRestoredCount: number;
  etag: string;
}

/** google.longrunning.Operation with google.cloud.gkebackup.v1.OperationMetadata. */
export interface LongRunningOperation {
  name: string;
  metadata: {
    '@type': 'type.googleapis.com/google.cloud.gkebackup.v1.OperationMetadata';
    createTime: string;
    endTime?: string;
    target: string;
    verb: string;
    requestedCancellation: boolean;
    apiVersion: 'v1';
  };
  done: boolean;
  error?: { code: number; message: string; details: unknown[] };
  response?: Record<string, unknown>;
}
