/** The upstream CRDs the builders are checked against. */
export const CRD_FILES = [
  '/tmp/rke2/cluster.x-k8s.io_clusters.yaml',
  '/tmp/rke2/cluster.x-k8s.io_machinedeployments.yaml',
  '/tmp/rke2/rke2controlplanes.yaml',
  '/tmp/rke2/rke2configtemplates.yaml',
  '/tmp/rke2/infrastructure.cluster.x-k8s.io_devclusters.yaml',
  '/tmp/rke2/infrastructure.cluster.x-k8s.io_devmachinetemplates.yaml',
];
