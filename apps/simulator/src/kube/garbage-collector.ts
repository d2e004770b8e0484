import type { KubeEmulatorRuntime } from './emulator';
import type { StoredRow } from './object-store';
import type { ResourceType } from './resources';
import type { ApiServerInfo, ChangeEvent, ControllerContext, EmulatedController, KubeObject } from './types';
import { KubeApiError } from './types';

/**
 * kube-controller-manager's garbage collector, event-driven: when an owner is gone its dependents
 * (objects whose ownerReferences name its uid) are deleted, or only lose that reference while
 * another owner remains (background propagation); an owner deleted in the foreground
 * (`foregroundDeletion` finalizer) has its dependents deleted first, foreground too, and goes when
 * none remains; `orphan` strips the reference from its dependents and then lets the owner go.
 *
 * Simplified: it acts on events only (no periodic full scan), so dependents of an owner deleted
 * while no simulator process was running stay until touched.
 */
export class GarbageCollector implements EmulatedController {
  readonly name = 'garbage-collector';
  readonly roles: ApiServerInfo['role'][] = ['management', 'workload'];
  readonly ticks = false;

  constructor(private readonly emulator: KubeEmulatorRuntime) {}

  async reconcile(_server: unknown, info: ApiServerInfo, context: ControllerContext): Promise<void> {
    const event = context.event;
    if (!event) return;
    await this.onEvent(info.name, event);
  }

  async onEvent(server: string, event: ChangeEvent): Promise<void> {
    const object = event.object;
    const uid = object.metadata.uid;
    if (!uid) return;
    if (event.type === 'DELETED') {
      await this.collectDependents(server, uid, 'Background');
      // A dependent going may complete an owner's foreground deletion.
      for (const owner of object.metadata.ownerReferences ?? []) await this.finishForeground(server, owner.uid);
      return;
    }
    if (event.type === 'ADDED' && (object.metadata.ownerReferences ?? []).length > 0) await this.adoptOrCollect(server, event);
    if (!object.metadata.deletionTimestamp) return;
    const finalizers = object.metadata.finalizers ?? [];
    if (finalizers.includes('orphan')) {
      for (const dependent of await this.emulator.store.dependents(server, uid)) await this.dropOwner(server, dependent, uid);
      await this.removeFinalizer(server, uid, 'orphan');
    } else if (finalizers.includes('foregroundDeletion')) {
      await this.collectDependents(server, uid, 'Foreground');
      await this.finishForeground(server, uid);
    }
  }

  /**
   * A dependent created while its owner was already being deleted in the foreground (a controller
   * that listed before the deletion): kube-controller-manager's collector checks every new
   * dependent's owners, so it goes too, or the owner would wait for it forever. (Owners that are
   * absent altogether are left alone: nothing here waits on them.)
   */
  private async adoptOrCollect(server: string, event: ChangeEvent): Promise<void> {
    const refs = event.object.metadata.ownerReferences ?? [];
    const owners = await Promise.all(refs.map((ref) => this.emulator.store.byUid(server, ref.uid)));
    const foreground = owners.filter((owner) => owner?.object.metadata.finalizers?.includes('foregroundDeletion'));
    if (foreground.length === 0 || owners.some((owner) => owner && !foreground.includes(owner))) return;
    const row = await this.emulator.store.byUid(server, event.object.metadata.uid!);
    if (row) await this.ignoreGone(this.deleteRow(server, row, 'Foreground'));
  }

  private async collectDependents(server: string, ownerUid: string, policy: 'Background' | 'Foreground'): Promise<void> {
    for (const dependent of await this.emulator.store.dependents(server, ownerUid)) {
      const others = (dependent.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      let otherOwnerAlive = false;
      for (const other of others) if (await this.emulator.store.byUid(server, other.uid)) otherOwnerAlive = true;
      if (otherOwnerAlive) await this.dropOwner(server, dependent, ownerUid);
      else await this.ignoreGone(this.deleteRow(server, dependent, policy));
    }
  }

  private async finishForeground(server: string, ownerUid: string): Promise<void> {
    const owner = await this.emulator.store.byUid(server, ownerUid);
    if (!owner?.object.metadata.finalizers?.includes('foregroundDeletion')) return;
    const blocking = (await this.emulator.store.dependents(server, ownerUid)).filter((d) =>
      (d.object.metadata.ownerReferences ?? []).some((r) => r.uid === ownerUid && r.blockOwnerDeletion),
    );
    if (blocking.length === 0) await this.removeFinalizer(server, ownerUid, 'foregroundDeletion');
  }

  private async typeOf(server: string, row: StoredRow): Promise<{ type: ResourceType; version: string } | null> {
    const type = (await this.emulator.resources(server)).byGroupResource(row.group, row.resource);
    return type ? { type, version: type.versions[0]! } : null;
  }

  private async deleteRow(server: string, row: StoredRow, policy: 'Background' | 'Foreground'): Promise<void> {
    const found = await this.typeOf(server, row);
    if (!found) return;
    await this.emulator.store.delete(server, found.type, found.version, row.object.metadata.namespace, row.object.metadata.name, {
      uid: row.object.metadata.uid,
      propagationPolicy: policy,
    });
  }

  private async dropOwner(server: string, row: StoredRow, ownerUid: string): Promise<void> {
    const found = await this.typeOf(server, row);
    if (!found) return;
    await this.ignoreGone(
      this.emulator.store.patch(server, found.type, found.version, row.object.metadata.namespace, row.object.metadata.name, (current: KubeObject) => {
        const refs = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
        const { ownerReferences: _dropped, ...metadata } = current.metadata;
        return { ...current, metadata: refs.length > 0 ? { ...metadata, ownerReferences: refs } : metadata };
      }),
    );
  }

  private async removeFinalizer(server: string, uid: string, finalizer: string): Promise<void> {
    const row = await this.emulator.store.byUid(server, uid);
    if (!row) return;
    const found = await this.typeOf(server, row);
    if (!found) return;
    await this.ignoreGone(
      this.emulator.store.patch(server, found.type, found.version, row.object.metadata.namespace, row.object.metadata.name, (current: KubeObject) => ({
        ...current,
        metadata: { ...current.metadata, finalizers: (current.metadata.finalizers ?? []).filter((f) => f !== finalizer) },
      })),
    );
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
