export { Rke2Driver, type Rke2DriverOptions, CAPI_ROLLOUT } from './rke2-driver';
export {
  configuredInfrastructure,
  devInfrastructure,
  DEFAULT_RKE2_SETTINGS,
  type Rke2DriverSettings,
  type InfrastructureProviderSettings,
} from './rke2-settings';
export * from './api-versions';
export { clusterObjectNames, nodePoolObjectNames } from './naming';
export { Rke2BackupDriver, ETCD_RESTORE_OPERATION, ETCD_SNAPSHOT_OPERATION, VELERO_BACKUP_OPERATION, VELERO_RESTORE_OPERATION } from './backup';
