import { evictionSubresource } from '../src/kube/controllers/workload/eviction';
import { tokenRequestSubresource } from '../src/kube/controllers/workload/service-account-tokens';
import { deleteNode, setNodeReady } from '../src/kube/controllers/workload';
import type { SubresourceRegistration } from '../src/kube/subresources';
import { type ApiServerClient, type ApiServerInfo, KubeApiError, type KubeObject } from '../src/kube/types';
import { startTestSimulator, type TestSimulator } from './harness';
import { addNodes, deployment, eventually, isRunningReady, podsOf } from './workload-support';

/**
 * The workload controllers against the real store, run by the simulator's controller runner:
 * every expectation waits for the emulated cluster to converge, as a client of a real one would.
 */
describe('an emulated workload cluster', () => {
  let sim: TestSimulator;
  let serial = 0;

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });

  async function cluster(distribution: 'rke2' | 'gke' = 'rke2', nodes = ['n1', 'n2', 'n3']): Promise<{ server: ApiServerClient; info: ApiServerInfo }> {
    const name = `capstan-wl${++serial}`;
    const info = await sim.simulator.kube.ensureApiServer({
      name,
      role: 'workload',
      distribution,
      version: distribution === 'gke' ? '1.36.2-gke.1100' : '1.36.4+rke2r1',
    });
    const server = sim.simulator.kube.server(name);
    await addNodes(server, nodes, distribution === 'gke' ? 'v1.36.2-gke.1100' : 'v1.36.4+rke2r1');
    return { server, info };
  }

  const call = (registration: SubresourceRegistration, server: ApiServerClient, info: ApiServerInfo, name: string, body: unknown, namespace = 'default') =>
    registration.handle({ verb: 'create', server, info, emulator: sim.simulator.kube, namespace, name, body, query: new URLSearchParams() });

  it('starts with the system namespaces and the distribution’s kube-system workloads, running on the Ready nodes', async () => {
    const { server } = await cluster('rke2');
    const namespaces = (await server.list('v1', 'Namespace')).map((ns) => ns.metadata.name);
    expect(namespaces).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
    await eventually(
      async () =>
        (await server.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'rke2-coredns-rke2-coredns' }))?.status?.[
          'availableReplicas'
        ] === 2,
      'coredns available',
    );
    const cilium = await eventually(async () => {
      const ds = await server.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' });
      return ds?.status?.['numberReady'] === 3 && ds;
    }, 'cilium on every node');
    expect(cilium.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberMisscheduled: 0, updatedNumberScheduled: 3 });
    const ciliumPods = await podsOf(server, 'kube-system', 'k8s-app=cilium');
    expect(new Set(ciliumPods.map((p) => p.spec?.['nodeName']))).toEqual(new Set(['n1', 'n2', 'n3']));
    expect(await server.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', name: 'default' })).not.toBeNull();
  });

  it('gives GKE clusters GKE’s system workloads', async () => {
    const { server } = await cluster('gke', ['g1']);
    await eventually(
      async () =>
        (await server.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'kube-dns' }))?.status?.['availableReplicas'] === 2,
      'kube-dns available',
    );
    expect(await server.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' })).toBeNull();
  });

  it('rolls a Deployment’s template change out through a new ReplicaSet and reports it complete', async () => {
    const { server } = await cluster();
    await server.create(deployment('web', 3, 'nginx:1.27'));
    await eventually(
      async () => (await server.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' }))?.status?.['availableReplicas'] === 3,
      'first rollout',
    );
    const first = (await podsOf(server, 'default', 'app=web')).map((p) => p.metadata.labels?.['pod-template-hash']);
    expect(new Set(first).size).toBe(1);

    await server.mergePatch(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' },
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } } },
    );
    const done = await eventually(async () => {
      const d = await server.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' });
      const progressing = (d?.status?.['conditions'] as { type: string; reason: string }[] | undefined)?.find((c) => c.type === 'Progressing');
      return (
        d?.status?.['observedGeneration'] === d?.metadata.generation &&
        d?.status?.['updatedReplicas'] === 3 &&
        d.status['replicas'] === 3 &&
        d.status['availableReplicas'] === 3 &&
        progressing?.reason === 'NewReplicaSetAvailable' &&
        d
      );
    }, 'second rollout complete');
    expect(done.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(done.status?.['observedGeneration']).toBe(done.metadata.generation);
    const sets = await server.list('apps/v1', 'ReplicaSet', { namespace: 'default', labelSelector: 'app=web' });
    expect(sets.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.['replicas']]).sort()).toEqual([
      ['1', 0],
      ['2', 3],
    ]);
    const pods = await eventually(async () => {
      const now = await podsOf(server, 'default', 'app=web');
      return now.length === 3 && now.every((p) => p.metadata.labels?.['pod-template-hash'] !== first[0] && isRunningReady(p)) && now;
    }, 'only new pods');
    expect(pods.every((p) => (p.spec?.['containers'] as { image: string }[])[0]!.image === 'nginx:1.28')).toBe(true);
  });

  it('keeps a pod Pending with the scheduler’s reason until a node fits', async () => {
    const { server } = await cluster();
    await server.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'picky', namespace: 'default' },
      spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'busybox' }] },
    });
    const pending = await eventually(async () => {
      const pod = await server.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'picky' });
      return (pod?.status?.['conditions'] as { reason?: string; message?: string }[] | undefined)?.find((c) => c.reason === 'Unschedulable');
    }, 'unschedulable condition');
    expect(pending.message).toContain("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
    await server.mergePatch({ apiVersion: 'v1', kind: 'Node', name: 'n2' }, { metadata: { labels: { disk: 'ssd' } } });
    const running = await eventually(async () => {
      const pod = await server.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'picky' });
      return pod && isRunningReady(pod) && pod;
    }, 'picky running');
    expect(running.spec?.['nodeName']).toBe('n2');
    expect(running.status?.['podIP']).toMatch(/^10\.42\.\d+\.\d+$/);
  });

  it('replaces the pods of a deleted node and of a NotReady node elsewhere; daemon pods stay on the NotReady node', async () => {
    const { server } = await cluster('rke2', ['a1', 'a2', 'a3', 'a4']);
    await server.create(deployment('api', 4));
    await eventually(async () => (await podsOf(server, 'default', 'app=api')).filter(isRunningReady).length === 4, 'api running');

    await deleteNode(server, 'a1');
    await eventually(async () => {
      const pods = await podsOf(server, 'default', 'app=api');
      return pods.length === 4 && pods.every((p) => isRunningReady(p) && p.spec?.['nodeName'] !== 'a1');
    }, 'api off the deleted node');
    await eventually(async () => (await server.list('v1', 'Pod', { fieldSelector: 'spec.nodeName=a1' })).length === 0, 'no pod left on a1');

    await setNodeReady(server, 'a2', false);
    await eventually(async () => {
      const pods = await podsOf(server, 'default', 'app=api');
      return pods.length === 4 && pods.every((p) => isRunningReady(p) && !['a1', 'a2'].includes(p.spec?.['nodeName'] as string));
    }, 'api off the NotReady node');
    const daemons = await server.list('v1', 'Pod', { namespace: 'kube-system', labelSelector: 'k8s-app=cilium', fieldSelector: 'spec.nodeName=a2' });
    expect(daemons).toHaveLength(1);
  });

  it('keeps a budget’s status and lets evictions spend exactly the disruptions it allows', async () => {
    const { server, info } = await cluster();
    await server.create(deployment('db', 3));
    await server.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'db', namespace: 'default' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'db' } } },
    });
    const budget = await eventually(async () => {
      const pdb = await server.get({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'default', name: 'db' });
      return pdb?.status?.['currentHealthy'] === 3 && pdb;
    }, 'budget observed');
    expect(budget.status).toMatchObject({ desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3, observedGeneration: 1 });
    expect((budget.status?.['conditions'] as { type: string; status: string; reason: string }[])[0]).toMatchObject({
      type: 'DisruptionAllowed',
      status: 'True',
      reason: 'SufficientPods',
    });

    const [first, second] = await podsOf(server, 'default', 'app=db');
    const eviction = (pod: KubeObject) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: 'default' } });
    expect(await call(evictionSubresource, server, info, first!.metadata.name, eviction(first!))).toMatchObject({ status: 201, body: { status: 'Success' } });
    const refused = await call(evictionSubresource, server, info, second!.metadata.name, eviction(second!)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect(refused).toMatchObject({
      code: 429,
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [{ reason: 'DisruptionBudget', message: expect.stringMatching(/^The disruption budget db needs 2 healthy pods and has [0-9] currently$/) }],
      },
    });
    expect(await server.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: second!.metadata.name })).not.toBeNull();
    // The replacement brings the budget back to one allowed disruption.
    await eventually(
      async () =>
        (await server.get({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'default', name: 'db' }))?.status?.['disruptionsAllowed'] === 1,
      'budget recovered',
    );
  });

  it('answers evictions of unknown pods and malformed bodies like kube-apiserver', async () => {
    const { server, info } = await cluster('rke2', ['e1']);
    await expect(
      call(evictionSubresource, server, info, 'ghost', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'ghost' } }),
    ).rejects.toMatchObject({ code: 404, message: 'pods "ghost" not found' });
    await expect(
      call(evictionSubresource, server, info, 'ghost', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } }),
    ).rejects.toMatchObject({ code: 400 });
    await expect(call(evictionSubresource, server, info, 'ghost', 'not an object')).rejects.toMatchObject({ code: 400 });
  });

  it('issues ServiceAccount tokens within kube-apiserver’s bounds and revokes them with the account', async () => {
    const { server, info } = await cluster('rke2', ['t1']);
    await expect(call(tokenRequestSubresource, server, info, 'robot', { spec: {} })).rejects.toMatchObject({
      code: 404,
      message: 'serviceaccounts "robot" not found',
    });
    await server.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
    await expect(call(tokenRequestSubresource, server, info, 'robot', { spec: { expirationSeconds: 60 } })).rejects.toMatchObject({
      code: 422,
      message:
        'TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    });
    const issued = await call(tokenRequestSubresource, server, info, 'robot', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    const body = issued.body as { status: { token: string; expirationTimestamp: string }; spec: { audiences: string[] } };
    expect(issued.status).toBe(201);
    expect(Date.parse(body.status.expirationTimestamp) - Date.now()).toBeGreaterThan(3500_000);
    expect(body.spec.audiences).toContain('https://kubernetes.default.svc.cluster.local');

    const servername = `${info.name}.${sim.simulator.kube.kubeDomain}`;
    expect((await sim.kube(sim.simulator.kubeUrl, '/api/v1/namespaces', body.status.token, servername)).status).toBe(200);
    expect((await sim.kube(sim.simulator.kubeUrl, '/api/v1/namespaces', body.status.token, `management.${sim.simulator.kube.kubeDomain}`)).status).toBe(401);
    await server.delete({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', name: 'robot' });
    await eventually(async () => (await sim.kube(sim.simulator.kubeUrl, '/api/v1/namespaces', body.status.token, servername)).status === 401, 'token revoked');
  });
});
