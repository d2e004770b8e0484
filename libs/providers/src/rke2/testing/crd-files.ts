import { join } from 'node:path';

/**
 * The upstream CRDs (cluster-api, cluster-api-provider-rke2; v1beta1) the builders are checked
 * against: the emulator's own copies, so the driver and the emulated management cluster agree on
 * one set of schemas (their source and commit are in each file's annotations).
 */
const CRDS = join(__dirname, '../../../../../apps/simulator/src/kube/crds');

export const CRD_FILES = [
  'clusters.cluster.x-k8s.io.json',
  'machinedeployments.cluster.x-k8s.io.json',
  'rke2controlplanes.controlplane.cluster.x-k8s.io.json',
  'rke2configtemplates.bootstrap.cluster.x-k8s.io.json',
  'devclusters.infrastructure.cluster.x-k8s.io.json',
  'devmachinetemplates.infrastructure.cluster.x-k8s.io.json',
].map((file) => join(CRDS, file));
