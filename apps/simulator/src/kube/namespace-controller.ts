import type { KubeEmulatorRuntime } from './emulator';
import { NAMESPACE_FINALIZER, timestamp } from './object-rules';
import type { StoredRow } from './object-store';
import type { ApiServerInfo, ChangeEvent, ControllerContext, EmulatedController, KubeObject } from './types';
import { KubeApiError } from './types';

interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/**
 * kube-controller-manager's namespace controller: a Terminating namespace (DELETE marks it so)
 * has everything in it deleted, the usual way (pods gracefully, finalizers respected), its status
 * conditions saying what remains, and once it is empty its `kubernetes` finalizer is removed
 * through `finalize` and it is deleted for good. Event-driven, like the garbage collector: a
 * namespace marked, and every deletion inside a Terminating one, make it look again.
 */
export class NamespaceController implements EmulatedController {
  readonly name = 'namespace-controller';
  readonly roles: ApiServerInfo['role'][] = ['management', 'workload'];
  readonly ticks = false;

  constructor(private readonly emulator: KubeEmulatorRuntime) {}

  async reconcile(_server: unknown, info: ApiServerInfo, context: ControllerContext): Promise<void> {
    const event = context.event;
    if (!event) return;
    const namespace = namespaceToLookAt(event);
    if (namespace) await this.sweep(info.name, namespace, context.now());
  }

  private async sweep(server: string, name: string, now: Date): Promise<void> {
    const namespaces = (await this.emulator.resources(server)).byGroupResource('', 'namespaces');
    if (!namespaces) return;
    const version = namespaces.versions[0]!;
    const namespace = await this.emulator.store.get(server, namespaces, version, undefined, name);
    if (!namespace || !isTerminating(namespace)) return;

    for (const row of await this.emulator.store.namespaceContents(server, name)) {
      if (!row.object.metadata.deletionTimestamp) await this.ignoreGone(this.deleteRow(server, row));
    }
    const remaining = await this.emulator.store.namespaceContents(server, name);
    const conditions = terminatingConditions(remaining, namespace, now);
    if (JSON.stringify(conditions) !== JSON.stringify(namespace.status?.['conditions'])) {
      await this.ignoreGone(
        this.emulator.store.patch(server, namespaces, version, undefined, name, (current) => ({ ...current, status: { ...current.status, conditions } }), {
          subresource: 'status',
        }),
      );
    }
    if (remaining.length > 0) return;
    const finalizers = specFinalizers(namespace).filter((f) => f !== NAMESPACE_FINALIZER);
    await this.ignoreGone(this.emulator.store.finalizeNamespace(server, namespaces, version, name, finalizers));
  }

  private async deleteRow(server: string, row: StoredRow): Promise<void> {
    const type = (await this.emulator.resources(server)).byGroupResource(row.group, row.resource);
    if (!type) return;
    await this.emulator.store.delete(server, type, type.versions[0]!, row.object.metadata.namespace, row.object.metadata.name, {
      uid: row.object.metadata.uid,
      propagationPolicy: 'Background',
    });
  }

  /** Another process (or an earlier event) may have done it already. */
  private async ignoreGone(work: Promise<unknown>): Promise<void> {
    try {
      await work;
    } catch (error) {
      if (!(error instanceof KubeApiError && (error.code === 404 || error.code === 409))) throw error;
    }
  }
}

const specFinalizers = (namespace: KubeObject): string[] => (namespace.spec?.['finalizers'] as string[] | undefined) ?? [];

const isTerminating = (namespace: KubeObject): boolean =>
  Boolean(namespace.metadata.deletionTimestamp) && specFinalizers(namespace).includes(NAMESPACE_FINALIZER);

/** The namespace an event may move on: a Terminating namespace itself, or the namespace of something deleted. */
function namespaceToLookAt(event: ChangeEvent): string | null {
  const object = event.object;
  if (object.kind === 'Namespace' && (object.apiVersion ?? 'v1') === 'v1')
    return event.type !== 'DELETED' && isTerminating(object) ? object.metadata.name : null;
  return event.type === 'DELETED' && object.metadata.namespace ? object.metadata.namespace : null;
}

/** The five conditions kube-controller-manager keeps on a Terminating namespace, in its words. */
function terminatingConditions(remaining: StoredRow[], namespace: KubeObject, now: Date): NamespaceCondition[] {
  const counts = new Map<string, number>();
  const held = new Map<string, number>();
  for (const row of remaining) {
    const resource = `${row.resource}.${row.group}`;
    counts.set(resource, (counts.get(resource) ?? 0) + 1);
    for (const finalizer of row.object.metadata.finalizers ?? []) held.set(finalizer, (held.get(finalizer) ?? 0) + 1);
  }
  const list = (entries: Map<string, number>, what: (key: string, n: number) => string) =>
    [...entries.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => what(key, n))
      .join(', ');
  const wanted: NamespaceCondition[] = [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    {
      type: 'NamespaceDeletionGroupVersionParsingFailure',
      status: 'False',
      reason: 'ParsedGroupVersions',
      message: 'All legacy kube types successfully parsed',
    },
    {
      type: 'NamespaceDeletionContentFailure',
      status: 'False',
      reason: 'ContentDeleted',
      message: 'All content successfully deleted, may be waiting on finalization',
    },
    counts.size > 0
      ? {
          type: 'NamespaceContentRemaining',
          status: 'True',
          reason: 'SomeResourcesRemain',
          message: `Some resources are remaining: ${list(counts, (resource, n) => `${resource} has ${n} resource instances`)}`,
        }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    held.size > 0
      ? {
          type: 'NamespaceFinalizersRemaining',
          status: 'True',
          reason: 'SomeFinalizersRemain',
          message: `Some content in the namespace has finalizers remaining: ${list(held, (finalizer, n) => `${finalizer} in ${n} resource instances`)}`,
        }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ];
  const before = (namespace.status?.['conditions'] as NamespaceCondition[] | undefined) ?? [];
  return wanted.map((condition) => {
    const previous = before.find((c) => c.type === condition.type);
    const same = previous && previous.status === condition.status && previous.reason === condition.reason && previous.message === condition.message;
    return { ...condition, lastTransitionTime: same ? (previous.lastTransitionTime ?? timestamp(now)) : timestamp(now) };
  });
}
