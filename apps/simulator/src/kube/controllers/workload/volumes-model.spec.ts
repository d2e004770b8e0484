import type { KubeObject } from '../../types';
import { claimsOfPod, defaultClass, provisionedVolume, systemStorageClasses } from './volumes-model';

const NOW = new Date('2026-12-06T05:00:00Z');
const claim: KubeObject = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'shop', uid: 'c-1', resourceVersion: '7' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '3Gi' } } },
};

describe('volume provisioning', () => {
  it('picks the newest of several default classes, none when no class is default', () => {
    const sc = (name: string, created: string, isDefault: boolean): KubeObject => ({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name, creationTimestamp: created, ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    });
    expect(
      defaultClass([sc('a', '2026-01-01T00:00:00Z', true), sc('b', '2026-02-01T00:00:00Z', true), sc('c', '2026-03-01T00:00:00Z', false)])?.metadata.name,
    ).toBe('b');
    expect(defaultClass([sc('c', '2026-03-01T00:00:00Z', false)])).toBeUndefined();
  });

  it('provisions a local-path volume on the selected node, and a CSI disk elsewhere, bound to the claim', () => {
    const [localPath] = systemStorageClasses('rke2');
    const local = provisionedVolume(claim, localPath!, 'worker-a', NOW);
    expect(local.metadata).toMatchObject({ name: 'pvc-c-1', annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' } });
    expect(local.spec).toMatchObject({
      capacity: { storage: '3Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'local-path',
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'data', uid: 'c-1' },
      hostPath: { path: '/var/lib/rancher/rke2/storage/pvc-c-1_shop_data' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-a'] }] }] } },
    });
    const [standardRwo] = systemStorageClasses('gke');
    const disk = provisionedVolume(claim, standardRwo!, undefined, NOW);
    expect(disk.spec).toMatchObject({ storageClassName: 'standard-rwo', csi: { driver: 'pd.csi.storage.gke.io' } });
    expect(disk.spec).not.toHaveProperty('hostPath');
    expect(systemStorageClasses('kubernetes')).toEqual([]);
  });

  it('finds the claims a pod mounts', () => {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        volumes: [
          { name: 'a', persistentVolumeClaim: { claimName: 'data' } },
          { name: 'tmp', emptyDir: {} },
        ],
      },
    };
    expect(claimsOfPod(pod)).toEqual(['data']);
  });
});
