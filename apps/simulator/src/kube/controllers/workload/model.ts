import type { KubeObject, ObjectRef, OwnerReference } from '../../types';
import type { LabelSelector, NodeSelectorTerm, Taint, Toleration } from './selectors';

/**
 * Typed views of the built-in kinds the workload controllers read. The store keeps objects as
 * JSON, so these are views over what a client sent: every field may be absent, and the accessors
 * apply the API server's defaults where the controllers depend on them.
 */

export interface Container {
  name: string;
  image?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [field: string]: unknown;
}

export interface PodSpec {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
  containers?: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  hostNetwork?: boolean;
  schedulerName?: string;
  [field: string]: unknown;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: PodSpec;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string;
  observedGeneration?: number;
}

export const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
export const NODE = { apiVersion: 'v1', kind: 'Node' } as const;
export const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace' } as const;
export const SERVICE_ACCOUNT = { apiVersion: 'v1', kind: 'ServiceAccount' } as const;
export const CONFIG_MAP = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
export const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
export const REPLICA_SET = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;
export const DAEMON_SET = { apiVersion: 'apps/v1', kind: 'DaemonSet' } as const;
export const STATEFUL_SET = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;
export const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' } as const;

export function refOf(object: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name };
  if (object.metadata.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

export function labelsOf(object: KubeObject): Record<string, string> {
  return object.metadata.labels ?? {};
}

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((owner) => owner.controller);
}

export function controllerReference(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function isOwnedBy(object: KubeObject, owner: KubeObject): boolean {
  return controllerOf(object)?.uid === owner.metadata.uid;
}

export const podSpec = (pod: KubeObject): PodSpec => (pod.spec ?? {}) as PodSpec;
export const podPhase = (pod: KubeObject): string => (pod.status?.['phase'] as string | undefined) ?? 'Pending';
export const conditionsOf = (object: KubeObject): Condition[] => (object.status?.['conditions'] as Condition[] | undefined) ?? [];
export const conditionOf = (object: KubeObject, type: string): Condition | undefined => conditionsOf(object).find((c) => c.type === type);

export const isTerminating = (object: KubeObject): boolean => Boolean(object.metadata.deletionTimestamp);

/** Counts toward its controller's replicas: not being deleted and not finished. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return !isTerminating(pod) && phase !== 'Succeeded' && phase !== 'Failed';
}

export function isPodReady(pod: KubeObject): boolean {
  return isPodActive(pod) && conditionOf(pod, 'Ready')?.status === 'True';
}

export function selectorOf(object: KubeObject): LabelSelector | undefined {
  return object.spec?.['selector'] as LabelSelector | undefined;
}

export function templateOf(object: KubeObject): PodTemplate {
  return (object.spec?.['template'] as PodTemplate | undefined) ?? {};
}

export function replicasOf(object: KubeObject): number {
  const replicas = object.spec?.['replicas'];
  return typeof replicas === 'number' ? replicas : 1;
}

export function nodeTaints(node: KubeObject): Taint[] {
  return (node.spec?.['taints'] as Taint[] | undefined) ?? [];
}

export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Structural equality of JSON values, key order ignored (to skip writes that change nothing). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, inner]) => inner !== undefined)
            .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        )
      : v,
  );
}

/** A merge patch that turns `previous` into `next` at the top level (absent keys become null, which merge patch deletes). */
export function replacing(previous: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(previous ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}
