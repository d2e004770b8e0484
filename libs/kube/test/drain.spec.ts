import type { ApiServerClient } from '@capstan/simulator';
import { TenantKube } from '../src';
import { type EmulatedClusters, eventually, isRunning, livePods, readyNode, startEmulatedClusters } from './emulated-cluster';

/**
 * Cordon and drain through the Eviction API against an emulated RKE2 workload cluster whose
 * controllers run Deployments, DaemonSets, mirror pods and PodDisruptionBudgets as a real one does.
 */
describe('TenantKube cordon and drain', () => {
  const NAME = 'capstan-drain';
  let clusters: EmulatedClusters;
  let server: ApiServerClient;
  let kube: TenantKube;

  beforeAll(async () => {
    clusters = await startEmulatedClusters();
    const cluster = await clusters.cluster(NAME, '1.31.4+rke2r1');
    server = cluster.server;
    for (const name of ['node-a', 'node-b', 'node-c']) await server.create(readyNode(name, 'v1.31.4+rke2r1'));
    kube = new TenantKube(cluster.access, { evictionBackoff: { initialMs: 100, maxMs: 500, pollMs: 100 } });
    // Every node runs its DaemonSet (cilium) and mirror (kube-proxy) pods before anything is drained.
    await eventually(async () => {
      const system = await livePods(server, 'kube-system', '');
      const placed = (prefix: string) => new Set(system.filter((p) => p.metadata.name.startsWith(prefix)).map((p) => p.spec?.['nodeName'])).size;
      return placed('cilium-') === 3 && placed('kube-proxy-') === 3;
    }, 'cilium and kube-proxy on every node');
  });
  afterAll(async () => {
    await clusters?.close();
  });

  const unschedulable = async (node: string) => (await server.get({ apiVersion: 'v1', kind: 'Node', name: node }))?.spec?.['unschedulable'] === true;

  it('cordons and uncordons a node through spec.unschedulable', async () => {
    await kube.cordon('node-a');
    expect(await unschedulable('node-a')).toBe(true);
    await kube.uncordon('node-a');
    expect(await unschedulable('node-a')).toBe(false);
  });

  it('refuses to drain a node running a pod no controller manages, naming it, unless forced', async () => {
    await server.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'loner', namespace: 'default' },
      spec: { nodeName: 'node-c', containers: [{ name: 'main', image: 'busybox:1.36' }] },
    });
    await expect(kube.drain('node-c', { timeoutSeconds: 10, force: false })).rejects.toMatchObject({
      retryable: false,
      code: 'drain_unmanaged_pods',
      message: expect.stringContaining('default/loner'),
    });
    expect(await server.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'loner' })).not.toBeNull();

    const forced = await kube.drain('node-c', { timeoutSeconds: 20, force: true });
    expect(forced).toMatchObject({ drained: true, blockedBy: [] });
    expect(forced.evicted).toContain('default/loner');
    expect(await server.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'loner' })).toBeNull();
    await kube.uncordon('node-c');
  });

  it('is blocked by a PodDisruptionBudget, names pod and budget, and drains once the budget is relaxed', async () => {
    await server.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
      },
    });
    await server.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web-budget', namespace: 'default' },
      spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } },
    });
    const pods = await eventually(async () => {
      const now = await livePods(server, 'default', 'app=web');
      return now.length === 3 && now.every(isRunning) && now;
    }, 'three web pods running');
    await eventually(
      async () =>
        (await server.get({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'default', name: 'web-budget' }))?.status?.['expectedPods'] === 3,
      'the budget counts the pods',
    );
    await eventually(async () => (await kube.readDisruptionBudgets()).find((b) => b.name === 'web-budget')?.expectedPods === 3, 'budget status read');
    expect(await kube.readDisruptionBudgets()).toContainEqual({ namespace: 'default', name: 'web-budget', disruptionsAllowed: 0, expectedPods: 3 });
    const node = pods[0]!.spec!['nodeName'] as string;
    const onNode = pods.filter((p) => p.spec!['nodeName'] === node).map((p) => p.metadata.name);

    const blocked = await kube.drain(node, { timeoutSeconds: 2, force: false });
    expect(blocked.drained).toBe(false);
    expect(blocked.blockedBy).toEqual(expect.arrayContaining(onNode.map((pod) => ({ namespace: 'default', pod, podDisruptionBudget: 'web-budget' }))));
    expect(blocked.blockedBy).toHaveLength(onNode.length);
    // The node's daemon and mirror pods stay; the drain cordoned it first.
    expect(blocked.skipped.some((p) => p.startsWith('kube-system/cilium-'))).toBe(true);
    expect(blocked.skipped.some((p) => p.startsWith('kube-system/kube-proxy-'))).toBe(true);
    expect(await unschedulable(node)).toBe(true);

    await server.mergePatch({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'default', name: 'web-budget' }, { spec: { minAvailable: 2 } });
    const drained = await kube.drain(node, { timeoutSeconds: 60, force: false });
    expect(drained).toMatchObject({ drained: true, blockedBy: [], pending: [], terminating: [] });
    // Deployment pods of kube-system on that node (CoreDNS, metrics-server) are evicted as well.
    expect(drained.evicted.filter((p) => p.startsWith('default/')).sort()).toEqual(onNode.map((pod) => `default/${pod}`).sort());
    for (const pod of onNode) expect(await server.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: pod })).toBeNull();
    // The replacements run elsewhere: the node is cordoned.
    const replaced = await eventually(async () => {
      const now = await livePods(server, 'default', 'app=web');
      return now.length === 3 && now.every(isRunning) && now;
    }, 'web back to three pods');
    expect(replaced.every((p) => p.spec!['nodeName'] !== node)).toBe(true);
  });

  it('answers a node that does not exist with a final error', async () => {
    await expect(kube.cordon('no-such-node')).rejects.toMatchObject({ retryable: false, code: 'kube_notfound' });
  });

  it('reaches the cluster by its TLS server name: without it the request lands elsewhere on the shared listener', async () => {
    const { access } = await clusters.cluster(NAME, '1.31.4+rke2r1');
    const { tlsServerName: _, ...withoutName } = access;
    await expect(new TenantKube(withoutName, { requestTimeoutMs: 5_000 }).cordon('node-a')).rejects.toThrow('(HTTP 404)');
  });

  it('reports an unreachable API server as retryable', async () => {
    const unreachable = new TenantKube(
      { ...(await clusters.cluster(NAME, '1.31.4+rke2r1')).access, server: 'https://127.0.0.1:1' },
      { requestTimeoutMs: 5_000 },
    );
    await expect(unreachable.cordon('node-a')).rejects.toMatchObject({ retryable: true, code: 'kube_unavailable' });
  });
});
