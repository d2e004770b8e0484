import { externalClusterName, externalNodePoolName } from '@capstan/providers';
import { clusterRequest, creationsByName, seedOrganization, simulatorCall, type Stack, startStack, waitForOperation } from '@capstan/testing';
import type { ChildProcess } from 'node:child_process';

/**
 * Real worker processes, killed with SIGKILL in the middle of each step of a cluster creation.
 * Every provider call is slowed down *after* it took effect, so a kill lands between the cloud
 * doing the work and the worker recording it: the hardest case for "never twice".
 */
describe('crash safety: kill -9 the worker in every step of a create', () => {
  let stack: Stack;
  let token: string;
  let worker: ChildProcess;

  beforeAll(async () => {
    stack = await startStack({ inProcessWorker: false, stepDelayMs: 200 });
    token = (await seedOrganization(stack.prisma)).token;
    // getCluster too: wait_control_plane_ready re-run by a new worker finds the cluster long ready
    // and would finish between two looks of stepRunning() if its call were not held as well.
    for (const call of ['ensureCluster', 'getCluster', 'ensureNodePool', 'installAddons', 'issueCredentials']) {
      await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call }, mode: 'slow', delayMs: 1500, at: 'response' });
    }
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const killed: string[] = [];

  async function stepRunning(operationId: string, step: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const row = await stack.prisma.operationStep.findFirst({ where: { operationId, name: step } });
      if (row?.status === 'running') return;
      if (row?.status === 'succeeded') throw new Error(`step ${step} finished before the worker could be killed in it`);
      if (Date.now() > deadline) throw new Error(`step ${step} never started`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('completes the operation with new workers, and the cloud made every object exactly once', async () => {
    worker = await stack.spawnWorker();
    const created = await stack.api.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${token}` },
      payload: clusterRequest({
        name: 'crashy',
        node_pools: [
          { name: 'a', machine_type: 'nine-standard-2', count: 2 },
          { name: 'b', machine_type: 'nine-standard-2', count: 1 },
        ],
      }),
    });
    const { cluster, operation } = created.json();

    for (const step of ['create_control_plane', 'wait_control_plane_ready', 'create_node_pools', 'install_addons', 'issue_admin_credentials']) {
      await stepRunning(operation.id, step);
      // Let the call reach the cloud, then kill the worker while the answer is held back.
      await new Promise((r) => setTimeout(r, 300));
      worker.kill('SIGKILL');
      killed.push(step);
      worker = await stack.spawnWorker();
    }

    const done = await waitForOperation(stack.prisma, operation.id, ['succeeded'], 90_000);
    expect(killed).toHaveLength(5);
    expect(done.steps.every((s) => s.status === 'succeeded')).toBe(true);
    // The interrupted steps ran more than once; the cloud still holds one of everything.
    expect(done.steps.filter((s) => s.attempts > 1).map((s) => s.name)).toEqual(expect.arrayContaining(['create_control_plane', 'create_node_pools']));
    expect((await creationsByName(stack.simulator.apiUrl, 'cluster'))[externalClusterName(cluster.id)]).toBe(1);
    const pools = await creationsByName(stack.simulator.apiUrl, 'nodePool');
    for (const pool of cluster.node_pools) expect(pools[externalNodePoolName(pool.id)]).toBe(1);
    expect(await stack.prisma.clusterCredential.count({ where: { clusterId: cluster.id } })).toBe(1);
    expect((await stack.prisma.cluster.findUniqueOrThrow({ where: { id: cluster.id } })).status).toBe('running');
  }, 180_000);
});
