import type { KubeObject } from '../../types';
import { nodeObject } from '../workload';
import { ANNOTATION } from './api';

/**
 * The Node an RKE2 machine registers in its workload cluster (kube-workloads' `nodeObject`, the
 * kubelet's view), named after the machine as RKE2 takes the host name, with what RKE2 and CAPI
 * add: server nodes carry the control-plane, etcd and master roles; CAPI's annotations link the
 * Node back to its Machine; the machine's RKE2Config `agentConfig.nodeLabels` (`key=value`) and
 * `nodeTaints` (`key=value:Effect`) apply at registration; Machine labels under
 * `node.cluster.x-k8s.io/` and `node-role.kubernetes.io/` are synced as CAPI does.
 */
export interface NodeInput {
  machine: KubeObject;
  clusterName: string;
  version: string;
  providerID: string;
  internalIP: string;
  controlPlane: boolean;
  nodeLabels: string[];
  nodeTaints: string[];
}

export function rke2Node(input: NodeInput): KubeObject {
  const name = input.machine.metadata.name;
  const labels: Record<string, string> = {
    'beta.kubernetes.io/instance-type': 'rke2',
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
  for (const [key, value] of Object.entries(input.machine.metadata.labels ?? {})) {
    if (key.startsWith('node.cluster.x-k8s.io/') || key.startsWith('node-role.kubernetes.io/')) labels[key] = value;
  }
  const owner = input.machine.metadata.ownerReferences?.find((o) => o.controller);
  const node = nodeObject({
    name,
    kubeletVersion: input.version,
    labels,
    taints: input.nodeTaints.map(parseTaint).filter((t) => t !== null),
    providerID: input.providerID,
    internalIP: input.internalIP,
  });
  node.metadata.annotations = {
    ...node.metadata.annotations,
    [ANNOTATION.nodeMachine]: name,
    [ANNOTATION.nodeClusterName]: input.clusterName,
    [ANNOTATION.nodeClusterNamespace]: input.machine.metadata.namespace ?? 'default',
    ...(owner ? { [ANNOTATION.nodeOwnerKind]: owner.kind, [ANNOTATION.nodeOwnerName]: owner.name } : {}),
    'rke2.io/node-args': JSON.stringify([input.controlPlane ? 'server' : 'agent']),
  };
  return node;
}

function parseTaint(entry: string): { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' } | null {
  const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(entry);
  if (!match) return null;
  return { key: match[1]!, ...(match[2] !== undefined ? { value: match[2] } : {}), effect: match[3] as 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' };
}
