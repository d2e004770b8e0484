import { KubeApiError, type ApiServerClient, type KubeObject } from '../types';
import devClusters from './devclusters.infrastructure.cluster.x-k8s.io.json';
import devMachines from './devmachines.infrastructure.cluster.x-k8s.io.json';
import devMachineTemplates from './devmachinetemplates.infrastructure.cluster.x-k8s.io.json';
import etcdMachineSnapshots from './etcdmachinesnapshots.turtles-capi.cattle.io.json';
import etcdSnapshotRestores from './etcdsnapshotrestores.turtles-capi.cattle.io.json';
import clusters from './clusters.cluster.x-k8s.io.json';
import machineDeployments from './machinedeployments.cluster.x-k8s.io.json';
import machines from './machines.cluster.x-k8s.io.json';
import machineSets from './machinesets.cluster.x-k8s.io.json';
import rke2Configs from './rke2configs.bootstrap.cluster.x-k8s.io.json';
import rke2ConfigTemplates from './rke2configtemplates.bootstrap.cluster.x-k8s.io.json';
import rke2ControlPlanes from './rke2controlplanes.controlplane.cluster.x-k8s.io.json';

/**
 * The CustomResourceDefinitions of the emulated management cluster: Cluster API's core kinds,
 * CAPRKE2's control plane and bootstrap kinds, and the infrastructure kinds of Cluster API's own
 * Dev test provider (`test/infrastructure/docker`, whose in-memory backend is what the emulator
 * plays), and Rancher Turtles' etcd snapshot and restore kinds (`ETCDMachineSnapshot`,
 * `ETCDSnapshotRestore`, turtles-capi.cattle.io/v1alpha1) that Capstan's RKE2 backups drive. Each
 * file is the upstream CRD (Apache-2.0; source URL with commit in its `simulator.capstan.dev/source`
 * annotation) trimmed to its one served version by `refresh-crds.mjs`.
 */
export const CLUSTER_API_CRDS = [
  clusters,
  machineDeployments,
  machineSets,
  machines,
  rke2ControlPlanes,
  rke2Configs,
  rke2ConfigTemplates,
  devClusters,
  devMachines,
  devMachineTemplates,
  etcdMachineSnapshots,
  etcdSnapshotRestores,
] as unknown as KubeObject[];

/** Creates the CRDs on the management API server, or brings one an older simulator wrote up to this data. */
export async function installClusterApiCrds(server: ApiServerClient): Promise<void> {
  for (const crd of CLUSTER_API_CRDS) {
    const ref = { apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name };
    const existing = await server.get(ref);
    if (!existing) {
      try {
        await server.create(structuredClone(crd));
      } catch (error) {
        // Another simulator starting on the same database got there first.
        if (!(error instanceof KubeApiError && error.code === 409)) throw error;
      }
      continue;
    }
    if (existing.metadata.annotations?.['simulator.capstan.dev/source'] === crd.metadata.annotations?.['simulator.capstan.dev/source']) continue;
    await server.update({ ...structuredClone(crd), metadata: { ...crd.metadata, resourceVersion: existing.metadata.resourceVersion } });
  }
}
