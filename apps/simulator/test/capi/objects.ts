import type { KubeObject } from '../../src/kube/types';
import { BOOTSTRAP_API, CLUSTER_API, CONTROL_PLANE_API, INFRASTRUCTURE_API } from '../../src/kube/controllers/capi/api';

/**
 * The objects the RKE2 driver writes for a cluster with one node pool, as a Cluster API user
 * would: Cluster, DevCluster, RKE2ControlPlane with its DevMachineTemplate, and per pool a
 * MachineDeployment with an RKE2ConfigTemplate and a DevMachineTemplate.
 */
export const NAMESPACE = 'capstan';

export interface ClusterShape {
  name: string;
  version: string;
  controlPlaneReplicas?: number;
  pools?: { name: string; replicas: number; version?: string; maxSurge?: number; maxUnavailable?: number }[];
}

export function clusterObjects(shape: ClusterShape): KubeObject[] {
  const { name } = shape;
  const labels = { 'capstan.io/cluster-id': name };
  const objects: KubeObject[] = [
    {
      apiVersion: INFRASTRUCTURE_API,
      kind: 'DevCluster',
      metadata: { name, namespace: NAMESPACE, labels },
      spec: { backend: { inMemory: {} } },
    },
    devMachineTemplate(`${name}-control-plane`),
    {
      apiVersion: CONTROL_PLANE_API,
      kind: 'RKE2ControlPlane',
      metadata: { name: `${name}-control-plane`, namespace: NAMESPACE, labels },
      spec: {
        replicas: shape.controlPlaneReplicas ?? 1,
        version: shape.version,
        rolloutStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
        registrationMethod: 'control-plane-endpoint',
        machineTemplate: { infrastructureRef: { apiVersion: INFRASTRUCTURE_API, kind: 'DevMachineTemplate', name: `${name}-control-plane` } },
        serverConfig: { cni: 'cilium' },
        agentConfig: {},
      },
    },
    {
      apiVersion: CLUSTER_API,
      kind: 'Cluster',
      metadata: { name, namespace: NAMESPACE, labels },
      spec: {
        clusterNetwork: { pods: { cidrBlocks: ['10.42.0.0/16'] }, services: { cidrBlocks: ['10.43.0.0/16'] } },
        controlPlaneRef: { apiVersion: CONTROL_PLANE_API, kind: 'RKE2ControlPlane', name: `${name}-control-plane` },
        infrastructureRef: { apiVersion: INFRASTRUCTURE_API, kind: 'DevCluster', name },
      },
    },
  ];
  for (const pool of shape.pools ?? []) objects.push(...poolObjects(name, pool, shape.version));
  return objects;
}

export function poolObjects(cluster: string, pool: NonNullable<ClusterShape['pools']>[number], clusterVersion: string): KubeObject[] {
  const name = `${cluster}-${pool.name}`;
  return [
    devMachineTemplate(name),
    {
      apiVersion: BOOTSTRAP_API,
      kind: 'RKE2ConfigTemplate',
      metadata: { name, namespace: NAMESPACE },
      spec: { template: { spec: { agentConfig: { nodeLabels: [`capstan.io/pool=${pool.name}`], nodeTaints: [] } } } },
    },
    {
      apiVersion: CLUSTER_API,
      kind: 'MachineDeployment',
      metadata: { name, namespace: NAMESPACE, labels: { 'capstan.io/pool': pool.name } },
      spec: {
        clusterName: cluster,
        replicas: pool.replicas,
        selector: { matchLabels: { 'capstan.io/pool': pool.name } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: pool.maxSurge ?? 1, maxUnavailable: pool.maxUnavailable ?? 0 } },
        template: {
          metadata: { labels: { 'capstan.io/pool': pool.name } },
          spec: {
            clusterName: cluster,
            version: pool.version ?? clusterVersion,
            bootstrap: { configRef: { apiVersion: BOOTSTRAP_API, kind: 'RKE2ConfigTemplate', name } },
            infrastructureRef: { apiVersion: INFRASTRUCTURE_API, kind: 'DevMachineTemplate', name },
          },
        },
      },
    },
  ];
}

function devMachineTemplate(name: string): KubeObject {
  return {
    apiVersion: INFRASTRUCTURE_API,
    kind: 'DevMachineTemplate',
    metadata: { name, namespace: NAMESPACE },
    spec: { template: { spec: { backend: { inMemory: { vm: { provisioning: { startupDuration: '1s' } } } } } } },
  };
}
