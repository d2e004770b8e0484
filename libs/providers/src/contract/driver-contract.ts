import { newId } from '@capstan/platform';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type ExternalClusterSpec, type ExternalNodePoolSpec, externalClusterName, externalNodePoolName, ProviderError } from '../cluster-provider';
import type { ClusterAccess, InfrastructureDriver, ProviderOperation } from '../infrastructure-driver';

/**
 * The provider contract: what every InfrastructureDriver must do, run against each driver on its
 * emulator (RKE2 on the emulated management cluster, GKE on the emulated Container API). One
 * cluster goes through its life in order: create, a node pool, scale, admin access, one minor
 * upgrade of control plane then pool, the failure paths, delete. Every call is also made again as
 * a restarted worker would (a new driver instance, after an error or a lost answer) and must then
 * find what the first attempt made, never make it twice.
 *
 * Import it from a driver's spec file: `describeDriverContract('rke2', setUp, tearDown)`.
 */

/** The calls that change something at the provider. */
export type DriverWrite =
  'ensureCluster' | 'deleteCluster' | 'ensureNodePool' | 'updateNodePool' | 'deleteNodePool' | 'upgradeControlPlane' | 'upgradeNodePool';

/** The emulator's fault hooks, in the contract's words; each harness maps them onto its emulator. */
export interface DriverContractFaults {
  /** The provider refuses the next write `call` makes for `cluster` before it takes effect: retryable (503) or final (4xx). */
  failNextWrite(call: DriverWrite, cluster: string, options: { retryable: boolean }): Promise<void>;
  /** The next write `call` makes for `cluster` takes effect, but its answer never reaches the driver. */
  loseNextResponse(call: DriverWrite, cluster: string): Promise<void>;
  /** From now on the provider fails to bring up new nodes of `cluster` (a failed bootstrap). */
  failNewNodes(cluster: string): Promise<void>;
  /** Removes every fault. */
  clear(): Promise<void>;
}

export interface DriverContractHarness {
  /** A driver as a freshly started worker builds it: nothing may carry over in memory from another instance. */
  driver(): InfrastructureDriver;
  faults: DriverContractFaults;
  /** What the driver asked the provider for, for a cluster, one entry per object, sorted: to show nothing is made twice. */
  inventory(cluster: string): Promise<string[]>;
  /** Everything the provider still holds for a cluster, including what it made by itself (machines, nodes, its API server). */
  leftovers(cluster: string): Promise<string[]>;
  /** A version to create at and the next minor's, both offered by the provider. */
  versions: { initial: string; next: string };
  region: string;
  machineType: string;
  /** The longest a provider-side transition may take on this emulator (a create, a rollout). */
  transitionTimeoutMs: number;
  close(): Promise<void>;
}

export function describeDriverContract(provider: 'rke2' | 'gke', start: () => Promise<DriverContractHarness>): void {
  describe(`${provider} driver contract`, () => {
    let h: DriverContractHarness;
    const cluster = externalClusterName(newId('cl'));
    const pool = externalNodePoolName(newId('np'));
    const secondPool = externalNodePoolName(newId('np'));
    const timeout = () => h.transitionTimeoutMs;

    const clusterSpec = (): ExternalClusterSpec => ({
      name: cluster,
      flavour: provider,
      region: h.region,
      version: h.versions.initial,
      labels: { team: 'contract' },
      organizationId: 'org_contract',
    });
    const poolSpec = (name: string, overrides: Partial<ExternalNodePoolSpec> = {}): ExternalNodePoolSpec => ({
      name,
      machineType: h.machineType,
      count: 2,
      autoscaling: null,
      version: h.versions.initial,
      labels: { workload: 'contract' },
      taints: [],
      maxSurge: 1,
      maxUnavailable: 0,
      ...overrides,
    });
    const readyPool = (name: string, count: number, version: string) =>
      eventually(`node pool ${name} to run ${count} ready nodes at ${version}`, timeout(), async () => {
        const current = await h.driver().getNodePool(cluster, name);
        if (current?.status === 'error') throw new Error(`node pool ${name} went to error`);
        const ready = current?.status === 'running' && current.nodes.length === count && current.nodes.every((n) => n.ready && n.version === version);
        return ready ? current : undefined;
      });
    const followed = (operation: ProviderOperation) =>
      eventually(`${operation.target} to reach ${operation.version}`, timeout(), async () => {
        // Checkpointed and read back by a restarted worker: the handle must survive JSON.
        const status = await h.driver().getOperation(JSON.parse(JSON.stringify(operation)) as ProviderOperation);
        return status.done ? status : undefined;
      });

    beforeAll(async () => {
      h = await start();
    }, 120_000);
    afterAll(() => h?.close(), 60_000);
    afterEach(() => h?.faults.clear());

    it('creates a cluster exactly once, whether the first attempt was refused or lost its answer', async () => {
      await h.faults.failNextWrite('ensureCluster', cluster, { retryable: true });
      await expectProviderError(h.driver().ensureCluster(clusterSpec()), { retryable: true });
      await h.faults.loseNextResponse('ensureCluster', cluster);
      await expectProviderError(h.driver().ensureCluster(clusterSpec()), { retryable: true });

      const created = await h.driver().ensureCluster(clusterSpec());
      expect(created.name).toBe(cluster);
      const made = await h.inventory(cluster);
      expect(made.length).toBeGreaterThan(0);
      expect(new Set(made).size).toBe(made.length);
      expect((await h.driver().ensureCluster(clusterSpec())).name).toBe(cluster);
      expect(await h.inventory(cluster)).toEqual(made);
    }, 120_000);

    it('brings the cluster up at the requested version, with an endpoint and its CA', async () => {
      const running = await eventually('the cluster to run', timeout(), async () => {
        const current = await h.driver().getCluster(cluster);
        if (current?.status === 'error') throw new Error('the cluster went to error');
        return current?.status === 'running' ? current : undefined;
      });
      expect(running).toMatchObject({ name: cluster, version: h.versions.initial });
      expect(running.endpoint).toMatch(/^https:\/\//);
      expect(running.caCertificate).toContain('BEGIN CERTIFICATE');
    }, 180_000);

    it('creates a node pool exactly once after a lost answer, and its nodes become ready at the version', async () => {
      await h.faults.loseNextResponse('ensureNodePool', cluster);
      await expectProviderError(h.driver().ensureNodePool(cluster, poolSpec(pool)), { retryable: true });
      const made = await h.driver().ensureNodePool(cluster, poolSpec(pool));
      expect(made).toMatchObject({ name: pool, count: 2, version: h.versions.initial });
      const ready = await readyPool(pool, 2, h.versions.initial);
      expect(new Set(ready.nodes.map((n) => n.name)).size).toBe(2);

      const before = await h.inventory(cluster);
      await h.driver().ensureNodePool(cluster, poolSpec(pool));
      expect(await h.inventory(cluster)).toEqual(before);
    }, 180_000);

    it("gives Capstan admin access that works against the cluster's API server", async () => {
      const access = await h.driver().adminAccess(cluster);
      const nodes = (await coreApi(access).listNode()).items.map((n) => n.metadata?.name);
      const poolNodes = (await h.driver().getNodePool(cluster, pool))!.nodes.map((n) => n.name);
      expect(nodes).toEqual(expect.arrayContaining(poolNodes));
      await expect(coreApi({ ...access, token: 'not-a-token' }).listNode()).rejects.toMatchObject({ code: 401 });
    }, 60_000);

    it('scales a node pool by its count, and a repeated call changes nothing more', async () => {
      await h.driver().updateNodePool(cluster, poolSpec(pool, { count: 3 }));
      await readyPool(pool, 3, h.versions.initial);
      const before = await h.inventory(cluster);
      const again = await h.driver().updateNodePool(cluster, poolSpec(pool, { count: 3 }));
      expect(again.count).toBe(3);
      expect(await h.inventory(cluster)).toEqual(before);
    }, 180_000);

    it('refuses, for good, a change the provider rejects and leaves the pool as it was; retries one it could not take', async () => {
      await h.faults.failNextWrite('updateNodePool', cluster, { retryable: false });
      await expectProviderError(h.driver().updateNodePool(cluster, poolSpec(pool, { count: 1 })), { retryable: false });
      expect((await h.driver().getNodePool(cluster, pool))?.count).toBe(3);
      await h.faults.failNextWrite('updateNodePool', cluster, { retryable: true });
      await expectProviderError(h.driver().updateNodePool(cluster, poolSpec(pool, { count: 2 })), { retryable: true });
      expect((await h.driver().getNodePool(cluster, pool))?.count).toBe(3);
    }, 60_000);

    it('refuses, for good, a node pool version newer than its control plane', async () => {
      await expectProviderError(h.driver().upgradeNodePool(cluster, pool, h.versions.next), { retryable: false });
    }, 60_000);

    it('upgrades the control plane one minor, followed to the end by a restarted worker', async () => {
      await h.faults.loseNextResponse('upgradeControlPlane', cluster);
      await expectProviderError(h.driver().upgradeControlPlane(cluster, h.versions.next), { retryable: true });
      const operation = await h.driver().upgradeControlPlane(cluster, h.versions.next);
      expect(operation).toMatchObject({ provider, version: h.versions.next });
      const status = await followed(operation);
      expect(status.error).toBeUndefined();
      expect((await h.driver().getCluster(cluster))?.version).toBe(h.versions.next);
      // Asked again once done (a worker that crashed after the rollout): nothing more happens.
      expect((await h.driver().getOperation(await h.driver().upgradeControlPlane(cluster, h.versions.next))).done).toBe(true);
    }, 300_000);

    it("upgrades the node pool to the control plane's version", async () => {
      await h.faults.loseNextResponse('upgradeNodePool', cluster);
      await expectProviderError(h.driver().upgradeNodePool(cluster, pool, h.versions.next), { retryable: true });
      const operation = await h.driver().upgradeNodePool(cluster, pool, h.versions.next);
      // Asked again mid-rollout (a worker that crashed before checkpointing): the same change, not a second one.
      const before = await h.inventory(cluster);
      expect(await h.driver().upgradeNodePool(cluster, pool, h.versions.next)).toEqual(operation);
      expect(await h.inventory(cluster)).toEqual(before);
      const status = await followed(operation);
      expect(status.error).toBeUndefined();
      const upgraded = await readyPool(pool, 3, h.versions.next);
      expect(upgraded.version).toBe(h.versions.next);
    }, 300_000);

    it('reports a rollout whose new nodes fail as a final operation error', async () => {
      await h.driver().ensureNodePool(cluster, poolSpec(secondPool, { count: 1 }));
      await readyPool(secondPool, 1, h.versions.initial);
      await h.faults.failNewNodes(cluster);
      const operation = await h.driver().upgradeNodePool(cluster, secondPool, h.versions.next);
      const status = await followed(operation);
      expect(status.error).toMatchObject({ retryable: false });
      expect(status.error?.message).toBeTruthy();
    }, 300_000);

    it('rolls the failed pool back to the version it ran while the control plane stays, also when asked twice', async () => {
      await h.faults.clear();
      const operation = await h.driver().rollbackNodePool(cluster, secondPool, h.versions.initial);
      expect(operation).toMatchObject({ provider, version: h.versions.initial });
      const status = await followed(operation);
      expect(status.error).toBeUndefined();
      const back = await readyPool(secondPool, 1, h.versions.initial);
      expect(back.version).toBe(h.versions.initial);
      expect((await h.driver().getCluster(cluster))?.version).toBe(h.versions.next);
      // Asked again once done (a worker that crashed after the rollback): nothing is left to do.
      expect((await followed(await h.driver().rollbackNodePool(cluster, secondPool, h.versions.initial))).error).toBeUndefined();
      expect((await h.driver().getNodePool(cluster, secondPool))?.version).toBe(h.versions.initial);
    }, 300_000);

    it('reads what is not there as absent, deletes it as done, and refuses to build on a missing cluster', async () => {
      const ghost = externalClusterName(newId('cl'));
      const ghostPool = externalNodePoolName(newId('np'));
      expect(await h.driver().getCluster(ghost)).toBeNull();
      expect(await h.driver().getNodePool(cluster, ghostPool)).toBeNull();
      await h.driver().deleteNodePool(cluster, ghostPool);
      await h.driver().deleteCluster(ghost);
      await expectProviderError(h.driver().ensureNodePool(ghost, poolSpec(ghostPool)), { retryable: false });
      await expectProviderError(h.driver().upgradeControlPlane(ghost, h.versions.next), { retryable: false });
      expect(await h.inventory(ghost)).toEqual([]);
    }, 60_000);

    it('deletes a node pool, also when asked twice', async () => {
      await h.faults.loseNextResponse('deleteNodePool', cluster);
      await expectProviderError(h.driver().deleteNodePool(cluster, secondPool), { retryable: true });
      await h.driver().deleteNodePool(cluster, secondPool);
      await eventually('the node pool to be gone', timeout(), async () => ((await h.driver().getNodePool(cluster, secondPool)) === null ? true : undefined));
      await h.driver().deleteNodePool(cluster, secondPool);
    }, 180_000);

    it('deletes the cluster and leaves nothing of it behind', async () => {
      await h.faults.loseNextResponse('deleteCluster', cluster);
      await expectProviderError(h.driver().deleteCluster(cluster), { retryable: true });
      await h.driver().deleteCluster(cluster);
      await eventually('the cluster to be gone', timeout(), async () => ((await h.driver().getCluster(cluster)) === null ? true : undefined));
      await eventually('nothing of the cluster to be left', timeout(), async () => ((await h.leftovers(cluster)).length === 0 ? true : undefined));
      expect(await h.inventory(cluster)).toEqual([]);
      await h.driver().deleteCluster(cluster);
      expect(await h.driver().getNodePool(cluster, pool)).toBeNull();
    }, 300_000);
  });
}

/** Polls `probe` (fast at first, then every 500 ms) until it gives a value; fails naming what it waited for. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = 25;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      // A retryable provider error is part of waiting; anything else ends it.
      if (!(error instanceof ProviderError && error.retryable)) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last: ${String(lastError)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 500);
  }
}

async function expectProviderError(call: Promise<unknown>, expected: { retryable: boolean }): Promise<ProviderError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  expect({ retryable: (error as ProviderError).retryable, message: (error as ProviderError).message }).toEqual({
    retryable: expected.retryable,
    message: expect.any(String),
  });
  return error as ProviderError;
}

/** A client of the cluster's API server with exactly the access the driver handed out. */
function coreApi(access: ClusterAccess): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: 'cluster',
        server: access.server,
        caData: Buffer.from(access.caCertificate).toString('base64'),
        ...(access.tlsServerName ? { tlsServerName: access.tlsServerName } : {}),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'capstan', token: access.token }],
    contexts: [{ name: 'capstan', cluster: 'cluster', user: 'capstan' }],
    currentContext: 'capstan',
  });
  return config.makeApiClient(CoreV1Api);
}
