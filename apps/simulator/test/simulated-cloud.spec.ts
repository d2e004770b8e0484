import { ProviderError } from '@capstan/providers';
import { clusterSpec, poolSpec, startTestSimulator, type TestSimulator } from './harness';

interface ObjectStat {
  kind: string;
  cluster: string;
  name: string;
  creates: number;
  deletes: number;
  losses: number;
}

describe('the simulated cloud, through SimulatedProvider', () => {
  let sim: TestSimulator;

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  afterAll(() => sim?.close());

  const creates = async (kind: string, cluster: string, name = cluster) => {
    const { body } = await sim.api<{ items: ObjectStat[] }>('GET', `/v1/stats/objects?kind=${kind}&cluster=${cluster}&name=${name}`);
    return body.items[0] ?? null;
  };

  const providerError = async (work: Promise<unknown>): Promise<ProviderError> => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  };

  describe('clusters', () => {
    it('creates a cluster once however often and however concurrently it is ensured', async () => {
      const first = await sim.provider.ensureCluster(clusterSpec('capstan-once'));
      await Promise.all(Array.from({ length: 5 }, () => sim.provider.ensureCluster(clusterSpec('capstan-once'))));
      const again = await sim.provider.ensureCluster(clusterSpec('capstan-once'));

      expect(first).toMatchObject({ name: 'capstan-once', status: 'running', version: '1.34.2' });
      expect(again).toEqual(first);
      expect(await creates('cluster', 'capstan-once')).toMatchObject({ creates: 1, deletes: 0 });
      const { body } = await sim.api<{ items: { count: number }[] }>('GET', '/v1/stats/calls?call=ensureCluster&cluster=capstan-once');
      expect(body.items[0]!.count).toBe(7);
    });

    it('gives a running cluster an HTTPS endpoint of its own on the shared listener and the CA', async () => {
      const cluster = await sim.provider.ensureCluster(clusterSpec('capstan-endpoint'));

      expect(cluster.endpoint).toBe(`${sim.simulator.kubeUrl}/clusters/capstan-endpoint`);
      expect(cluster.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/clusters\/capstan-endpoint$/);
      expect(cluster.caCertificate).toBe(sim.simulator.caCertificate);
    });

    it('answers null for an absent cluster, and deleting it twice succeeds', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-deleted'));

      await sim.provider.deleteCluster('capstan-deleted');
      await sim.provider.deleteCluster('capstan-deleted');

      expect(await sim.provider.getCluster('capstan-deleted')).toBeNull();
      expect(await sim.provider.getCluster('capstan-never')).toBeNull();
      expect(await creates('cluster', 'capstan-deleted')).toMatchObject({ creates: 1, deletes: 1 });
    });

    it('refuses a malformed spec as not retryable, with the reason', async () => {
      const error = await providerError(sim.provider.ensureCluster({ ...clusterSpec('capstan-bad'), version: 'latest' }));

      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/version: must be a version like 1\.35\.4/);
    });
  });

  describe('control-plane upgrades', () => {
    it('moves one minor version at a time and refuses skips and downgrades with a reason', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-upgrade', '1.33.5'));

      const skip = await providerError(sim.provider.upgradeControlPlane('capstan-upgrade', '1.35.0'));
      expect(skip).toMatchObject({ retryable: false, code: 'conflict' });
      expect(skip.message).toContain('one minor version at a time: 1.33.5 -> 1.35.0 skips 1.34');

      await sim.provider.upgradeControlPlane('capstan-upgrade', '1.34.1');
      await sim.provider.upgradeControlPlane('capstan-upgrade', '1.34.1'); // repeated: a no-op
      expect(await sim.provider.getCluster('capstan-upgrade')).toMatchObject({ status: 'running', version: '1.34.1' });

      const downgrade = await providerError(sim.provider.upgradeControlPlane('capstan-upgrade', '1.33.5'));
      expect(downgrade.message).toContain('downgrades are not supported (1.34.1 -> 1.33.5)');
    });

    it('refuses to leave nodes more than three minor versions behind', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-skew', '1.33.0'));
      await sim.provider.ensureNodePool('capstan-skew', poolSpec('pool-old', { version: '1.30.4', count: 1 }));

      const error = await providerError(sim.provider.upgradeControlPlane('capstan-skew', '1.34.0'));
      expect(error.message).toMatch(/would break node pool-old-\w{5}: .*more than 3 minor versions behind/);
    });
  });

  describe('node pools and nodes', () => {
    beforeAll(() => sim.provider.ensureCluster(clusterSpec('capstan-pools')));

    it('creates a pool once, with nodes named from the pool', async () => {
      const pool = await sim.provider.ensureNodePool('capstan-pools', poolSpec('pool-a', { count: 3 }));
      const again = await sim.provider.ensureNodePool('capstan-pools', poolSpec('pool-a', { count: 3 }));

      expect(pool).toMatchObject({ name: 'pool-a', status: 'running', count: 3, version: '1.34.2' });
      expect(pool.nodes.map((n) => n.name)).toEqual([expect.stringMatching(/^pool-a-[a-z0-9]{5}$/), expect.any(String), expect.any(String)]);
      expect(pool.nodes.every((n) => n.ready && !n.unschedulable && n.version === '1.34.2')).toBe(true);
      expect(again).toEqual(pool);
      expect(await creates('nodePool', 'capstan-pools', 'pool-a')).toMatchObject({ creates: 1 });
    });

    it('scales a pool up and down, newest nodes leaving first', async () => {
      const before = await sim.provider.ensureNodePool('capstan-pools', poolSpec('pool-scale', { count: 2 }));

      const up = await sim.provider.updateNodePool('capstan-pools', poolSpec('pool-scale', { count: 4 }));
      expect(up.nodes).toHaveLength(4);
      expect(up.nodes.slice(0, 2)).toEqual(before.nodes);

      const down = await sim.provider.updateNodePool('capstan-pools', poolSpec('pool-scale', { count: 1 }));
      expect(down).toMatchObject({ count: 1, status: 'running' });
      expect(down.nodes).toEqual([before.nodes[0]]);
    });

    it('refuses a pool newer than the control plane', async () => {
      const error = await providerError(sim.provider.ensureNodePool('capstan-pools', poolSpec('pool-new', { version: '1.35.0' })));
      expect(error.message).toContain('nodes cannot be newer than the control plane (1.35.0 > 1.34.2)');
    });

    it('answers null for an absent pool and deletes one idempotently', async () => {
      await sim.provider.ensureNodePool('capstan-pools', poolSpec('pool-gone', { count: 1 }));

      await sim.provider.deleteNodePool('capstan-pools', 'pool-gone');
      await sim.provider.deleteNodePool('capstan-pools', 'pool-gone');

      expect(await sim.provider.getNodePool('capstan-pools', 'pool-gone')).toBeNull();
      expect(await sim.provider.getNodePool('capstan-nowhere', 'pool-gone')).toBeNull();
    });

    it('upgrades a node after its control plane, never past it', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-node-upgrade', '1.34.2'));
      const pool = await sim.provider.ensureNodePool('capstan-node-upgrade', poolSpec('pool-u', { count: 2 }));
      const [first, second] = pool.nodes.map((n) => n.name) as [string, string];

      const early = await providerError(sim.provider.upgradeNode('capstan-node-upgrade', first, '1.35.1'));
      expect(early.message).toContain('nodes cannot be newer than the control plane');

      await sim.provider.upgradeControlPlane('capstan-node-upgrade', '1.35.1');
      await sim.provider.upgradeNode('capstan-node-upgrade', first, '1.35.1');
      const halfway = (await sim.provider.getNodePool('capstan-node-upgrade', 'pool-u'))!;
      expect(halfway.version).toBe('1.34.2'); // the oldest node's
      expect(halfway.nodes.find((n) => n.name === first)).toMatchObject({ version: '1.35.1', ready: true });

      await sim.provider.upgradeNode('capstan-node-upgrade', second, '1.35.1');
      expect((await sim.provider.getNodePool('capstan-node-upgrade', 'pool-u'))!.version).toBe('1.35.1');

      const down = await providerError(sim.provider.upgradeNode('capstan-node-upgrade', second, '1.34.2'));
      expect(down.message).toContain('node downgrades are not supported');
    });

    it('cordons, drains and uncordons; a PodDisruptionBudget blocks the drain until it is lifted or forced', async () => {
      const pool = await sim.provider.ensureNodePool('capstan-pools', poolSpec('pool-drain', { count: 2 }));
      const [node, other] = pool.nodes.map((n) => n.name) as [string, string];
      const budget = await sim.api('PUT', '/v1/clusters/capstan-pools/pod-disruption-budgets/shop/checkout', {
        pods: [
          { name: 'checkout-0', node },
          { name: 'checkout-1', node: other },
        ],
      });
      expect(budget.status).toBe(200);

      await sim.provider.cordonNode('capstan-pools', node);
      expect((await sim.provider.getNodePool('capstan-pools', 'pool-drain'))!.nodes[0]!.unschedulable).toBe(true);

      const blocked = await sim.provider.drainNode('capstan-pools', node, { timeoutSeconds: 60, force: false });
      expect(blocked).toEqual({ drained: false, blockedBy: [{ namespace: 'shop', pod: 'checkout-0', podDisruptionBudget: 'checkout' }] });

      expect(await sim.provider.drainNode('capstan-pools', other, { timeoutSeconds: 60, force: true })).toEqual({ drained: true, blockedBy: [] });

      await sim.api('DELETE', '/v1/clusters/capstan-pools/pod-disruption-budgets/shop/checkout');
      expect(await sim.provider.drainNode('capstan-pools', node, { timeoutSeconds: 60, force: false })).toEqual({ drained: true, blockedBy: [] });

      await sim.provider.uncordonNode('capstan-pools', node);
      const after = (await sim.provider.getNodePool('capstan-pools', 'pool-drain'))!;
      expect(after.nodes.map((n) => n.unschedulable)).toEqual([false, true]);
    });

    it('answers 404 as not retryable for a node that does not exist', async () => {
      const error = await providerError(sim.provider.cordonNode('capstan-pools', 'pool-a-zzzzz'));
      expect(error).toMatchObject({ retryable: false, code: 'not_found' });
    });
  });

  describe('add-ons, objects, snapshots', () => {
    beforeAll(() => sim.provider.ensureCluster(clusterSpec('capstan-data')));

    it('installs and upgrades add-ons', async () => {
      await sim.provider.installAddons('capstan-data', [
        { name: 'cert-manager', version: '1.16.1' },
        { name: 'ingress-nginx', version: '4.11.3' },
      ]);
      await sim.provider.installAddons('capstan-data', [{ name: 'cert-manager', version: '1.17.0' }]);

      expect(await sim.provider.listAddons('capstan-data')).toEqual([
        { name: 'cert-manager', version: '1.17.0' },
        { name: 'ingress-nginx', version: '4.11.3' },
      ]);
      expect(await creates('addon', 'capstan-data', 'cert-manager')).toMatchObject({ creates: 1 });
    });

    it('lists built-in and seeded objects, e.g. a removed Ingress API for an upgrade preflight', async () => {
      const seeded = await sim.api('POST', '/v1/clusters/capstan-data/objects', {
        objects: [{ apiVersion: 'extensions/v1beta1', kind: 'Ingress', namespace: 'shop', name: 'storefront' }],
      });
      expect(seeded.status).toBe(200);

      const objects = await sim.provider.listObjects('capstan-data');
      expect(objects).toContainEqual({ apiVersion: 'extensions/v1beta1', kind: 'Ingress', namespace: 'shop', name: 'storefront' });
      expect(objects).toContainEqual({ apiVersion: 'v1', kind: 'Namespace', namespace: null, name: 'kube-system' });
    });

    it('takes a snapshot once per name and restores what it held', async () => {
      const snapshot = await sim.provider.snapshot('capstan-data', 'snap-1');
      const again = await sim.provider.snapshot('capstan-data', 'snap-1');
      expect(snapshot).toMatchObject({ name: 'snap-1', version: '1.34.2' });
      expect(snapshot.sizeBytes).toBeGreaterThan(4 * 1024 * 1024);
      expect(snapshot.createdAt).toBeInstanceOf(Date);
      expect(again).toEqual(snapshot);
      expect(await creates('snapshot', 'capstan-data', 'snap-1')).toMatchObject({ creates: 1 });

      await sim.provider.installAddons('capstan-data', [{ name: 'velero', version: '1.15.0' }]);
      await sim.api('PUT', '/v1/clusters/capstan-data/objects', { objects: [] });
      await sim.provider.restore('capstan-data', 'snap-1');

      expect((await sim.provider.listAddons('capstan-data')).map((a) => a.name)).not.toContain('velero');
      expect(await sim.provider.listObjects('capstan-data')).toContainEqual(expect.objectContaining({ kind: 'Ingress', name: 'storefront' }));
    });

    it('refuses to restore a snapshot that does not exist', async () => {
      const error = await providerError(sim.provider.restore('capstan-data', 'snap-none'));
      expect(error).toMatchObject({ retryable: false, code: 'not_found' });
    });
  });

  describe('credentials', () => {
    it('issues a short-lived token for the cluster API server', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-creds'));
      const credentials = await sim.provider.issueCredentials('capstan-creds', 600);

      expect(credentials.server).toBe(sim.simulator.kubeUrl);
      expect(credentials.tlsServerName).toBe('capstan-creds.clusters.simulator.capstan.test');
      expect(credentials.caCertificate).toBe(sim.simulator.caCertificate);
      expect(credentials.token).toMatch(/^sim_[\w-]{43}$/);
      expect(credentials.expiresAt.getTime() - Date.now()).toBeGreaterThan(590_000);
      expect(credentials.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(600_000);
    });
  });

  describe('fault injection', () => {
    afterEach(() => sim.api('DELETE', '/v1/chaos/faults'));

    it('fails the next call of a kind once, retryable, then lets it through', async () => {
      const { body: fault } = await sim.api<{ id: string }>('POST', '/v1/chaos/faults', { match: { call: 'ensureCluster' }, mode: 'fail_once' });

      const error = await providerError(sim.provider.ensureCluster(clusterSpec('capstan-fault-once')));
      expect(error).toMatchObject({ retryable: true, code: 'injected_fault' });
      expect(error.message).toContain(`injected fault ${fault.id}: ensureCluster failed`);
      expect(await sim.provider.getCluster('capstan-fault-once')).toBeNull();

      await sim.provider.ensureCluster(clusterSpec('capstan-fault-once'));
      const { body } = await sim.api<{ items: { hits: number; remaining: number }[] }>('GET', '/v1/chaos/faults');
      expect(body.items).toEqual([expect.objectContaining({ hits: 1, remaining: 0 })]);
    });

    it('fires a fail_once fault exactly once under concurrent calls', async () => {
      await sim.api('POST', '/v1/chaos/faults', { match: { call: 'getCluster' }, mode: 'fail_once' });

      const results = await Promise.allSettled(Array.from({ length: 10 }, () => sim.provider.getCluster('capstan-once')));
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    });

    it('fails every call of a kind, not retryable when asked, only for the matching cluster, until cleared', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-fault-always'));
      await sim.provider.ensureCluster(clusterSpec('capstan-fault-other'));
      await sim.api('POST', '/v1/chaos/faults', {
        match: { call: 'issueCredentials', cluster: 'capstan-fault-always' },
        mode: 'fail_always',
        retryable: false,
      });

      for (let i = 0; i < 3; i += 1) {
        const error = await providerError(sim.provider.issueCredentials('capstan-fault-always', 60));
        expect(error.retryable).toBe(false);
      }
      await expect(sim.provider.issueCredentials('capstan-fault-other', 60)).resolves.toBeDefined();

      await sim.api('DELETE', '/v1/chaos/faults');
      await expect(sim.provider.issueCredentials('capstan-fault-always', 60)).resolves.toBeDefined();
    });

    it('loses the answer after the change took effect, and the retry finds what the first call made', async () => {
      await sim.api('POST', '/v1/chaos/faults', { match: { call: 'ensureCluster', cluster: 'capstan-lost-answer' }, mode: 'fail_once', at: 'response' });

      const error = await providerError(sim.provider.ensureCluster(clusterSpec('capstan-lost-answer')));
      expect(error.retryable).toBe(true);
      const retried = await sim.provider.ensureCluster(clusterSpec('capstan-lost-answer'));

      expect(retried.status).toBe('running');
      expect(await creates('cluster', 'capstan-lost-answer')).toMatchObject({ creates: 1 });
    });

    it('loses the answer of a call that answers without a body too (204), after it took effect', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-no-content'));
      await sim.api('POST', '/v1/chaos/faults', { match: { call: 'installAddons', cluster: 'capstan-no-content' }, mode: 'fail_once', at: 'response' });

      const error = await providerError(sim.provider.installAddons('capstan-no-content', [{ name: 'cilium', version: '1.18.2' }]));
      expect(error.retryable).toBe(true);
      // It took effect before the answer was lost.
      expect(await sim.provider.listAddons('capstan-no-content')).toEqual([{ name: 'cilium', version: '1.18.2' }]);
    });

    it('slows calls down, and a client that gives up first sees a retryable timeout', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-slow'));
      await sim.api('POST', '/v1/chaos/faults', { match: { call: 'getCluster', cluster: 'capstan-slow' }, mode: 'slow', delayMs: 400 });

      const started = Date.now();
      await sim.provider.getCluster('capstan-slow');
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);

      const { SimulatedProvider } = await import('@capstan/providers');
      const impatient = new SimulatedProvider({ apiUrl: sim.simulator.apiUrl, timeoutMs: 100 });
      const error = await providerError(impatient.getCluster('capstan-slow'));
      expect(error).toMatchObject({ retryable: true, code: 'timeout' });
    });

    it('refuses a fault for a call that does not exist', async () => {
      const response = await sim.api<{ message: string }>('POST', '/v1/chaos/faults', { match: { call: 'launchRocket' }, mode: 'fail_once' });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/^match\.call:/);
    });
  });

  describe('chaos', () => {
    it('loses a cluster behind the owner’s back; ensuring it again creates a new one', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-lost'));

      expect((await sim.api('POST', '/v1/chaos/clusters/capstan-lost/lose')).status).toBe(204);
      expect(await sim.provider.getCluster('capstan-lost')).toBeNull();

      await sim.provider.ensureCluster(clusterSpec('capstan-lost'));
      expect(await creates('cluster', 'capstan-lost')).toMatchObject({ creates: 2, losses: 1, deletes: 0 });
    });

    it('takes an API server down: work through it fails as retryable until it is back', async () => {
      await sim.provider.ensureCluster(clusterSpec('capstan-down'));
      await sim.api('POST', '/v1/chaos/clusters/capstan-down/api-server/down');

      const error = await providerError(sim.provider.listObjects('capstan-down'));
      expect(error).toMatchObject({ retryable: true, code: 'unavailable' });
      expect(error.message).toContain('the API server of cluster capstan-down is not available');

      await sim.api('POST', '/v1/chaos/clusters/capstan-down/api-server/up');
      await expect(sim.provider.listObjects('capstan-down')).resolves.toBeDefined();
    });
  });

  describe('stats', () => {
    it('sums calls, creations and live objects', async () => {
      const { body } = await sim.api<{ calls: Record<string, number>; creates: Record<string, number>; live: Record<string, number> }>('GET', '/v1/stats');

      expect(body.calls.ensureCluster).toBeGreaterThan(10);
      expect(body.creates.cluster).toBeGreaterThan(10);
      expect(body.live.clusters).toBeGreaterThan(10);
      expect(body.live.nodes).toBeGreaterThan(0);
    });
  });

  it('takes a bodiless request sent with a JSON content type as an empty body, and refuses broken JSON', async () => {
    const empty = await fetch(`${sim.simulator.apiUrl}/v1/chaos/faults`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(204);

    const broken = await fetch(`${sim.simulator.apiUrl}/v1/clusters/capstan-json`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ code: 'invalid_request', message: 'the body is not valid JSON' });
  });

  it('reports an unreachable simulator as retryable', async () => {
    const { SimulatedProvider } = await import('@capstan/providers');
    const nowhere = new SimulatedProvider({ apiUrl: 'http://127.0.0.1:1' });

    const error = await providerError(nowhere.getCluster('capstan-any'));
    expect(error).toMatchObject({ retryable: true, code: 'unavailable' });
    expect(error.message).toContain('simulated cloud unreachable: GET /v1/clusters/capstan-any');
  });
});
