/**
 * APIs removed from Kubernetes, by the minor that no longer serves them, with what replaces them.
 * Source: the Kubernetes deprecated API migration guide,
 * https://kubernetes.io/docs/reference/using-api/deprecation-guide/ (docs/upgrades.md, "Removed
 * APIs"). Data, not logic: a new removal is a new row.
 */
export interface RemovedApi {
  /** The first minor that no longer serves it. */
  removedIn: string;
  apiVersion: string;
  kind: string;
  /** The apiVersion to migrate to, or null where the API has no successor. */
  replacement: string | null;
  note?: string;
  /**
   * false for request-only kinds (TokenReview, SubjectAccessReview, ...): the API server never
   * stores them, so no object can be found; only clients that call the removed version break.
   */
  persisted?: false;
}

const rows = (removedIn: string, apiVersion: string, replacement: string | null, kinds: string[], note?: string): RemovedApi[] =>
  kinds.map((kind) => ({ removedIn, apiVersion, kind, replacement, ...(note ? { note } : {}) }));

const REQUEST_ONLY = 'request-only: never stored, so no object is found; clients calling this version break';
const requestOnly = (removedIn: string, apiVersion: string, replacement: string, kinds: string[]): RemovedApi[] =>
  kinds.map((kind) => ({ removedIn, apiVersion, kind, replacement, note: REQUEST_ONLY, persisted: false }));

export const REMOVED_APIS: readonly RemovedApi[] = Object.freeze([
  ...rows('1.16', 'extensions/v1beta1', 'apps/v1', ['Deployment', 'DaemonSet', 'ReplicaSet']),
  ...rows('1.16', 'apps/v1beta1', 'apps/v1', ['Deployment', 'StatefulSet', 'ReplicaSet']),
  ...rows('1.16', 'apps/v1beta2', 'apps/v1', ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']),
  ...rows('1.16', 'extensions/v1beta1', 'networking.k8s.io/v1', ['NetworkPolicy']),
  ...rows('1.16', 'extensions/v1beta1', 'policy/v1beta1', ['PodSecurityPolicy']),
  ...rows('1.22', 'extensions/v1beta1', 'networking.k8s.io/v1', ['Ingress']),
  ...rows('1.22', 'networking.k8s.io/v1beta1', 'networking.k8s.io/v1', ['Ingress', 'IngressClass']),
  ...rows('1.22', 'apiextensions.k8s.io/v1beta1', 'apiextensions.k8s.io/v1', ['CustomResourceDefinition']),
  ...rows('1.22', 'admissionregistration.k8s.io/v1beta1', 'admissionregistration.k8s.io/v1', [
    'MutatingWebhookConfiguration',
    'ValidatingWebhookConfiguration',
  ]),
  ...rows('1.22', 'apiregistration.k8s.io/v1beta1', 'apiregistration.k8s.io/v1', ['APIService']),
  ...requestOnly('1.22', 'authentication.k8s.io/v1beta1', 'authentication.k8s.io/v1', ['TokenReview']),
  ...requestOnly('1.22', 'authorization.k8s.io/v1beta1', 'authorization.k8s.io/v1', [
    'SubjectAccessReview',
    'LocalSubjectAccessReview',
    'SelfSubjectAccessReview',
  ]),
  ...rows('1.22', 'certificates.k8s.io/v1beta1', 'certificates.k8s.io/v1', ['CertificateSigningRequest']),
  ...rows('1.22', 'coordination.k8s.io/v1beta1', 'coordination.k8s.io/v1', ['Lease']),
  ...rows('1.22', 'rbac.authorization.k8s.io/v1beta1', 'rbac.authorization.k8s.io/v1', ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']),
  ...rows('1.22', 'scheduling.k8s.io/v1beta1', 'scheduling.k8s.io/v1', ['PriorityClass']),
  ...rows('1.22', 'storage.k8s.io/v1beta1', 'storage.k8s.io/v1', ['CSIDriver', 'CSINode', 'StorageClass', 'VolumeAttachment']),
  ...rows('1.25', 'batch/v1beta1', 'batch/v1', ['CronJob']),
  ...rows('1.25', 'discovery.k8s.io/v1beta1', 'discovery.k8s.io/v1', ['EndpointSlice']),
  ...rows('1.25', 'events.k8s.io/v1beta1', 'events.k8s.io/v1', ['Event']),
  ...rows('1.25', 'autoscaling/v2beta1', 'autoscaling/v2', ['HorizontalPodAutoscaler']),
  ...rows('1.25', 'policy/v1beta1', 'policy/v1', ['PodDisruptionBudget']),
  ...rows('1.25', 'policy/v1beta1', null, ['PodSecurityPolicy'], 'no successor: use Pod Security Admission'),
  ...rows('1.25', 'node.k8s.io/v1beta1', 'node.k8s.io/v1', ['RuntimeClass']),
  ...rows('1.26', 'flowcontrol.apiserver.k8s.io/v1beta1', 'flowcontrol.apiserver.k8s.io/v1beta3', ['FlowSchema', 'PriorityLevelConfiguration']),
  ...rows('1.26', 'autoscaling/v2beta2', 'autoscaling/v2', ['HorizontalPodAutoscaler']),
  ...rows('1.27', 'storage.k8s.io/v1beta1', 'storage.k8s.io/v1', ['CSIStorageCapacity']),
  ...rows('1.29', 'flowcontrol.apiserver.k8s.io/v1beta2', 'flowcontrol.apiserver.k8s.io/v1', ['FlowSchema', 'PriorityLevelConfiguration']),
  ...rows('1.32', 'flowcontrol.apiserver.k8s.io/v1beta3', 'flowcontrol.apiserver.k8s.io/v1', ['FlowSchema', 'PriorityLevelConfiguration']),
]);

/** An object found in a cluster, as a removed-API scan reports it. */
export interface ClusterObject {
  apiVersion: string;
  kind: string;
  namespace?: string | null;
  name: string;
}

/** The removal that stops `object` being served by `minor` (a minor after `from`), if any. */
export function removalAffecting(object: ClusterObject, minor: number, from: number, table: readonly RemovedApi[] = REMOVED_APIS): RemovedApi | undefined {
  return table.find((r) => {
    const removed = removedMinor(r);
    return r.apiVersion === object.apiVersion && r.kind === object.kind && removed > from && removed <= minor;
  });
}

const removedMinor = (row: RemovedApi) => Number(row.removedIn.split('.')[1]);

/**
 * What `removal`'s objects should move to for a cluster going to `minor`: its replacement, unless
 * that is itself removed by `minor`, then the replacement's own replacement, and so on (the guide's
 * 1.26 entry points FlowSchema v1beta1 at v1beta2/v1beta3, both gone by 1.32; advice to migrate
 * to them would break at the next hop). null, with the last row's note, where the line ends.
 */
export function migrationTarget(
  removal: RemovedApi,
  minor: number,
  table: readonly RemovedApi[] = REMOVED_APIS,
): { replacement: string | null; note?: string } {
  let row = removal;
  for (let guard = 0; row.replacement !== null && guard < table.length; guard++) {
    const replacement = row.replacement;
    const next = table.find((r) => r.apiVersion === replacement && r.kind === row.kind && removedMinor(r) <= minor);
    if (!next) break;
    row = next;
  }
  return { replacement: row.replacement, ...(row.note ? { note: row.note } : {}) };
}
