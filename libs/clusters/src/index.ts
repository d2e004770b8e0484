export * from './clusters.module';
export * from './cluster-view';
export type { Requester } from './cluster-change';
export { ReadClusters } from './use-cases/read-clusters';
export { ReadVersions } from './use-cases/read-versions';
export type { CreateClusterInput } from './use-cases/create-cluster';
export type { UpdateClusterInput } from './use-cases/update-cluster';
export type { NodePoolChange } from './use-cases/update-node-pool';
export type { MaintenanceWindowSpec, NodePoolSpec } from './use-cases/change-rows';
