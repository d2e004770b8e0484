export { Rke2BackupDriver } from './rke2-backup-driver';
export { ETCD_RESTORE_OPERATION, ETCD_SNAPSHOT_OPERATION } from './etcd-objects';
export { VELERO_BACKUP_OPERATION, VELERO_RESTORE_OPERATION } from './velero-objects';
