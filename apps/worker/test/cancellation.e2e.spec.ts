import { externalClusterName } from '@capstan/providers';
import { clusterRequest, seedOrganization, simulatorCall, type Stack, startStack, waitForOperation } from '@capstan/testing';
import type { ChildProcess } from 'node:child_process';

/**
 * A cancelled operation ends `cancelled` whatever happens meanwhile: a cancel racing the worker's
 * claim, and a worker killed after each statement of its side of a cancel.
 */
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

async function create(stack: Stack, token: string, name: string): Promise<{ clusterId: string; operationId: string }> {
  const res = await stack.api.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: { authorization: `Bearer ${token}` },
    payload: clusterRequest({ name, node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 1 }] }),
  });
  expect(res.statusCode).toBe(202);
  return { clusterId: res.json().cluster.id, operationId: res.json().operation.id };
}

const cancel = (stack: Stack, token: string, operationId: string) =>
  stack.api.inject({ method: 'POST', url: `/v1/operations/${operationId}/cancel`, headers: { authorization: `Bearer ${token}` } });

async function expectCleanlyCancelled(stack: Stack, token: string, op: { clusterId: string; operationId: string }) {
  const done = await waitForOperation(stack.prisma, op.operationId, ['cancelled'], 60_000);
  // Nothing left pending or running, and `compensated` only where something had succeeded.
  for (const step of done.steps) expect(['skipped', 'compensated']).toContain(step.status);
  expect((await stack.api.inject({ method: 'GET', url: `/v1/clusters/${op.clusterId}`, headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(404);
  expect(await stack.prisma.clusterCredential.count({ where: { clusterId: op.clusterId } })).toBe(0);
  // Whatever reached the cloud was deleted there.
  const stats = await simulatorCall<{ items: { name: string; creates: number; deletes: number }[] }>(
    stack.simulator.apiUrl,
    'GET',
    '/v1/stats/objects?kind=cluster',
  );
  const cloud = stats.items.find((i) => i.name === externalClusterName(op.clusterId));
  if (cloud) expect(cloud.deletes).toBeGreaterThanOrEqual(cloud.creates);
  expect(await stack.prisma.operationLease.count({ where: { operationId: op.operationId } })).toBe(0);
}

describe('cancellation', () => {
  it('a cancel racing the claim ends every operation cancelled, with steps that say what happened', async () => {
    const stack = await startStack({ inProcessWorker: false, stepDelayMs: 100 });
    try {
      const token = (await seedOrganization(stack.prisma, { maxClusters: 50, maxNodes: 100 })).token;
      await stack.spawnWorker();
      const ops = [];
      // Cancels sent at once after each create: some land before the worker's claim, some after.
      for (let i = 0; i < 12; i++) {
        const op = await create(stack, token, `racy-${i}`);
        const res = await cancel(stack, token, op.operationId);
        expect(res.statusCode).toBe(200);
        expect(['cancelled', 'running']).toContain(res.json().status);
        ops.push(op);
      }
      for (const op of ops) await expectCleanlyCancelled(stack, token, op);
      // A second cancel of a cancelled operation is a 409 problem.
      const again = await cancel(stack, token, ops[0]!.operationId);
      expect(again.statusCode).toBe(409);
      expect(again.headers['content-type']).toContain('application/problem+json');
    } finally {
      await stack.stop();
    }
  }, 180_000);

  it('a worker killed after each statement of its side of a cancel leaves an operation the next worker ends cancelled', async () => {
    const stack = await startStack({ inProcessWorker: false, stepDelayMs: 200 });
    try {
      const token = (await seedOrganization(stack.prisma)).token;
      // The node pools' call is held, so the cancel arrives while that step runs.
      await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call: 'ensureNodePool' }, mode: 'slow', delayMs: 1_500 });
      let worker = await stack.spawnWorker({ CAPSTAN_TEST_CRASH_AT: 'cancel:compensated' });
      const op = await create(stack, token, 'regretful');
      const deadline = Date.now() + 30_000;
      while ((await stack.prisma.operationStep.findFirstOrThrow({ where: { operationId: op.operationId, name: 'create_node_pools' } })).status !== 'running') {
        if (Date.now() > deadline) throw new Error('create_node_pools never started');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await cancel(stack, token, op.operationId)).statusCode).toBe(200);

      // Dies after compensating at the cloud, then the next one after marking the steps.
      await exited(worker);
      worker = await stack.spawnWorker({ CAPSTAN_TEST_CRASH_AT: 'cancel:steps-marked' });
      await exited(worker);
      expect((await stack.prisma.operation.findUniqueOrThrow({ where: { id: op.operationId } })).status).toBe('running');
      await stack.spawnWorker();

      await expectCleanlyCancelled(stack, token, op);
      const done = await waitForOperation(stack.prisma, op.operationId, ['cancelled']);
      expect(done.steps.map((s) => s.status)).toContain('compensated');
      expect(done.steps.map((s) => s.status)).toContain('skipped');
    } finally {
      await stack.stop();
    }
  }, 180_000);
});
