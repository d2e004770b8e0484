import { eventually } from '@capstan/testing';
import { clusterSpec, poolSpec, startTestSimulator, type TestSimulator } from './harness';

const STEP_MS = 400;

/** Objects take a step of time to settle, like a real cloud's; tests elsewhere run with a step of 0. */
describe('the simulated cloud with a step delay', () => {
  let sim: TestSimulator;

  beforeAll(async () => {
    sim = await startTestSimulator({ stepDelayMs: STEP_MS });
  });
  afterAll(() => sim?.close());

  it('provisions a cluster, then runs it, with an endpoint only once its control plane answers', async () => {
    const created = await sim.provider.ensureCluster(clusterSpec('capstan-slow-start'));
    expect(created).toMatchObject({ status: 'provisioning', endpoint: null, caCertificate: null });
    expect((await sim.kube(`${sim.simulator.kubeUrl}/clusters/capstan-slow-start`, '/readyz')).status).toBe(503);

    await eventually(async () => (await sim.provider.getCluster('capstan-slow-start'))?.status === 'running', 5_000, 50);
    const running = (await sim.provider.getCluster('capstan-slow-start'))!;
    expect(running.endpoint).toMatch(/\/clusters\/capstan-slow-start$/);
    expect((await sim.kube(running.endpoint!, '/readyz')).status).toBe(200);
  });

  it('brings up nodes not ready, then ready', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-slow-pool'));
    const pool = await sim.provider.ensureNodePool('capstan-slow-pool', poolSpec('pool-s', { count: 2 }));
    expect(pool.status).toBe('provisioning');
    expect(pool.nodes.map((n) => n.ready)).toEqual([false, false]);

    await eventually(async () => (await sim.provider.getNodePool('capstan-slow-pool', 'pool-s'))?.status === 'running', 5_000, 50);
    expect((await sim.provider.getNodePool('capstan-slow-pool', 'pool-s'))!.nodes.every((n) => n.ready)).toBe(true);
  });

  it('upgrades the control plane over a step, keeping the old version until done', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-slow-upgrade', '1.34.2'));
    await eventually(async () => (await sim.provider.getCluster('capstan-slow-upgrade'))?.status === 'running', 5_000, 50);

    await sim.provider.upgradeControlPlane('capstan-slow-upgrade', '1.35.0');
    expect(await sim.provider.getCluster('capstan-slow-upgrade')).toMatchObject({ status: 'upgrading', version: '1.34.2' });
    // The control plane of a cluster being upgraded keeps serving: it is rolled server by server.
    const endpoint = (await sim.provider.getCluster('capstan-slow-upgrade'))!.endpoint!;
    expect((await sim.kube(endpoint, '/readyz')).status).toBe(200);

    await eventually(async () => (await sim.provider.getCluster('capstan-slow-upgrade'))?.status === 'running', 5_000, 50);
    expect((await sim.provider.getCluster('capstan-slow-upgrade'))!.version).toBe('1.35.0');
  });

  it('refuses a control-plane upgrade while the cluster is still provisioning', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-too-early'));
    await expect(sim.provider.upgradeControlPlane('capstan-too-early', '1.35.0')).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('cluster capstan-too-early is provisioning'),
    });
  });

  it('deletes over a step: deleting, then gone', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-slow-delete'));
    await sim.provider.deleteCluster('capstan-slow-delete');

    expect((await sim.provider.getCluster('capstan-slow-delete'))?.status).toBe('deleting');
    await eventually(async () => (await sim.provider.getCluster('capstan-slow-delete')) === null, 5_000, 50);
  });
});
