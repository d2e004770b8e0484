/**
 * The JSON shapes the emulated Container API answers with: the fields of GKE's Cluster, NodePool
 * and Operation (google/container/v1/cluster_service.proto) that the emulator keeps, spelled as
 * the REST API spells them.
 */
export type ClusterStatus = 'PROVISIONING' | 'RUNNING' | 'RECONCILING' | 'STOPPING' | 'ERROR' | 'DEGRADED';
export type NodePoolStatus = 'PROVISIONING' | 'RUNNING' | 'RUNNING_WITH_ERROR' | 'RECONCILING' | 'STOPPING' | 'ERROR';
export type OperationStatus = 'PENDING' | 'RUNNING' | 'DONE' | 'ABORTING';
export type OperationType =
  | 'CREATE_CLUSTER'
  | 'DELETE_CLUSTER'
  | 'UPGRADE_MASTER'
  | 'UPGRADE_NODES'
  | 'UPDATE_CLUSTER'
  | 'CREATE_NODE_POOL'
  | 'DELETE_NODE_POOL'
  | 'SET_NODE_POOL_SIZE'
  | 'SET_MAINTENANCE_POLICY'
  | 'SET_LABELS';

export interface TimeWindowResource {
  startTime: string;
  endTime: string;
  maintenanceExclusionOptions?: { scope: string };
}

export interface MaintenancePolicyResource {
  window?: {
    recurringWindow?: { window: TimeWindowResource; recurrence: string };
    dailyMaintenanceWindow?: { startTime: string; duration: string };
    maintenanceExclusions?: Record<string, TimeWindowResource>;
  };
  resourceVersion: string;
}

export interface ClusterResource {
  name: string;
  description?: string;
  id: string;
  selfLink: string;
  location: string;
  zone: string;
  locations: string[];
  network: string;
  subnetwork: string;
  endpoint?: string;
  controlPlaneEndpointsConfig?: { dnsEndpointConfig: { endpoint: string; allowExternalTraffic: boolean } };
  masterAuth: { clusterCaCertificate?: string };
  initialClusterVersion: string;
  currentMasterVersion: string;
  currentNodeVersion: string;
  currentNodeCount: number;
  createTime: string;
  status: ClusterStatus;
  statusMessage?: string;
  resourceLabels: Record<string, string>;
  labelFingerprint: string;
  releaseChannel: { channel: string };
  maintenancePolicy?: MaintenancePolicyResource;
  addonsConfig?: { gkeBackupAgentConfig: { enabled: boolean } };
  databaseEncryption?: { state: string; keyName?: string };
  conditions: { code: string; message: string; canonicalCode?: string }[];
  etag: string;
  nodePools?: NodePoolResource[];
}

export interface NodePoolResource {
  name: string;
  config: {
    machineType: string;
    diskSizeGb: number;
    imageType: string;
    labels: Record<string, string>;
    taints: { key: string; value: string; effect: string }[];
  };
  initialNodeCount: number;
  locations: string[];
  selfLink: string;
  version: string;
  status: NodePoolStatus;
  statusMessage?: string;
  autoscaling?: { enabled: boolean; minNodeCount: number; maxNodeCount: number };
  upgradeSettings: { maxSurge: number; maxUnavailable: number; strategy: 'SURGE' };
  management: { autoUpgrade: boolean; autoRepair: boolean };
  etag: string;
}

export interface OperationResource {
  name: string;
  zone: string;
  location: string;
  operationType: OperationType;
  status: OperationStatus;
  statusMessage?: string;
  detail?: string;
  selfLink: string;
  targetLink: string;
  startTime: string;
  endTime?: string;
  error?: { code: number; message: string };
  /** GKE's `OperationProgress`: for node upgrades, the node counts as `gcloud container operations describe` shows them. */
  progress?: { status: OperationStatus; metrics: { name: string; intValue: string }[] };
}
