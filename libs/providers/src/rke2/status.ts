import type { ProviderCluster, ProviderNode, ProviderNodePool, ProviderObjectStatus } from '../cluster-provider';
import type { PendingDrain, ProviderOperationStatus, RolloutNode } from '../infrastructure-driver';
import type { Manifest } from './manifest';
import { kubernetesVersionOf } from './naming';

/**
 * How Capstan reads Cluster API's status fields (v1beta1: `phase`, `ready`, the replica counters,
 * `failureReason`/`failureMessage`, conditions). Pure functions of the objects read, so every rule
 * is unit-tested without a management cluster.
 */

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  severity?: string;
}

interface CommonStatus {
  phase?: string;
  ready?: boolean;
  initialized?: boolean;
  controlPlaneReady?: boolean;
  infrastructureReady?: boolean;
  failureReason?: string;
  failureMessage?: string;
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  version?: string;
  conditions?: Condition[];
  nodeRef?: { name: string };
  nodeInfo?: { kubeletVersion?: string };
  deletion?: { nodeDrainStartTime?: string };
}

const status = (object: Manifest | null | undefined): CommonStatus => (object?.status ?? {}) as CommonStatus;
const specOf = (object: Manifest | null | undefined) =>
  (object?.spec ?? {}) as { replicas?: number; version?: string; template?: { spec?: { version?: string } } };
const isDeleting = (object: Manifest | null | undefined) => Boolean(object?.metadata.deletionTimestamp);
const condition = (object: Manifest, type: string) => status(object).conditions?.find((c) => c.type === type);

/** The first failure Cluster API reports for the object, as a sentence, or null. */
export function failureOf(object: Manifest | null | undefined): string | null {
  const s = status(object);
  if (s.failureReason || s.failureMessage) return [s.failureReason, s.failureMessage].filter(Boolean).join(': ');
  if (s.phase === 'Failed') return `${object!.kind} ${object!.metadata.name} failed`;
  return null;
}

/** Whether the control plane has moved every server to its spec (version and count) and they are ready. */
function controlPlaneSettled(controlPlane: Manifest): boolean {
  const s = status(controlPlane);
  const spec = specOf(controlPlane);
  const replicas = spec.replicas ?? 1;
  return (
    kubernetesVersionOf(s.version) === kubernetesVersionOf(spec.version) &&
    s.replicas === replicas &&
    s.updatedReplicas === replicas &&
    s.readyReplicas === replicas &&
    (s.observedGeneration ?? 0) >= (controlPlane.metadata.generation ?? 0)
  );
}

export interface ClusterReading {
  cluster: Manifest | null;
  controlPlane: Manifest | null;
  /** From the `<cluster>-kubeconfig` Secret, once the control plane provider wrote it. */
  access: { server: string; tlsServerName?: string; caCertificate: string } | null;
}

export function presentCluster(name: string, reading: ClusterReading): ProviderCluster | null {
  const { cluster, controlPlane, access } = reading;
  if (!cluster) return null;
  const version = kubernetesVersionOf(status(controlPlane).version) ?? kubernetesVersionOf(specOf(controlPlane).version) ?? '';
  return {
    name,
    status: clusterStatus(cluster, controlPlane, access !== null),
    version,
    endpoint: access?.server ?? endpointOf(cluster),
    caCertificate: access?.caCertificate ?? null,
    // The SLA prober and kubeconfigs need it where one endpoint serves many clusters.
    ...(access?.tlsServerName ? { tlsServerName: access.tlsServerName } : {}),
  };
}

function clusterStatus(cluster: Manifest, controlPlane: Manifest | null, hasKubeconfig: boolean): ProviderObjectStatus {
  if (isDeleting(cluster) || isDeleting(controlPlane)) return 'deleting';
  if (failureOf(cluster) || failureOf(controlPlane)) return 'error';
  if (!controlPlane) return 'provisioning';
  const cs = status(cluster);
  const ready = cs.controlPlaneReady === true && cs.infrastructureReady === true && status(controlPlane).ready === true && hasKubeconfig;
  if (!ready) return hasKubeconfig && status(controlPlane).initialized ? 'updating' : 'provisioning';
  if (controlPlaneSettled(controlPlane)) return 'running';
  return kubernetesVersionOf(status(controlPlane).version) !== kubernetesVersionOf(specOf(controlPlane).version) ? 'upgrading' : 'updating';
}

function endpointOf(cluster: Manifest): string | null {
  const endpoint = (cluster.spec as { controlPlaneEndpoint?: { host?: string; port?: number } } | undefined)?.controlPlaneEndpoint;
  if (!endpoint?.host) return null;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `https://${host}:${endpoint.port ?? 6443}`;
}

/** A Machine as a node of its pool, once it has one (`status.nodeRef`). */
function nodeOf(machine: Manifest): ProviderNode | null {
  const s = status(machine);
  if (!s.nodeRef?.name) return null;
  const ready = condition(machine, 'NodeHealthy')?.status === 'True' || (condition(machine, 'Ready')?.status === 'True' && s.phase === 'Running');
  return {
    name: s.nodeRef.name,
    version: kubernetesVersionOf(s.nodeInfo?.kubeletVersion) ?? kubernetesVersionOf(specOf(machine).version) ?? '',
    ready,
    // Cluster API cordons and drains a Machine's Node once the Machine is being deleted.
    unschedulable: isDeleting(machine),
  };
}

/** A MachineDeployment and its Machines as a node pool. */
export function presentNodePool(name: string, machineDeployment: Manifest | null, machines: Manifest[]): ProviderNodePool | null {
  if (!machineDeployment) return null;
  const spec = specOf(machineDeployment);
  const count = spec.replicas ?? 0;
  const version = kubernetesVersionOf(spec.template?.spec?.version) ?? '';
  const nodes = machines.map(nodeOf).filter((node): node is ProviderNode => node !== null);
  return { name, status: poolStatus(machineDeployment, machines, nodes, version), count, version, nodes };
}

function poolStatus(machineDeployment: Manifest, machines: Manifest[], nodes: ProviderNode[], version: string): ProviderObjectStatus {
  if (isDeleting(machineDeployment)) return 'deleting';
  if (failureOf(machineDeployment) || machines.some((m) => failureOf(m))) return 'error';
  const s = status(machineDeployment);
  const count = specOf(machineDeployment).replicas ?? 0;
  const settled =
    (s.observedGeneration ?? 0) >= (machineDeployment.metadata.generation ?? 0) &&
    (s.replicas ?? 0) === count &&
    (s.updatedReplicas ?? 0) === count &&
    (s.readyReplicas ?? 0) === count &&
    machines.length === count &&
    nodes.length === count &&
    nodes.every((n) => n.ready && n.version === version);
  if (settled) return 'running';
  if (nodes.some((n) => n.version !== version)) return 'upgrading';
  return s.observedGeneration === undefined || (nodes.length === 0 && count > 0 && (s.readyReplicas ?? 0) === 0) ? 'provisioning' : 'updating';
}

/**
 * Where a rollout to `version` stands, from the object that rolls (RKE2ControlPlane or
 * MachineDeployment) and its Machines. Done once every machine runs the version and is ready with
 * none left over, and the object reads no failure; failed when the object was deleted, was moved
 * to another version meanwhile, or Cluster API reports a failure of it or of one of its machines.
 * A node pool's rollout done without an error means presentNodePool reads the same objects as
 * running at the version: the upgrade engine goes on to its next step on that word.
 */
export function rolloutStatus(kind: 'control-plane' | 'node-pool', object: Manifest | null, machines: Manifest[], version: string): ProviderOperationStatus {
  const what = kind === 'control-plane' ? 'the control plane' : 'the node pool';
  if (!object || isDeleting(object))
    return { done: true, error: { message: `${what} was deleted during its upgrade to ${version}`, retryable: false, code: 'rollout_target_gone' } };
  const wanted = kind === 'control-plane' ? specOf(object).version : specOf(object).template?.spec?.version;
  if (kubernetesVersionOf(wanted) !== version) {
    return {
      done: true,
      error: {
        message: `${what} was set to version ${kubernetesVersionOf(wanted) ?? wanted} while moving to ${version}`,
        retryable: false,
        code: 'rollout_superseded',
      },
    };
  }
  // Only machines of the version rolled to count: a failed machine of the version being rolled away
  // from (what a rollback replaces) is what the rollout removes, not a failure of it. A
  // MachineDeployment has no failureReason of its own; its `phase: Failed` rolls up the
  // failureReason of any of its MachineSets, old ones included, so it may name a set the rollout
  // leaves behind: it holds `done` back (below) rather than failing the rollout.
  const s0 = status(object);
  const failure =
    (s0.failureReason || s0.failureMessage ? [s0.failureReason, s0.failureMessage].filter(Boolean).join(': ') : null) ??
    machines
      .filter((m) => machineVersion(m) === version)
      .map((m) => (failureOf(m) ? `machine ${m.metadata.name}: ${failureOf(m)}` : null))
      .find(Boolean) ??
    null;
  if (failure) return { done: true, error: { message: `${what} failed while moving to ${version}: ${failure}`, retryable: false, code: 'rollout_failed' } };

  const s = status(object);
  const replicas = specOf(object).replicas ?? 0;
  const current = machines.filter((m) => !isDeleting(m));
  const upToDate = current.filter((m) => machineVersion(m) === version && nodeOf(m)?.ready === true).length;
  const counters = kind === 'control-plane' ? kubernetesVersionOf(s.version) === version : true;
  // The pool (or cluster) reads error while the object reads Failed (failureOf): not done then,
  // else the engine would go on from a pool that reads error.
  const flagged = failureOf(object);
  const done =
    !flagged &&
    counters &&
    (s.observedGeneration ?? 0) >= (object.metadata.generation ?? 0) &&
    s.updatedReplicas === replicas &&
    s.readyReplicas === replicas &&
    s.replicas === replicas &&
    machines.length === replicas &&
    upToDate === replicas;
  const noun = kind === 'control-plane' ? 'control-plane machines' : 'machines';
  const nodes = machines.map((m) => rolloutNode(m, version));
  const drains = machines.map(pendingDrain).filter((d): d is PendingDrain => d !== null);
  const moving = nodes.filter((n) => n.state === 'draining' || n.state === 'removing' || n.state === 'joining');
  const detail = moving.map((n) => `${n.state} ${n.node ?? n.machine}`);
  if (flagged) detail.push(`${object.kind} ${object.metadata.name} reads Failed`);
  return {
    done,
    progress: `${Math.min(upToDate, replicas)} of ${replicas} ${noun} at ${version}${detail.length > 0 ? `; ${detail.join(', ')}` : ''}`,
    nodes,
    drains,
  };
}

/** Where one machine of a rollout to `version` stands (docs/upgrades.md, "Node by node"). */
function rolloutNode(machine: Manifest, version: string): RolloutNode {
  const node = status(machine).nodeRef?.name ?? null;
  const at = machineVersion(machine);
  const base = { machine: machine.metadata.name, node, version: at };
  if (isDeleting(machine)) return { ...base, state: condition(machine, 'DrainingSucceeded')?.status === 'True' ? 'removing' : 'draining' };
  if (at !== version) return { ...base, state: 'waiting' };
  return { ...base, state: nodeOf(machine)?.ready ? 'ready' : 'joining' };
}

/**
 * A drain Cluster API started and has not finished: a Machine being deleted whose
 * `DrainingSucceeded` is False with reason `Draining`, since `status.deletion.nodeDrainStartTime`.
 * Cluster API keeps retrying it (without `nodeDrainTimeout`, for as long as it takes).
 */
function pendingDrain(machine: Manifest): PendingDrain | null {
  if (!isDeleting(machine)) return null;
  const draining = condition(machine, 'DrainingSucceeded');
  const since = status(machine).deletion?.nodeDrainStartTime;
  if (!since || draining?.status !== 'False' || draining.reason !== 'Draining') return null;
  const message = draining.message ?? '';
  return { machine: machine.metadata.name, node: status(machine).nodeRef?.name ?? null, since, message, ...parseDrainMessage(message) };
}

/**
 * The pods and PodDisruptionBudgets named in Cluster API's drain message (`EvictionResult.
 * ConditionMessage`): `* Pod ns/a: <why>` lines (1.9, 1.10) or, from 1.11, `* Pods with eviction
 * failed:` followed by `  * <why>: ns/a, ns/b` lines. At most three pods per line are named there
 * (`... (n more)`); budgets come from the eviction's cause, "The disruption budget <name> needs ...".
 */
export function parseDrainMessage(message: string): Pick<PendingDrain, 'pods' | 'budgets'> {
  const pods: PendingDrain['pods'] = [];
  const budgets = new Map<string, { namespace: string; name: string }>();
  const add = (list: string, reason: string) => {
    for (const entry of list.split(', ')) {
      const pod = entry.trim();
      if (!pod || pod.startsWith('...')) continue;
      const [namespace, name] = pod.includes('/') ? pod.split('/', 2) : ['', pod];
      pods.push({ namespace: namespace!, name: name!, reason });
      const budget = /disruption budget (\S+) /.exec(reason)?.[1];
      if (budget) budgets.set(`${namespace}/${budget}`, { namespace: namespace!, name: budget });
    }
  };
  for (const line of message.split('\n')) {
    const older = /^\* Pods? (.+?): (.+)$/.exec(line);
    const newer = /^ {2}\* (.+): (.+)$/.exec(line);
    if (newer) add(newer[2]!, newer[1]!);
    else if (older && !older[1]!.startsWith('with ')) add(older[1]!, older[2]!);
    else {
      const grouped = /^\* Pods with deletionTimestamp that still exist: (.+)$/.exec(line);
      if (grouped) add(grouped[1]!, 'deletionTimestamp set, but still not removed from the Node');
    }
  }
  return { pods, budgets: [...budgets.values()] };
}

function machineVersion(machine: Manifest): string | null {
  return kubernetesVersionOf(status(machine).nodeInfo?.kubeletVersion) ?? kubernetesVersionOf(specOf(machine).version);
}
