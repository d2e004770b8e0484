export * from './clusters.module';
export * from './cluster-view';
export type { Requester } from './cluster-change';
export { ReadClusters } from './use-cases/read-clusters';
export { ReadVersions } from './use-cases/read-versions';
export { ReadFleetClusters, type FleetClusterRow } from './use-cases/read-fleet-clusters';
export { StartClusterUpgrade, type PlannedClusterUpgrade } from './use-cases/start-cluster-upgrade';
export { StartClusterOperation, type PlannedClusterOperation } from './use-cases/start-cluster-operation';
export { StartBackupOperation, type PlannedBackupWork } from './use-cases/start-backup-operation';
export { ReadMeteredClusters, type MeteredClusterRows } from './use-cases/read-metered-clusters';
export type { CreateClusterInput } from './use-cases/create-cluster';
export type { UpdateClusterInput } from './use-cases/update-cluster';
export type { NodePoolChange } from './use-cases/update-node-pool';
export type { MaintenanceWindowSpec, NodePoolSpec } from './use-cases/change-rows';
export * from './operation-steps';
export * from './cluster-fleet.module';
export {
  ApiServerHealthModule,
  RecordApiServerHealth,
  type ApiServerObservation,
  type AnnouncedHealthChange,
  type WatchedCluster,
} from './use-cases/record-api-server-health';
export { GkeDriftCheckModule } from './drift/gke-drift.module';
export { CheckGkeSettingsDrift, GKE_DRIFT_CHECK_ACTOR, type DriftOutcome, type DriftPassResult } from './drift/check-gke-settings-drift';
