import type { KubeObject } from '../../types';
import { timestamp } from './model';

/**
 * Dynamic provisioning and binding of PersistentVolumeClaims as kube-controller-manager's
 * persistentvolume controller and a provisioner (RKE2's local-path, GKE's PD CSI driver) do it,
 * as pure functions (volumes.ts reads and writes):
 * - a claim without `storageClassName` gets the default class (retroactive default StorageClass);
 * - `Immediate` classes provision at once, `WaitForFirstConsumer` ones once the scheduler has put
 *   a pod using the claim on a node (the claim's `volume.kubernetes.io/selected-node`);
 * - the volume `pvc-<claim uid>` has the requested size and access modes, the class's reclaim
 *   policy, a `claimRef` to the claim, and (local-path) a hostPath on the selected node with node
 *   affinity to it; the claim then has `volumeName` and status Bound with capacity and access modes;
 * - a volume whose claim is gone is deleted (reclaim policy Delete) or Released (Retain).
 */

export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const LOCAL_PATH = 'rancher.io/local-path';

export function defaultClass(classes: readonly KubeObject[]): KubeObject | undefined {
  // Several defaults: upstream takes the newest.
  return [...classes]
    .filter((sc) => sc.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
}

export const bindingMode = (sc: KubeObject): string => (sc['volumeBindingMode'] as string | undefined) ?? 'Immediate';
export const provisionerOf = (sc: KubeObject): string => (sc['provisioner'] as string | undefined) ?? '';

interface ClaimSpec {
  accessModes?: string[];
  resources?: { requests?: { storage?: string } };
  storageClassName?: string | null;
  volumeMode?: string;
  volumeName?: string;
}

export const claimSpec = (claim: KubeObject): ClaimSpec => (claim.spec ?? {}) as ClaimSpec;

export const volumeNameFor = (claim: KubeObject) => `pvc-${claim.metadata.uid}`;

/** The volume a provisioner creates for a claim of this class (on `node` for node-local storage). */
export function provisionedVolume(claim: KubeObject, sc: KubeObject, node: string | undefined, now: Date): KubeObject {
  const spec = claimSpec(claim);
  const name = volumeNameFor(claim);
  const provisioner = provisionerOf(sc);
  const source: Record<string, unknown> =
    provisioner === LOCAL_PATH
      ? {
          hostPath: { path: `/var/lib/rancher/rke2/storage/${name}_${claim.metadata.namespace}_${claim.metadata.name}`, type: 'DirectoryOrCreate' },
          ...(node
            ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } }
            : {}),
        }
      : { csi: { driver: provisioner, volumeHandle: `projects/capstan-simulated/zones/simulated-a/disks/${name}`, fsType: 'ext4' } };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': provisioner }, finalizers: ['kubernetes.io/pv-protection'] },
    spec: {
      capacity: { storage: spec.resources?.requests?.storage ?? '1Gi' },
      accessModes: spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: (sc['reclaimPolicy'] as string | undefined) ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: spec.volumeMode ?? 'Filesystem',
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
        resourceVersion: claim.metadata.resourceVersion,
      },
      ...source,
    },
    status: { phase: 'Bound', lastPhaseTransitionTime: timestamp(now) },
  };
}

/** The claim's annotations once bound by the controller to a provisioned volume. */
export function boundAnnotations(sc: KubeObject): Record<string, string> {
  return {
    'pv.kubernetes.io/bind-completed': 'yes',
    'pv.kubernetes.io/bound-by-controller': 'yes',
    'volume.beta.kubernetes.io/storage-provisioner': provisionerOf(sc),
    'volume.kubernetes.io/storage-provisioner': provisionerOf(sc),
  };
}

export function boundStatus(volume: KubeObject): Record<string, unknown> {
  return { phase: 'Bound', accessModes: volume.spec?.['accessModes'], capacity: volume.spec?.['capacity'] };
}

/** The claims a pod mounts. */
export function claimsOfPod(pod: KubeObject): string[] {
  const volumes = (pod.spec?.['volumes'] as { persistentVolumeClaim?: { claimName?: string } }[] | undefined) ?? [];
  return volumes.map((v) => v.persistentVolumeClaim?.claimName).filter((name): name is string => !!name);
}

/** The StorageClasses a distribution installs: RKE2 local-path (default), GKE's PD classes (standard-rwo default). */
export function systemStorageClasses(distribution: string): KubeObject[] {
  const sc = (name: string, provisioner: string, mode: string, isDefault: boolean, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, ...(isDefault ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}) },
    provisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: mode,
    ...extra,
  });
  if (distribution === 'gke') {
    return [
      sc('standard-rwo', 'pd.csi.storage.gke.io', 'WaitForFirstConsumer', true, { allowVolumeExpansion: true, parameters: { type: 'pd-balanced' } }),
      sc('premium-rwo', 'pd.csi.storage.gke.io', 'WaitForFirstConsumer', false, { allowVolumeExpansion: true, parameters: { type: 'pd-ssd' } }),
      sc('standard', 'kubernetes.io/gce-pd', 'Immediate', false, { allowVolumeExpansion: true, parameters: { type: 'pd-standard' } }),
    ];
  }
  if (distribution === 'rke2') return [sc('local-path', LOCAL_PATH, 'WaitForFirstConsumer', true)];
  return [];
}
