/**
 * The Cluster API versions Capstan writes, one constant per API group. Upstream (cluster-api and
 * cluster-api-provider-rke2) serve v1beta2 as the storage version and mark v1beta1 deprecated but
 * still served and converted; Capstan targets v1beta1 (issue #11), and moving to v1beta2 is a
 * change of these constants plus the field renames the builders' schema tests then point out.
 */
export const CLUSTER_API_VERSION = 'cluster.x-k8s.io/v1beta1';
export const CONTROL_PLANE_API_VERSION = 'controlplane.cluster.x-k8s.io/v1beta1';
export const BOOTSTRAP_API_VERSION = 'bootstrap.cluster.x-k8s.io/v1beta1';

/**
 * The infrastructure provider the emulator ships: Cluster API's own test provider ("dev", in its
 * in-memory backend), standing in for the provider's hardware. A real installation configures its
 * own kinds (RKE2_INFRASTRUCTURE_TEMPLATE_KIND / _API_VERSION), e.g. Metal3MachineTemplate.
 */
export const DEV_INFRASTRUCTURE_API_VERSION = 'infrastructure.cluster.x-k8s.io/v1beta1';
export const DEV_INFRASTRUCTURE_CLUSTER_KIND = 'DevCluster';
export const DEV_INFRASTRUCTURE_MACHINE_TEMPLATE_KIND = 'DevMachineTemplate';

/** Labels Capstan puts on every object it writes, so staff can find a tenant's objects with a selector. */
export const ORGANIZATION_LABEL = 'capstan.io/organization';
export const CLUSTER_LABEL = 'capstan.io/cluster';
export const NODE_POOL_LABEL = 'capstan.io/node-pool';
export const MACHINE_TYPE_ANNOTATION = 'capstan.io/machine-type';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'capstan';

/** Cluster API's own labels and annotations (cluster-api: api/core/v1beta1/common_types.go). */
export const CAPI_CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';
export const CAPI_DEPLOYMENT_NAME_LABEL = 'cluster.x-k8s.io/deployment-name';
export const CAPI_CONTROL_PLANE_LABEL = 'cluster.x-k8s.io/control-plane';
/** Read by the Cluster API cluster-autoscaler provider: a MachineDeployment with both is a node group. */
export const AUTOSCALER_MIN_ANNOTATION = 'cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size';
export const AUTOSCALER_MAX_ANNOTATION = 'cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size';
