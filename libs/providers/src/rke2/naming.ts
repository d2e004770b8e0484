import { ProviderError } from '../cluster-provider';

/**
 * Names of the Cluster API objects of one Capstan cluster, all derived from its external name
 * (`capstan-<ulid>`, see externalClusterName), so a call repeated after a crash finds the objects
 * the first one made.
 *
 * Every cluster lives in the one configured namespace, so each name carries the cluster's. A node
 * pool's MachineDeployment is `<cluster>-<pool ulid>` (61 characters): Cluster API copies the
 * MachineDeployment's name into the `cluster.x-k8s.io/deployment-name` label of its Machines, and
 * a label value holds at most 63.
 */
export interface ClusterObjectNames {
  cluster: string;
  controlPlane: string;
  infrastructureCluster: string;
  controlPlaneMachineTemplate: string;
  /** Written by the control plane provider once the first server is up (Cluster API convention). */
  kubeconfigSecret: string;
}

export interface NodePoolObjectNames {
  machineDeployment: string;
  bootstrapTemplate: string;
  infrastructureTemplate: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function clusterObjectNames(cluster: string): ClusterObjectNames {
  assertDnsLabel(cluster, 'cluster');
  return {
    cluster,
    controlPlane: cluster,
    infrastructureCluster: cluster,
    controlPlaneMachineTemplate: `${cluster}-control-plane`,
    kubeconfigSecret: `${cluster}-kubeconfig`,
  };
}

export function nodePoolObjectNames(cluster: string, pool: string): NodePoolObjectNames {
  assertDnsLabel(cluster, 'cluster');
  assertDnsLabel(pool, 'node pool');
  const name = `${cluster}-${pool.replace(/^pool-/, '')}`;
  if (name.length > 63) throw new ProviderError(`node pool name ${pool} in cluster ${cluster} makes a name longer than 63 characters`, false, 'invalid_name');
  return { machineDeployment: name, bootstrapTemplate: name, infrastructureTemplate: name };
}

/** `capstan-<ulid>` -> `cl_<ulid>`: the inverse of externalClusterName, for the labels. */
export function clusterIdOf(cluster: string): string {
  return `cl_${cluster.replace(/^capstan-/, '')}`;
}

/** `pool-<ulid>` -> `np_<ulid>`: the inverse of externalNodePoolName. */
export function nodePoolIdOf(pool: string): string {
  return `np_${pool.replace(/^pool-/, '')}`;
}

/**
 * Capstan's "1.35.4" as an RKE2 release, "v1.35.4+rke2r1": RKE2ControlPlane wants that form
 * (its CRD's pattern), and Machines carry it too. `revision` is the RKE2 packaging revision.
 */
export function rke2Version(version: string, revision: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new ProviderError(`"${version}" is not a Kubernetes version of the form 1.35.4`, false, 'invalid_version');
  return `v${version}+${revision}`;
}

/** "v1.35.4+rke2r1" (or a kubelet's "v1.35.4+rke2r1", or "1.35.4") -> "1.35.4"; null when not a version. */
export function kubernetesVersionOf(version: string | undefined | null): string | null {
  const match = /^v?(\d+\.\d+\.\d+)(?:[+-].*)?$/.exec(version ?? '');
  return match ? match[1]! : null;
}

function assertDnsLabel(name: string, what: string): void {
  if (!DNS_LABEL.test(name) || name.length > 63) throw new ProviderError(`${what} name "${name}" is not a DNS label`, false, 'invalid_name');
}
