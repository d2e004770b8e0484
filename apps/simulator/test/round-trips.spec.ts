import { Client } from 'pg';
import { clusterSpec, poolSpec, startTestSimulator, type TestSimulator } from './harness';

/**
 * The simulated cloud shares the machine with the Capstan it serves, so what a call costs it is
 * taken from Capstan's throughput. Round trips to Postgres are the cost that can be counted
 * exactly: the queries the simulator's connections send are counted (and still sent) here.
 */
describe('what a port call costs the simulated cloud', () => {
  let sim: TestSimulator;
  let queries: jest.SpyInstance;

  beforeAll(async () => {
    sim = await startTestSimulator();
  });
  beforeEach(() => {
    queries = jest.spyOn(Client.prototype, 'query');
  });
  afterEach(() => queries.mockRestore());
  afterAll(() => sim?.close());

  const roundTrips = () =>
    queries.mock.contexts.filter(
      (client) => (client as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name === 'capstan-simulator',
    ).length;

  it('makes at most three round trips per call of a cluster create, and one to read a cluster or a pool', async () => {
    const counts: Record<string, number> = {};
    const measure = async (call: string, work: () => Promise<unknown>) => {
      const before = roundTrips();
      await work();
      counts[call] = roundTrips() - before;
    };

    await measure('ensureCluster', () => sim.provider.ensureCluster(clusterSpec('capstan-cost')));
    await measure('getCluster', () => sim.provider.getCluster('capstan-cost'));
    await measure('ensureNodePool', () => sim.provider.ensureNodePool('capstan-cost', poolSpec('pool-a', { count: 3 })));
    await measure('ensureNodePool again', () => sim.provider.ensureNodePool('capstan-cost', poolSpec('pool-a', { count: 3 })));
    await measure('getNodePool', () => sim.provider.getNodePool('capstan-cost', 'pool-a'));
    await measure('installAddons', () => sim.provider.installAddons('capstan-cost', [{ name: 'cert-manager', version: '1.17.0' }]));
    await measure('issueCredentials', () => sim.provider.issueCredentials('capstan-cost', 600));
    await measure('ensureCluster again', () => sim.provider.ensureCluster(clusterSpec('capstan-cost')));

    expect(counts).toEqual({
      ensureCluster: 3,
      getCluster: 1,
      ensureNodePool: 3,
      'ensureNodePool again': 1,
      getNodePool: 1,
      installAddons: 2,
      issueCredentials: 2,
      'ensureCluster again': 1,
    });
  });

  it('cordons, drains and uncordons a node in two round trips each', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-cost-drain'));
    const pool = await sim.provider.ensureNodePool('capstan-cost-drain', poolSpec('pool-d', { count: 1 }));
    const node = pool.nodes[0]!.name;
    await sim.api('PUT', '/v1/clusters/capstan-cost-drain/pod-disruption-budgets/shop/checkout', { pods: [{ name: 'checkout-0', node }] });

    const before = roundTrips();
    await sim.provider.cordonNode('capstan-cost-drain', node);
    expect(await sim.provider.drainNode('capstan-cost-drain', node, { timeoutSeconds: 60, force: false })).toMatchObject({ drained: false });
    expect(await sim.provider.drainNode('capstan-cost-drain', node, { timeoutSeconds: 60, force: true })).toMatchObject({ drained: true });
    await sim.provider.uncordonNode('capstan-cost-drain', node);

    expect(roundTrips() - before).toBe(8);
  });

  it('pays for the fault machinery only while a fault is armed for the call', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-cost-fault'));
    await sim.api('POST', '/v1/chaos/faults', { match: { call: 'getCluster', cluster: 'capstan-cost-fault' }, mode: 'slow', delayMs: 1 });

    let before = roundTrips();
    await sim.provider.getCluster('capstan-cost-fault');
    const armed = roundTrips() - before;

    await sim.api('DELETE', '/v1/chaos/faults');
    before = roundTrips();
    await sim.provider.getCluster('capstan-cost-fault');

    expect(roundTrips() - before).toBe(1);
    expect(armed).toBeGreaterThan(1);
  });

  it('answers a pool the same whether or not a fault was armed for the call', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-cost-pool'));
    const created = await sim.provider.ensureNodePool('capstan-cost-pool', poolSpec('pool-f', { count: 2 }));

    await sim.api('POST', '/v1/chaos/faults', { match: { call: 'getNodePool', cluster: 'capstan-cost-pool' }, mode: 'slow', delayMs: 1 });
    const armed = await sim.provider.getNodePool('capstan-cost-pool', 'pool-f');
    const absentArmed = await sim.provider.getNodePool('capstan-cost-pool', 'pool-none');
    await sim.api('DELETE', '/v1/chaos/faults');

    expect(armed).toEqual(created);
    expect(await sim.provider.getNodePool('capstan-cost-pool', 'pool-f')).toEqual(created);
    expect(absentArmed).toBeNull();
    expect(await sim.provider.getNodePool('capstan-cost-pool', 'pool-none')).toBeNull();
  });
});
