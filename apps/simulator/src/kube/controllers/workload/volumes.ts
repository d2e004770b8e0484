import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { recordEvent } from './events';
import { isTerminating, refOf } from './model';
import { createIfAbsent, deleteIfPresent, listOptions, racing, reconcileScope } from './runtime';
import {
  bindingMode,
  boundAnnotations,
  boundStatus,
  claimSpec,
  defaultClass,
  provisionedVolume,
  provisionerOf,
  SELECTED_NODE_ANNOTATION,
  volumeNameFor,
} from './volumes-model';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

const CLAIM = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' } as const;
const VOLUME = { apiVersion: 'v1', kind: 'PersistentVolume' } as const;
const CLASS = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass' } as const;
const CONTROLLER = 'workload/volumes';

/**
 * The persistentvolume controller with the cluster's provisioner (volumes-model.ts): binds
 * pending claims to volumes it provisions, at once or once a pod using them is scheduled, and
 * deletes or releases volumes whose claims are gone. Static binding to pre-created volumes is not
 * emulated.
 */
export const volumeController: EmulatedController = {
  name: CONTROLLER,
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['PersistentVolumeClaim', 'PersistentVolume', 'StorageClass'], CONTROLLER);
    if (!scope) return;
    const claims = await server.list(CLAIM.apiVersion, CLAIM.kind, listOptions(scope));
    const kind = context.event?.object.kind;
    // Without claims only a claim or volume going away leaves work (its volume to reclaim).
    if (claims.length === 0 && kind !== 'PersistentVolumeClaim' && kind !== 'PersistentVolume') return;
    const [classes, volumes] = await Promise.all([server.list(CLASS.apiVersion, CLASS.kind), server.list(VOLUME.apiVersion, VOLUME.kind)]);
    const now = context.now();

    for (const claim of claims) {
      const spec = claimSpec(claim);
      if (spec.volumeName || isTerminating(claim)) continue;
      const record = (type: 'Normal' | 'Warning', reason: string, message: string, component = 'persistentvolume-controller') =>
        recordEvent(server, claim, { type, reason, message, component, action: '', now });
      let className = spec.storageClassName;
      if (className === undefined || className === null) {
        const fallback = defaultClass(classes);
        if (!fallback) continue;
        className = fallback.metadata.name;
        await racing(() => server.mergePatch(refOf(claim), { spec: { storageClassName: className } }));
      }
      if (className === '') continue;
      const sc = classes.find((c) => c.metadata.name === className);
      if (!sc) {
        if (firstTime(claim, 'ProvisioningFailed')) await record('Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
        continue;
      }
      const node = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      if (bindingMode(sc) === 'WaitForFirstConsumer' && !node) {
        if (firstTime(claim, 'WaitForFirstConsumer')) await record('Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
        continue;
      }
      const volume = volumes.find((v) => v.metadata.name === volumeNameFor(claim)) ?? (await createIfAbsent(server, provisionedVolume(claim, sc, node, now)));
      if (!volume) continue;
      const bound = await racing(() =>
        server.update({
          ...claim,
          metadata: { ...claim.metadata, annotations: { ...claim.metadata.annotations, ...boundAnnotations(sc) } },
          spec: { ...claim.spec, storageClassName: className, volumeName: volume.metadata.name },
        }),
      );
      if (!bound) continue;
      await racing(() => server.updateStatus({ ...bound, status: boundStatus(volume) }, KUBE_CONTROLLER_MANAGER));
      await record('Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volume.metadata.name}`, provisionerOf(sc));
    }

    // Reclaim: a volume whose claim (by uid) is gone.
    const claimUids = new Set(claims.map((c) => c.metadata.uid));
    for (const volume of volumes) {
      const ref = volume.spec?.['claimRef'] as { uid?: string; namespace?: string } | undefined;
      if (!ref?.uid || claimUids.has(ref.uid) || isTerminating(volume)) continue;
      if (scope.namespace && ref.namespace !== scope.namespace) continue;
      if (volume.spec?.['persistentVolumeReclaimPolicy'] === 'Delete') await releaseAndDelete(server, volume);
      else if (volume.status?.['phase'] !== 'Released')
        await racing(() => server.updateStatus({ ...volume, status: { ...volume.status, phase: 'Released' } }, KUBE_CONTROLLER_MANAGER));
    }
  },
};

/** The provisioner deletes the volume; the pv-protection finalizer goes once no claim uses it. */
async function releaseAndDelete(server: ApiServerClient, volume: KubeObject): Promise<void> {
  const finalizers = (volume.metadata.finalizers ?? []).filter((f) => f !== 'kubernetes.io/pv-protection');
  if (finalizers.length !== (volume.metadata.finalizers ?? []).length)
    await racing(() => server.update({ ...volume, metadata: { ...volume.metadata, finalizers } }));
  await deleteIfPresent(server, refOf(volume));
}

/** Whether this process has yet to say this about the claim (upstream repeats it at every resync; once is enough here). */
function firstTime(claim: KubeObject, reason: string): boolean {
  const key = `${claim.metadata.uid}/${reason}`;
  if (announced.has(key)) return false;
  announced.add(key);
  if (announced.size > 10_000) announced.delete(announced.values().next().value!);
  return true;
}

const announced = new Set<string>();
