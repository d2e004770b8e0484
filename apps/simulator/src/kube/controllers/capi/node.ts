import type { KubeObject } from '../../types';
import { ANNOTATION, stringField } from './api';

/**
 * The Node an RKE2 machine registers in its workload cluster: named after the machine (RKE2 takes
 * the host name), the labels the kubelet and RKE2 set (server nodes carry the control-plane, etcd
 * and master roles), the annotations CAPI adds to link it back to its Machine, and the labels and
 * taints from the machine's RKE2Config (`agentConfig.nodeLabels` / `nodeTaints`, `key=value` and
 * `key=value:Effect` strings).
 */
export interface NodeInput {
  machine: KubeObject;
  clusterName: string;
  version: string;
  providerID: string;
  address: string;
  controlPlane: boolean;
  nodeLabels: string[];
  nodeTaints: string[];
}

export function rke2Node(input: NodeInput): KubeObject {
  const name = input.machine.metadata.name;
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/instance-type': 'rke2',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'rke2',
  };
  if (input.controlPlane) {
    labels['node-role.kubernetes.io/control-plane'] = 'true';
    labels['node-role.kubernetes.io/etcd'] = 'true';
    labels['node-role.kubernetes.io/master'] = 'true';
  }
  for (const entry of input.nodeLabels) {
    const [key, value = ''] = entry.split('=', 2);
    if (key) labels[key] = value;
  }
  // CAPI keeps labels under node.cluster.x-k8s.io/ (and node-role.kubernetes.io/) in sync from the Machine.
  for (const [key, value] of Object.entries(input.machine.metadata.labels ?? {})) {
    if (key.startsWith('node.cluster.x-k8s.io/') || key.startsWith('node-role.kubernetes.io/')) labels[key] = value;
  }
  const owner = input.machine.metadata.ownerReferences?.find((o) => o.controller);
  const taints = input.nodeTaints.map(parseTaint).filter((t) => t !== null);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels,
      annotations: {
        [ANNOTATION.nodeMachine]: name,
        [ANNOTATION.nodeClusterName]: input.clusterName,
        [ANNOTATION.nodeClusterNamespace]: input.machine.metadata.namespace ?? 'default',
        ...(owner ? { [ANNOTATION.nodeOwnerKind]: owner.kind, [ANNOTATION.nodeOwnerName]: owner.name } : {}),
        'rke2.io/node-args': JSON.stringify([input.controlPlane ? 'server' : 'agent']),
      },
    },
    spec: { providerID: input.providerID, ...(taints.length > 0 ? { taints } : {}) },
    status: nodeStatus(name, input.version, input.address),
  };
}

export function nodeStatus(name: string, version: string, address: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    addresses: [
      { type: 'InternalIP', address },
      { type: 'Hostname', address: name },
    ],
    capacity: { cpu: '4', memory: '16331164Ki', pods: '110', 'ephemeral-storage': '101430960Ki' },
    allocatable: { cpu: '4', memory: '16228764Ki', pods: '110', 'ephemeral-storage': '98673701871' },
    conditions: [
      {
        type: 'MemoryPressure',
        status: 'False',
        reason: 'KubeletHasSufficientMemory',
        message: 'kubelet has sufficient memory available',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
      {
        type: 'DiskPressure',
        status: 'False',
        reason: 'KubeletHasNoDiskPressure',
        message: 'kubelet has no disk pressure',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
      {
        type: 'PIDPressure',
        status: 'False',
        reason: 'KubeletHasSufficientPID',
        message: 'kubelet has sufficient PID available',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
    ],
    nodeInfo: nodeInfo(name, version),
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
  };
}

export function nodeInfo(name: string, version: string): Record<string, string> {
  return {
    architecture: 'amd64',
    bootID: `boot-${name}`,
    containerRuntimeVersion: 'containerd://2.1.5-k3s1',
    kernelVersion: '6.8.0-85-generic',
    kubeProxyVersion: version,
    kubeletVersion: version,
    machineID: `machine-${name}`,
    operatingSystem: 'linux',
    osImage: 'Ubuntu 24.04.3 LTS',
    systemUUID: `uuid-${name}`,
  };
}

function parseTaint(entry: string): { key: string; value?: string; effect: string } | null {
  const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(entry);
  if (!match) return null;
  return { key: match[1]!, ...(match[2] !== undefined ? { value: match[2] } : {}), effect: match[3]! };
}

export function nodeReady(node: KubeObject | null): boolean {
  const conditions = node?.status?.conditions;
  return Array.isArray(conditions) && conditions.some((c) => stringField(c, 'type') === 'Ready' && stringField(c, 'status') === 'True');
}
