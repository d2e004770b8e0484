import { SimulatorDatabase } from '../src/database';
import type { KubeEmulatorRuntime } from '../src/kube/emulator';
import { EtcdSnapshots } from '../src/kube/etcd-snapshots';
import type { ApiServerClient, ChangeEvent, KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';

/**
 * The etcd snapshot store of emulated RKE2 clusters: a snapshot holds the API server's objects at
 * one revision; a restore makes them the server's objects again the way kube-apiserver would show
 * it (revisions forward, an event per change); a wipe (the data-loss fault) spares snapshot files.
 */
describe('etcd snapshots of an emulated workload cluster', () => {
  let sim: TestSimulator;
  let db: SimulatorDatabase;
  let snapshots: EtcdSnapshots;

  const configMap = (name: string, value: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'shop', labels: { test: 'etcd' } },
    data: { value },
  });
  const ours = async (server: ApiServerClient) =>
    (await server.list('v1', 'ConfigMap', { namespace: 'shop', labelSelector: 'test=etcd' }))
      .map((o) => `${o.metadata.name}=${String((o.data as { value: string }).value)}`)
      .sort();
  const workload = async (name: string) => {
    await sim.simulator.kube.ensureApiServer({ name, role: 'workload', distribution: 'rke2', version: '1.35.4+rke2r1' });
    const server = sim.simulator.kube.server(name);
    await server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    return server;
  };

  beforeAll(async () => {
    sim = await startTestSimulator();
    db = new SimulatorDatabase(sim.db.url, 2);
    snapshots = new EtcdSnapshots(db, (sim.simulator.kube as KubeEmulatorRuntime).store);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await sim?.close();
  }, 60_000);

  it('restores the objects of the snapshot: later ones go, deleted ones return, changed ones revert, each as a watch event', async () => {
    const server = await workload('capstan-etcd-restore');
    await server.create(configMap('kept', 'v1'));
    await server.create(configMap('changed', 'before'));
    const deletedLater = await server.create(configMap('deleted-later', 'v1'));
    const saved = await snapshots.save('capstan-etcd-restore', { name: 'snap-1', node: 'server-0', location: 'file:///snap/snap-1', s3: null }, new Date());
    expect(saved.sizeBytes).toBeGreaterThan(0);
    // Saving again under the name answers the snapshot taken, unchanged.
    expect(await snapshots.save('capstan-etcd-restore', { name: 'snap-1', node: 'server-0', location: 'file:///snap/snap-1', s3: null }, new Date())).toEqual(
      saved,
    );

    await server.create(configMap('created-later', 'v1'));
    await server.mergePatch({ apiVersion: 'v1', kind: 'ConfigMap', name: 'changed', namespace: 'shop' }, { data: { value: 'after' } });
    await server.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'deleted-later', namespace: 'shop' });
    await server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'after-snapshot' } });

    const events: ChangeEvent[] = [];
    const unsubscribe = sim.simulator.kube.onChange((event) => {
      if (event.server === 'capstan-etcd-restore') events.push(event);
    });
    try {
      expect(await snapshots.restore('capstan-etcd-restore', 'snap-1')).toBe(true);
    } finally {
      unsubscribe();
    }

    expect(await ours(server)).toEqual(['changed=before', 'deleted-later=v1', 'kept=v1']);
    expect(await server.get({ apiVersion: 'v1', kind: 'Namespace', name: 'after-snapshot' })).toBeNull();
    const seen = events.map((e) => `${e.type} ${e.object.kind}/${e.object.metadata.name}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'DELETED ConfigMap/created-later',
        'DELETED Namespace/after-snapshot',
        'ADDED ConfigMap/deleted-later',
        'MODIFIED ConfigMap/changed',
      ]),
    );
    expect(seen).not.toContain('MODIFIED ConfigMap/kept');
    const returned = (await server.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'deleted-later', namespace: 'shop' }))!;
    expect(returned.metadata.uid).toBe(deletedLater.metadata.uid);
    expect(BigInt(returned.metadata.resourceVersion!) > BigInt(saved.resourceVersion)).toBe(true);
    expect(await snapshots.restore('capstan-etcd-restore', 'no-such-snapshot')).toBe(false);
  });

  it('loses every object to the data-loss fault except the snapshot files RKE2 lists', async () => {
    const server = await workload('capstan-etcd-wipe');
    await server.create(configMap('doomed', 'v1'));
    await server.create({
      apiVersion: 'k3s.cattle.io/v1',
      kind: 'ETCDSnapshotFile',
      metadata: { name: 'local-snap-1' },
      spec: { snapshotName: 'snap-1', nodeName: 'server-0', location: 'file:///snap/snap-1' },
      status: { readyToUse: true },
    });
    const answer = await sim.api<{ removed: number }>('POST', '/v1/chaos/clusters/capstan-etcd-wipe/etcd/data-loss');
    expect(answer.status).toBe(200);
    expect(answer.body.removed).toBeGreaterThan(1);
    expect(await server.list('v1', 'Namespace')).toEqual([]);
    expect((await server.list('k3s.cattle.io/v1', 'ETCDSnapshotFile')).map((f) => f.metadata.name)).toEqual(['local-snap-1']);
  });

  it('answers 404 for data loss on anything but an emulated RKE2 cluster', async () => {
    expect((await sim.api('POST', '/v1/chaos/clusters/management/etcd/data-loss')).status).toBe(404);
    expect((await sim.api('POST', '/v1/chaos/clusters/capstan-nowhere/etcd/data-loss')).status).toBe(404);
    await sim.simulator.kube.ensureApiServer({ name: 'capstan-etcd-gke', role: 'workload', distribution: 'gke', version: '1.35.4-gke.1100' });
    expect((await sim.api('POST', '/v1/chaos/clusters/capstan-etcd-gke/etcd/data-loss')).status).toBe(404);
  });
});
