import type { ApiServerClient, KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';
import { applyManifest, type Kubectl, kubectlDir, kubectlWorkloadCluster, removeKubectlDir } from './kubectl-support';
import { eventually } from './workload-support';

/**
 * Volumes judged by the real kubectl: RKE2's default `local-path` class binds a claim when the
 * first pod using it is scheduled (a volume on that pod's node), an Immediate class binds at once,
 * and a deleted claim's volume goes with it (reclaim policy Delete).
 */
describe('PersistentVolumeClaims on an emulated workload cluster (kubectl)', () => {
  const NAME = 'capstan-volumes-wl';
  let sim: TestSimulator;
  let server: ApiServerClient;
  let dir: string;
  let kubectl: Kubectl;

  const apply = (name: string, manifest: string) => applyManifest(kubectl, dir, name, manifest);
  const claim = async (name: string) => JSON.parse((await kubectl('get', 'pvc', name, '-o', 'json')).stdout) as KubeObject;

  beforeAll(async () => {
    sim = await startTestSimulator();
    dir = await kubectlDir('capstan-vol-');
    const kube = sim.simulator.kube;
    ({ server, kubectl } = await kubectlWorkloadCluster(kube, NAME, dir));
  });
  afterAll(async () => {
    await sim?.close();
    await removeKubectlDir(dir);
  });

  it('binds a claim of the default local-path class once a pod using it is scheduled', async () => {
    await eventually(
      async () =>
        /^local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s/m.test(
          (await kubectl('get', 'sc', '--no-headers')).stdout,
        ),
      'the local-path StorageClass',
    );
    expect(
      await apply(
        'data',
        'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: data, namespace: default }\nspec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 2Gi } } }\n',
      ),
    ).toMatchObject({ code: 0 });
    await eventually(
      async () => /^data\s+Pending\s+local-path\s+<unset>\s/.test((await kubectl('get', 'pvc', 'data', '--no-headers')).stdout),
      'claim Pending with the default class',
    );
    await eventually(
      async () =>
        /WaitForFirstConsumer\s+\S+\s+persistentvolume-controller\s+waiting for first consumer to be created before binding/.test(
          (await kubectl('describe', 'pvc', 'data')).stdout,
        ),
      'WaitForFirstConsumer event',
    );

    expect(
      await apply(
        'user',
        'apiVersion: v1\nkind: Pod\nmetadata: { name: user, namespace: default }\nspec:\n  containers: [ { name: app, image: "nginx:1.27", volumeMounts: [ { name: data, mountPath: /data } ] } ]\n  volumes: [ { name: data, persistentVolumeClaim: { claimName: data } } ]\n',
      ),
    ).toMatchObject({ code: 0 });
    await eventually(async () => /\s1\/1\s+Running\s/.test((await kubectl('get', 'pod', 'user', '--no-headers')).stdout), 'user pod running');
    const node = (await kubectl('get', 'pod', 'user', '-o', 'jsonpath={.spec.nodeName}')).stdout;
    const bound = await eventually(async () => {
      const now = await claim('data');
      return now.status?.['phase'] === 'Bound' && now;
    }, 'claim bound');
    const volume = `pvc-${bound.metadata.uid}`;
    expect(bound.spec).toMatchObject({ volumeName: volume, storageClassName: 'local-path' });
    expect(bound.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
    expect(bound.metadata.annotations).toMatchObject({
      'volume.kubernetes.io/selected-node': node,
      'pv.kubernetes.io/bind-completed': 'yes',
      'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path',
    });
    expect((await kubectl('get', 'pvc', 'data', '--no-headers')).stdout).toMatch(
      new RegExp(`^data\\s+Bound\\s+${volume}\\s+2Gi\\s+RWO\\s+local-path\\s+<unset>\\s`),
    );
    expect((await kubectl('get', 'pv', '--no-headers')).stdout).toMatch(
      new RegExp(`^${volume}\\s+2Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+local-path\\s`, 'm'),
    );
    const pv = JSON.parse((await kubectl('get', 'pv', volume, '-o', 'json')).stdout) as KubeObject;
    expect(pv.spec).toMatchObject({
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: bound.metadata.uid },
      hostPath: { path: `/var/lib/rancher/rke2/storage/${volume}_default_data`, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    });
    expect((await kubectl('describe', 'pvc', 'data')).stdout).toMatch(
      new RegExp(`ProvisioningSucceeded\\s+\\S+\\s+rancher\\.io/local-path\\s+Successfully provisioned volume ${volume}`),
    );

    // The claim goes (after its pod): so does its volume.
    expect(await kubectl('delete', 'pod', 'user', '--wait=true', '--timeout=60s')).toMatchObject({ code: 0 });
    expect(await kubectl('delete', 'pvc', 'data', '--wait=true', '--timeout=60s')).toMatchObject({ code: 0 });
    await eventually(async () => (await server.get({ apiVersion: 'v1', kind: 'PersistentVolume', name: volume })) === null, 'volume deleted');
  });

  it('binds a claim of an Immediate class at once, and leaves one of an unknown class Pending', async () => {
    expect(
      await apply(
        'fast',
        [
          'apiVersion: storage.k8s.io/v1',
          'kind: StorageClass',
          'metadata: { name: fast }',
          'provisioner: pd.csi.storage.gke.io',
          'reclaimPolicy: Retain',
          '---',
          'apiVersion: v1',
          'kind: PersistentVolumeClaim',
          'metadata: { name: quick, namespace: default }',
          'spec: { accessModes: [ReadWriteOnce], storageClassName: fast, resources: { requests: { storage: 5Gi } } }',
          '---',
          'apiVersion: v1',
          'kind: PersistentVolumeClaim',
          'metadata: { name: lost, namespace: default }',
          'spec: { accessModes: [ReadWriteOnce], storageClassName: nowhere, resources: { requests: { storage: 1Gi } } }',
          '',
        ].join('\n'),
      ),
    ).toMatchObject({ code: 0 });
    const quick = await eventually(async () => {
      const now = await claim('quick');
      return now.status?.['phase'] === 'Bound' && now;
    }, 'quick bound without a pod');
    const pv = (await server.get({ apiVersion: 'v1', kind: 'PersistentVolume', name: `pvc-${quick.metadata.uid}` }))!;
    expect(pv.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', csi: { driver: 'pd.csi.storage.gke.io', fsType: 'ext4' } });
    await eventually(
      async () =>
        /ProvisioningFailed\s+\S+\s+persistentvolume-controller\s+storageclass\.storage\.k8s\.io "nowhere" not found/.test(
          (await kubectl('describe', 'pvc', 'lost')).stdout,
        ),
      'ProvisioningFailed event',
    );
    expect((await claim('lost')).status).toMatchObject({ phase: 'Pending' });

    // Retain: the volume stays, Released, once its claim is gone.
    expect(await kubectl('delete', 'pvc', 'quick', '--wait=true', '--timeout=60s')).toMatchObject({ code: 0 });
    await eventually(
      async () =>
        new RegExp(`^pvc-${quick.metadata.uid}\\s+5Gi\\s+RWO\\s+Retain\\s+Released\\s+default/quick\\s`).test(
          (await kubectl('get', 'pv', '--no-headers')).stdout,
        ),
      'volume Released',
    );
  });
});
