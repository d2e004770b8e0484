export { GKE_BACKUP_OPERATION_KIND, GkeBackupDriver, type GkeBackupDriverSettings } from './gke-backup-driver';
export { BACKUP_KIND_UNSUPPORTED, BACKUP_SCOPE_UNSUPPORTED } from './gke-backup-mapping';
export { gkeBackupDriverSource } from './gke-backup-source';
