import type { KubeObject, ObjectRef } from '../../types';

/**
 * The API versions the emulated management cluster serves, one constant per group so that moving
 * to v1beta2 (upstream's storage version today) is one change here and in the CRD data.
 */
export const CLUSTER_API = 'cluster.x-k8s.io/v1beta1';
export const CONTROL_PLANE_API = 'controlplane.cluster.x-k8s.io/v1beta1';
export const BOOTSTRAP_API = 'bootstrap.cluster.x-k8s.io/v1beta1';
export const INFRASTRUCTURE_API = 'infrastructure.cluster.x-k8s.io/v1beta1';

/** Labels and annotations Cluster API and CAPRKE2 put on the objects they own. */
export const LABEL = {
  clusterName: 'cluster.x-k8s.io/cluster-name',
  controlPlane: 'cluster.x-k8s.io/control-plane',
  controlPlaneName: 'cluster.x-k8s.io/control-plane-name',
  deploymentName: 'cluster.x-k8s.io/deployment-name',
  setName: 'cluster.x-k8s.io/set-name',
  templateHash: 'machine-template-hash',
} as const;

export const ANNOTATION = {
  clonedFromName: 'cluster.x-k8s.io/cloned-from-name',
  clonedFromGroupKind: 'cluster.x-k8s.io/cloned-from-groupkind',
  deleteMachine: 'cluster.x-k8s.io/delete-machine',
  nodeMachine: 'cluster.x-k8s.io/machine',
  nodeOwnerKind: 'cluster.x-k8s.io/owner-kind',
  nodeOwnerName: 'cluster.x-k8s.io/owner-name',
  nodeClusterName: 'cluster.x-k8s.io/cluster-name',
  nodeClusterNamespace: 'cluster.x-k8s.io/cluster-namespace',
  /** What a control-plane machine was built from (version and template), to tell outdated ones. */
  controlPlaneSpec: 'controlplane.cluster.x-k8s.io/rke2-machine-spec',
} as const;

export const FINALIZER = {
  cluster: 'cluster.cluster.x-k8s.io',
  machine: 'machine.cluster.x-k8s.io',
  machineSet: 'cluster.x-k8s.io/machineset',
  machineDeployment: 'cluster.x-k8s.io/machinedeployment',
  controlPlane: 'rke2.controlplane.cluster.x-k8s.io',
} as const;

export type Phase = 'Pending' | 'Provisioning' | 'Provisioned' | 'Running' | 'Deleting' | 'Deleted' | 'Failed' | 'Unknown';

export function refOf(object: KubeObject): ObjectRef {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace };
}

/** A `corev1.ObjectReference` as Cluster API stores it in `spec.*Ref`, resolved in the holder's namespace. */
export function referenced(holder: KubeObject, ref: unknown): ObjectRef | null {
  if (!isRecord(ref) || typeof ref.name !== 'string' || typeof ref.kind !== 'string' || typeof ref.apiVersion !== 'string') return null;
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    name: ref.name,
    namespace: typeof ref.namespace === 'string' ? ref.namespace : holder.metadata.namespace,
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function field(object: unknown, ...path: string[]): unknown {
  let current = object;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function stringField(object: unknown, ...path: string[]): string | undefined {
  const value = field(object, ...path);
  return typeof value === 'string' ? value : undefined;
}

export function numberField(object: unknown, ...path: string[]): number | undefined {
  const value = field(object, ...path);
  return typeof value === 'number' ? value : undefined;
}

export function isDeleting(object: KubeObject): boolean {
  return Boolean(object.metadata.deletionTimestamp);
}

export function ownerReference(owner: KubeObject, controller = true) {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? '', controller, blockOwnerDeletion: true };
}

/** `v1.36.4+rke2r1` -> `1.36.4+rke2r1`: how the API server registry stores a version. */
export function withoutV(version: string): string {
  return version.startsWith('v') ? version.slice(1) : version;
}

export function withV(version: string): string {
  return version.startsWith('v') ? version : `v${version}`;
}
