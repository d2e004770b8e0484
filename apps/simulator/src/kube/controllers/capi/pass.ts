import { isDeepStrictEqual } from 'node:util';
import { KubeApiError, type ApiServerClient, type ControllerContext, type KubeEmulator, type KubeObject, type ObjectRef } from '../../types';
import { CLUSTER_API, LABEL, refOf, stringField } from './api';
import type { ActiveMachineFaults } from './machine-faults';

/**
 * One reconcile of one Cluster and everything of it: the management API server, the time, the
 * step delay, the faults armed for it, and the writes every part needs. Writes are idempotent:
 * a create of a name that exists, a delete of one that is gone and a status patch that changes
 * nothing are no-ops, so two simulators running the same pass converge on the same objects.
 */
export class ClusterPass {
  readonly now: Date;
  readonly namespace: string;
  readonly clusterName: string;

  constructor(
    readonly server: ApiServerClient,
    readonly context: ControllerContext,
    public cluster: KubeObject,
    readonly faults: ActiveMachineFaults,
  ) {
    this.now = context.now();
    this.namespace = cluster.metadata.namespace ?? 'default';
    this.clusterName = cluster.metadata.name;
  }

  get emulator(): KubeEmulator {
    return this.context.emulator;
  }

  /** How long a machine transition takes now: the step delay, stretched by a slow-rollout fault. */
  get machineStepMs(): number {
    return this.context.stepDelayMs * this.faults.slowFactor;
  }

  /** Whether `since` (an RFC 3339 time) lies at least `delayMs` in the past. */
  elapsed(since: string | undefined, delayMs: number): boolean {
    if (!since) return true;
    return this.now.getTime() - Date.parse(since) >= delayMs;
  }

  get(ref: ObjectRef): Promise<KubeObject | null> {
    return this.server.get(ref);
  }

  /** Objects of a kind in the cluster's namespace that belong to it (by `spec.clusterName` or the cluster-name label). */
  async listOwned(apiVersion: string, kind: string): Promise<KubeObject[]> {
    const all = await this.server.list(apiVersion, kind, { namespace: this.namespace });
    return all.filter((o) => stringField(o, 'spec', 'clusterName') === this.clusterName || o.metadata.labels?.[LABEL.clusterName] === this.clusterName);
  }

  async machines(): Promise<KubeObject[]> {
    return this.listOwned(CLUSTER_API, 'Machine');
  }

  async createIfAbsent(object: KubeObject): Promise<KubeObject> {
    try {
      return await this.server.create(object);
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 409) {
        const existing = await this.server.get(refOf(object));
        if (existing) return existing;
      }
      throw error;
    }
  }

  async deleteIfPresent(ref: ObjectRef): Promise<void> {
    try {
      await this.server.delete(ref);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 404)) throw error;
    }
  }

  /** Merge-patches `status` with the fields given, unless each already holds that value. */
  async patchStatus(object: KubeObject, fields: Record<string, unknown>): Promise<KubeObject> {
    const status = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    const current = object.status ?? {};
    if (Object.entries(status).every(([key, value]) => isDeepStrictEqual(current[key], value))) return object;
    return this.server.mergePatch(refOf(object), { status }, { subresource: 'status' });
  }

  /** Merge-patches the object (spec, metadata) unless nothing changes. */
  async patch(object: KubeObject, change: Record<string, unknown>): Promise<KubeObject> {
    if (!changes(object, change)) return object;
    return this.server.mergePatch(refOf(object), change);
  }

  async addFinalizer(object: KubeObject, finalizer: string): Promise<KubeObject> {
    const finalizers = object.metadata.finalizers ?? [];
    if (finalizers.includes(finalizer)) return object;
    return this.server.mergePatch(refOf(object), { metadata: { finalizers: [...finalizers, finalizer] } });
  }

  async removeFinalizer(object: KubeObject, finalizer: string): Promise<void> {
    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return;
    try {
      await this.server.mergePatch(refOf(object), { metadata: { finalizers: finalizers.filter((f) => f !== finalizer) } });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 404)) throw error;
    }
  }

  isClusterDeleting(): boolean {
    return Boolean(this.cluster.metadata.deletionTimestamp);
  }
}

/** True when merging `change` into `object` would alter it. */
function changes(object: unknown, change: unknown): boolean {
  if (change === null) return object !== undefined;
  if (typeof change !== 'object' || Array.isArray(change)) return !isDeepStrictEqual(object, change);
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return true;
  return Object.entries(change as Record<string, unknown>).some(([key, value]) => changes((object as Record<string, unknown>)[key], value));
}

export function creationOrder(a: KubeObject, b: KubeObject): number {
  const at = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const bt = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  return at - bt || a.metadata.name.localeCompare(b.metadata.name);
}

export function ownedBy(object: KubeObject, owner: KubeObject): boolean {
  return (object.metadata.ownerReferences ?? []).some(
    (o) => o.controller && o.kind === owner.kind && o.name === owner.metadata.name && (!o.uid || !owner.metadata.uid || o.uid === owner.metadata.uid),
  );
}
