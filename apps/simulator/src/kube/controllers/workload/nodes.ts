import { createHash } from 'node:crypto';
import { type ApiServerClient, type KubeObject, KubeApiError } from '../../types';
import { type Condition, conditionOf, NODE, nodeTaints, timestamp } from './model';
import type { Taint } from './selectors';

/**
 * Nodes of an emulated workload cluster, for whoever makes them (the emulated Cluster API
 * controllers from Machines, the GKE emulator from node pools). A Node here looks like the one a
 * kubelet registers: capacity, addresses, node info with the distribution's runtime and OS, and
 * the conditions and taints the node lifecycle controller keeps.
 */

export interface NodeDescription {
  name: string;
  /** As the kubelet reports it: `v1.36.4+rke2r1`, `v1.36.2-gke.1100` (a missing `v` is added). */
  kubeletVersion: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  /** Default true. */
  ready?: boolean;
  providerID?: string;
  unschedulable?: boolean;
  /** Default: a /24 of the distribution's cluster CIDR chosen from the name. */
  podCIDR?: string;
  /** Default: an address chosen from the name. */
  internalIP?: string;
  /** Default 4 CPUs, 16 GiB, 110 pods. */
  capacity?: { cpu?: string; memory?: string; pods?: string };
  now?: Date;
}

/** Taints the node lifecycle controller puts on nodes it cannot reach (Kubernetes well-known taints). */
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

export function nodeObject(description: NodeDescription): KubeObject {
  const now = description.now ?? new Date();
  const kubeletVersion = description.kubeletVersion.startsWith('v') ? description.kubeletVersion : `v${description.kubeletVersion}`;
  const flavour = /-gke\./.test(kubeletVersion) ? 'gke' : /\+rke2/.test(kubeletVersion) ? 'rke2' : 'kubernetes';
  const seed = createHash('sha256').update(description.name).digest();
  const internalIP =
    description.internalIP ?? (flavour === 'gke' ? `10.128.${seed[0]! % 64}.${2 + (seed[1]! % 250)}` : `10.0.${seed[0]}.${2 + (seed[1]! % 250)}`);
  const podCIDR = description.podCIDR ?? (flavour === 'gke' ? `10.${4 + (seed[2]! % 4)}.${seed[3]}.0/24` : `10.42.${seed[2]}.0/24`);
  const capacity = {
    cpu: '4',
    'ephemeral-storage': '101430960Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: '16386616Ki',
    pods: '110',
    ...description.capacity,
  };
  const allocatable = { ...capacity, cpu: description.capacity?.cpu ?? '3920m', memory: description.capacity?.memory ?? '15235640Ki' };
  const spec: Record<string, unknown> = { podCIDR, podCIDRs: [podCIDR] };
  if (description.providerID) spec['providerID'] = description.providerID;
  if (description.unschedulable) spec['unschedulable'] = true;
  const node: KubeObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: description.name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': description.name,
        'kubernetes.io/os': 'linux',
        ...description.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec,
    status: {
      addresses: [
        { type: 'InternalIP', address: internalIP },
        { type: 'Hostname', address: description.name },
      ],
      allocatable,
      capacity,
      conditions: healthyConditions(now),
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: uuidFrom(seed, 'boot'),
        containerRuntimeVersion: flavour === 'gke' ? 'containerd://2.0.4' : 'containerd://2.0.5-k3s1',
        kernelVersion: flavour === 'gke' ? '6.6.87+' : '6.4.0-150600.23.53-default',
        kubeProxyVersion: '',
        kubeletVersion,
        machineID: seed.subarray(0, 16).toString('hex'),
        operatingSystem: 'linux',
        osImage: flavour === 'gke' ? 'Container-Optimized OS from Google' : 'SUSE Linux Enterprise Server 15 SP6',
        systemUUID: uuidFrom(seed, 'system'),
      },
    },
  };
  const ready = description.ready ?? true;
  const taints = [...(description.taints ?? [])];
  const withTaints: KubeObject = { ...node, spec: { ...spec, ...(taints.length ? { taints } : {}) } };
  return ready ? withSchedulingTaint(withTaints, now) : withNodeReadiness(withSchedulingTaint(withTaints, now), false, now);
}

export function isNodeReady(node: KubeObject): boolean {
  return conditionOf(node, 'Ready')?.status === 'True';
}

/**
 * The node as the node lifecycle controller leaves it once its kubelet is (not) posting status:
 * Ready Unknown with the `unreachable` NoSchedule and NoExecute taints, or Ready True without them.
 * The NoExecute taint is what evicts the pods that do not tolerate it.
 */
export function withNodeReadiness(node: KubeObject, ready: boolean, now: Date): KubeObject {
  const at = timestamp(now);
  const current = (node.status?.['conditions'] as Condition[] | undefined) ?? healthyConditions(now);
  const conditions = current.map((condition): Condition => {
    const wanted = ready
      ? healthyCondition(condition.type)
      : { status: 'Unknown' as const, reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
    if (!wanted) return condition;
    const changed = condition.status !== wanted.status;
    return {
      ...condition,
      ...wanted,
      lastHeartbeatTime: ready ? at : (condition.lastHeartbeatTime ?? at),
      lastTransitionTime: changed ? at : (condition.lastTransitionTime ?? at),
    };
  });
  const others = nodeTaints(node).filter((taint) => taint.key !== UNREACHABLE_TAINT && taint.key !== NOT_READY_TAINT);
  const taints = ready
    ? others
    : [
        ...others,
        { key: UNREACHABLE_TAINT, effect: 'NoSchedule' as const, timeAdded: at },
        { key: UNREACHABLE_TAINT, effect: 'NoExecute' as const, timeAdded: at },
      ];
  return { ...node, spec: withTaintList(node.spec, taints), status: { ...node.status, conditions } };
}

/** The `unschedulable` NoSchedule taint follows `spec.unschedulable` (a cordon), as upstream keeps it. */
export function withSchedulingTaint(node: KubeObject, now: Date): KubeObject {
  const cordoned = node.spec?.['unschedulable'] === true;
  const taints = nodeTaints(node);
  const has = taints.some((taint) => taint.key === UNSCHEDULABLE_TAINT);
  if (cordoned === has) return node;
  const next = cordoned
    ? [...taints, { key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' as const, timeAdded: timestamp(now) }]
    : taints.filter((taint) => taint.key !== UNSCHEDULABLE_TAINT);
  return { ...node, spec: withTaintList(node.spec, next) };
}

/** Marks a node Ready or not Ready (its kubelet stopped, the machine is being replaced). Absent is fine. */
export async function setNodeReady(server: ApiServerClient, name: string, ready: boolean, now: Date = new Date()): Promise<void> {
  await retryOnConflict(async () => {
    const node = await server.get({ ...NODE, name });
    if (!node || isNodeReady(node) === ready) return;
    const next = withNodeReadiness(node, ready, now);
    await server.mergePatch({ ...NODE, name }, { spec: { taints: (next.spec?.['taints'] as Taint[] | undefined) ?? null } });
    await server.mergePatch({ ...NODE, name }, { status: { conditions: next.status?.['conditions'] } }, { subresource: 'status' });
  });
}

/** Sets the kubelet version a node reports (after an in-place upgrade of the machine). */
export async function setNodeKubeletVersion(server: ApiServerClient, name: string, kubeletVersion: string): Promise<void> {
  const version = kubeletVersion.startsWith('v') ? kubeletVersion : `v${kubeletVersion}`;
  await server.mergePatch({ ...NODE, name }, { status: { nodeInfo: { kubeletVersion: version } } }, { subresource: 'status' });
}

/** Removes a node (its machine is gone); the pods bound to it are deleted by the pod garbage collector. Absent is fine. */
export async function deleteNode(server: ApiServerClient, name: string): Promise<void> {
  try {
    await server.delete({ ...NODE, name });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.code === 404)) throw error;
  }
}

export async function retryOnConflict(attempt: () => Promise<void>, times = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 409 && error.reason === 'Conflict') || i >= times) throw error;
    }
  }
}

function withTaintList(spec: Record<string, unknown> | undefined, taints: Taint[]): Record<string, unknown> {
  const { taints: _old, ...rest } = spec ?? {};
  return taints.length ? { ...rest, taints } : rest;
}

const HEALTHY: Record<string, Pick<Condition, 'status' | 'reason' | 'message'>> = {
  MemoryPressure: { status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  DiskPressure: { status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  PIDPressure: { status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  Ready: { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
};

function healthyCondition(type: string): Pick<Condition, 'status' | 'reason' | 'message'> | undefined {
  return HEALTHY[type];
}

function healthyConditions(now: Date): Condition[] {
  const at = timestamp(now);
  return Object.entries(HEALTHY).map(([type, c]) => ({ type, ...c, lastHeartbeatTime: at, lastTransitionTime: at }));
}

function uuidFrom(seed: Buffer, purpose: string): string {
  const hex = createHash('sha256').update(seed).update(purpose).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
