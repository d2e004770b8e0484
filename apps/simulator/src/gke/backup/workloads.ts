import type { KubeEmulatorRuntime } from '../../kube/emulator';
import { IMMORTAL_NAMESPACES } from '../../kube/object-store';
import { joinApiVersion, type ResourceType } from '../../kube/resources';
import { KubeApiError, type KubeObject } from '../../kube/types';

/**
 * What Backup for GKE's agent does inside a cluster, on the Kubernetes API emulator: capture the
 * objects of a backup's namespaces, and write them back on a restore. Built only on the emulator's
 * public surface (an API server's client and its resource index), so the store stays the store's.
 */
export interface GkeWorkloads {
  /** The cluster's API server version when it exists and serves, else null (a backup or restore fails). */
  serving(cluster: string): Promise<string | null>;
  /** Every object of the scope's namespaces (and the Namespaces themselves), as stored now. */
  capture(cluster: string, scope: CaptureScope): Promise<CapturedObject[]>;
  /** Namespaces of the cluster now. */
  namespaces(cluster: string): Promise<string[]>;
  /** Deletes these namespaces (and so everything in them); returns those still present (finalizers hold them). */
  deleteNamespaces(cluster: string, namespaces: readonly string[]): Promise<string[]>;
  /**
   * Writes the objects back, cluster-scoped ones (CRDs first) before Namespaces before what is in
   * them; what exists already is skipped or replaced, per `onConflict` (namespaced objects) and
   * `onClusterConflict` (cluster-scoped ones).
   */
  restore(cluster: string, objects: readonly CapturedObject[], onConflict: Conflict, onClusterConflict: Conflict): Promise<RestoreCounts>;
}

export type Conflict = 'skip' | 'replace';

export interface CaptureScope {
  /** null: every namespace. */
  namespaces: readonly string[] | null;
  includeSecrets: boolean;
}

/** A captured object: its body without what the API server assigns (uid, resourceVersion, status...). */
export interface CapturedObject {
  apiVersion: string;
  kind: string;
  /** null for cluster-scoped objects, Namespaces included. */
  namespace: string | null;
  name: string;
  body: KubeObject;
}

export interface RestoreCounts {
  restored: number;
  excluded: number;
  failed: number;
  failures: string[];
}

/**
 * Namespaces Backup for GKE never restores into ("managed namespaces", skipped silently), so
 * neither does the emulator; it does not back them up either, which keeps backups small.
 */
export const MANAGED_NAMESPACES: ReadonlySet<string> = new Set([
  'cnrm-system',
  'configconnector-operator-system',
  'gatekeeper-system',
  'gke-connect',
  'gke-gmp-system',
  'gmp-public',
  'kube-node-lease',
  'kube-public',
  'kube-system',
]);

/** Kinds the cluster makes by itself or that describe the moment (events): neither backed up nor restored. */
const SKIPPED_KINDS = new Set(['/Event', 'events.k8s.io/Event', 'coordination.k8s.io/Lease']);

/**
 * Cluster-scoped kinds a backup leaves out: what RestoreConfig.ClusterResourceRestoreScope calls
 * unreasonable to restore (Node, ComponentStatus, CSINode, VolumeAttachment), what other settings
 * drive (Namespace, PersistentVolume), and the API server's own flow-control objects.
 */
const UNCAPTURED_CLUSTER_KINDS = new Set([
  '/Node',
  '/ComponentStatus',
  '/Namespace',
  '/PersistentVolume',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
]);

/** Objects each new namespace gets from the cluster itself (kube-controller-manager): the restore leaves them to it. */
const PER_NAMESPACE_OBJECTS = new Set(['ServiceAccount/default', 'ConfigMap/kube-root-ca.crt']);

export function isManagedNamespace(namespace: KubeObject | string): boolean {
  if (typeof namespace === 'string') return MANAGED_NAMESPACES.has(namespace);
  return MANAGED_NAMESPACES.has(namespace.metadata.name) || namespace.metadata.labels?.['addonmanager.kubernetes.io/mode'] === 'Reconcile';
}

export function gkeWorkloads(emulator: KubeEmulatorRuntime): GkeWorkloads {
  const typesOf = async (cluster: string, namespaced: boolean): Promise<ResourceType[]> =>
    (await emulator.resources(cluster)).types.filter(
      (t) =>
        t.namespaced === namespaced &&
        t.verbs.includes('list') &&
        t.verbs.includes('create') &&
        !SKIPPED_KINDS.has(`${t.group}/${t.kind}`) &&
        !UNCAPTURED_CLUSTER_KINDS.has(`${t.group}/${t.kind}`),
    );

  return {
    async serving(cluster) {
      const info = await emulator.getApiServer(cluster);
      return info?.serving ? info.version : null;
    },

    async namespaces(cluster) {
      return (await emulator.server(cluster).list('v1', 'Namespace')).map((n) => n.metadata.name);
    },

    async capture(cluster, scope) {
      const server = emulator.server(cluster);
      const all = await server.list('v1', 'Namespace');
      const wanted = all.filter(
        (n) => !isManagedNamespace(n) && !n.metadata.deletionTimestamp && (scope.namespaces === null || scope.namespaces.includes(n.metadata.name)),
      );
      const captured: CapturedObject[] = wanted.map((n) => capturedOf(n, null));
      // Cluster-scoped resources go into every backup, as Backup for GKE's do; the restore plan's
      // clusterResourceRestoreScope decides which come back. The API server's own are left out.
      for (const type of await typesOf(cluster, false)) {
        for (const object of await server.list(joinApiVersion(type.group, type.versions[0]!), type.kind)) {
          if (!object.metadata.deletionTimestamp && !object.metadata.name.startsWith('system:')) captured.push(capturedOf(object, null));
        }
      }
      const types = await typesOf(cluster, true);
      for (const namespace of wanted) {
        for (const type of types) {
          if (!scope.includeSecrets && type.group === '' && type.kind === 'Secret') continue;
          const apiVersion = joinApiVersion(type.group, type.versions[0]!);
          for (const object of await server.list(apiVersion, type.kind, { namespace: namespace.metadata.name })) {
            if (!object.metadata.deletionTimestamp) captured.push(capturedOf(object, namespace.metadata.name));
          }
        }
      }
      return captured;
    },

    async deleteNamespaces(cluster, namespaces) {
      const server = emulator.server(cluster);
      const left: string[] = [];
      for (const name of namespaces) {
        if (IMMORTAL_NAMESPACES.has(name)) {
          // The API server refuses to delete `default` (403, as kube-apiserver does): the agent
          // deletes what is in it instead, which is what DELETE_AND_RESTORE is after.
          if ((await deleteContents(name)) > 0) left.push(name);
          continue;
        }
        await server.delete({ apiVersion: 'v1', kind: 'Namespace', name }).catch(ignoreNotFound);
      }
      const present = new Set((await server.list('v1', 'Namespace')).map((n) => n.metadata.name));
      return [...left, ...namespaces.filter((n) => !IMMORTAL_NAMESPACES.has(n) && present.has(n))];

      /** Deletes the namespace's restorable objects; how many are still there (finalizers, grace periods). */
      async function deleteContents(namespace: string): Promise<number> {
        let remaining = 0;
        for (const type of await typesOf(cluster, true)) {
          const apiVersion = joinApiVersion(type.group, type.versions[0]!);
          const contents = async () =>
            (await server.list(apiVersion, type.kind, { namespace })).filter((o) => !PER_NAMESPACE_OBJECTS.has(`${type.kind}/${o.metadata.name}`));
          for (const object of await contents()) {
            if (object.metadata.deletionTimestamp) continue;
            await server.delete({ apiVersion, kind: type.kind, namespace, name: object.metadata.name }).catch(ignoreNotFound);
          }
          remaining += (await contents()).length;
        }
        return remaining;
      }
    },

    async restore(cluster, objects, onConflict, onClusterConflict) {
      const server = emulator.server(cluster);
      const counts: RestoreCounts = { restored: 0, excluded: 0, failed: 0, failures: [] };
      // CRDs, then other cluster-scoped objects, then Namespaces, then what is in them: each needs what comes before.
      const rank = (o: CapturedObject) => (o.kind === 'CustomResourceDefinition' ? 0 : o.namespace === null ? (o.kind === 'Namespace' ? 2 : 1) : 3);
      const ordered = [...objects].sort((a, b) => rank(a) - rank(b));
      for (const object of ordered) {
        if (!restorable(object)) {
          counts.excluded += 1;
          continue;
        }
        const body = restoredBody(object.body);
        try {
          await server.create(body);
          counts.restored += 1;
        } catch (error) {
          if (!(error instanceof KubeApiError && error.reason === 'AlreadyExists')) {
            counts.failed += 1;
            counts.failures.push(`${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}: ${(error as Error).message}`);
            continue;
          }
          // A Namespace that exists stays as it is: its objects are what the modes are about.
          const conflict = object.namespace === null ? onClusterConflict : onConflict;
          if (conflict === 'skip' || object.kind === 'Namespace') {
            counts.excluded += 1;
            continue;
          }
          const ref = { apiVersion: object.apiVersion, kind: object.kind, name: object.name, ...(object.namespace ? { namespace: object.namespace } : {}) };
          const current = await server.get(ref);
          await server.update({ ...body, metadata: { ...body.metadata, resourceVersion: current?.metadata.resourceVersion } });
          counts.restored += 1;
        }
      }
      return counts;
    },
  };
}

function capturedOf(object: KubeObject, namespace: string | null): CapturedObject {
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _created, generation: _generation, managedFields: _fields, ...metadata } = object.metadata;
  const { status: _status, ...rest } = object;
  return { apiVersion: object.apiVersion, kind: object.kind, namespace, name: object.metadata.name, body: { ...rest, metadata } };
}

/**
 * What a restore writes back: not what a controller of the cluster makes again from what is
 * restored (a Deployment's ReplicaSets and Pods carry a controller ownerReference to an object
 * whose uid changes on restore), nor the objects each namespace gets by itself.
 */
function restorable(object: CapturedObject): boolean {
  if ((object.body.metadata.ownerReferences ?? []).some((o) => o.controller)) return false;
  return !(object.namespace && PER_NAMESPACE_OBJECTS.has(`${object.kind}/${object.name}`));
}

function restoredBody(body: KubeObject): KubeObject {
  const { ownerReferences: _owners, ...metadata } = body.metadata;
  // A bare Pod comes back unscheduled: the node it ran on may be gone, the scheduler places it.
  if (body.kind === 'Pod' && body.apiVersion === 'v1' && body.spec) {
    const { nodeName: _node, ...spec } = body.spec;
    return { ...body, metadata, spec };
  }
  return { ...body, metadata };
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof KubeApiError && error.code === 404)) throw error;
}
