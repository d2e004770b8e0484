import { externalClusterName } from '@capstan/providers';
import { clusterRequest, seedOrganization, simulatorCall, type Stack, startStack, waitForOperation } from '@capstan/testing';

/**
 * How an operation ends when the cloud does not simply say yes: a step that fails for good, a
 * step that fails once, and a cancel that arrives while the operation runs. Faults are set in the
 * simulated cloud for one test at a time and removed after it.
 */
describe('operation outcomes', () => {
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    stack = await startStack();
    token = (await seedOrganization(stack.prisma)).token;
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  afterEach(async () => {
    await simulatorCall(stack.simulator.apiUrl, 'DELETE', '/v1/chaos/faults');
  });

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    stack.api.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  async function create(name: string): Promise<{ clusterId: string; operationId: string }> {
    const res = await call('POST', '/v1/clusters', clusterRequest({ name, node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 1 }] }));
    expect(res.statusCode).toBe(202);
    return { clusterId: res.json().cluster.id, operationId: res.json().operation.id };
  }

  const eventTypes = async (operationId: string) =>
    (await stack.prisma.event.findMany({ where: { source: `/v1/operations/${operationId}` }, orderBy: { id: 'asc' } })).map((e) => e.type);

  it('fails the operation when a step fails for good: the step and its error are kept, what it built is removed and the cluster is in error', async () => {
    await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call: 'installAddons' }, mode: 'fail_always', retryable: false });
    const { clusterId, operationId } = await create('doomed');

    const failed = await waitForOperation(stack.prisma, operationId, ['failed']);
    expect(failed.error).toMatchObject({ step: 'install_addons', message: expect.stringMatching(/^step install_addons failed: .*injected fault/) });
    expect(failed.finishedAt).not.toBeNull();
    expect(failed.error).toMatchObject({ compensation: 'done' });
    // What reached the cloud was undone; what never ran is skipped; the failed step says why.
    expect(failed.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'reserve_endpoint:compensated',
      'create_control_plane:compensated',
      'wait_control_plane_ready:compensated',
      'create_node_pools:compensated',
      'install_addons:failed',
      'issue_admin_credentials:skipped',
      'mark_running:skipped',
    ]);
    expect(failed.steps[4]!.error).toMatchObject({ message: expect.stringContaining('injected fault') });
    // A non-retryable failure is not retried.
    expect(failed.steps[4]!.attempts).toBe(1);
    const cluster = await stack.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    expect(cluster.status).toBe('error');
    expect(cluster.statusReason).toContain('install_addons');
    expect(cluster.statusReason).toContain('was removed');
    // The half-built cluster is gone from the cloud, and its endpoint with it.
    expect(cluster.endpoint).toBeNull();
    const stats = await simulatorCall<{ items: { name: string; creates: number; deletes: number }[] }>(
      stack.simulator.apiUrl,
      'GET',
      '/v1/stats/objects?kind=cluster',
    );
    expect(stats.items.find((i) => i.name === externalClusterName(clusterId))).toMatchObject({ creates: 1, deletes: 1 });
    expect(await eventTypes(operationId)).toEqual(['dev.capstan.operation.pending', 'dev.capstan.operation.running', 'dev.capstan.operation.failed']);
    const failedEvent = await stack.prisma.event.findFirstOrThrow({ where: { source: `/v1/operations/${operationId}`, type: 'dev.capstan.operation.failed' } });
    expect(failedEvent.data).toMatchObject({ operation_id: operationId, status: 'failed', error: { step: 'install_addons' } });
  }, 60_000);

  it('retries a step that fails once and resumes there: earlier steps are not run again', async () => {
    await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call: 'issueCredentials' }, mode: 'fail_once' });
    const { clusterId, operationId } = await create('bumpy');

    const done = await waitForOperation(stack.prisma, operationId, ['succeeded']);
    const attempts = Object.fromEntries(done.steps.map((s) => [s.name, s.attempts]));
    expect(attempts).toEqual({
      reserve_endpoint: 1,
      create_control_plane: 1,
      wait_control_plane_ready: 1,
      create_node_pools: 1,
      install_addons: 1,
      issue_admin_credentials: 2,
      mark_running: 1,
    });
    expect(done.attempts).toBe(2);
    expect(done.progress).toBe(100);
    // The failure of the first attempt is not the operation's error.
    expect(done.error).toBeNull();
    expect((await stack.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).status).toBe('running');
    // One `running` event, though it ran twice.
    expect(await eventTypes(operationId)).toEqual(['dev.capstan.operation.pending', 'dev.capstan.operation.running', 'dev.capstan.operation.succeeded']);
  }, 60_000);

  it('stops a running operation at the next step boundary and compensates what reached the cloud', async () => {
    // The node pools' call is held, so the cancel arrives while that step runs.
    await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call: 'ensureNodePool' }, mode: 'slow', delayMs: 1_000 });
    const { clusterId, operationId } = await create('regret');
    const deadline = Date.now() + 20_000;
    while ((await stack.prisma.operationStep.findFirstOrThrow({ where: { operationId, name: 'create_node_pools' } })).status !== 'running') {
      if (Date.now() > deadline) throw new Error('create_node_pools never started');
      await new Promise((r) => setTimeout(r, 20));
    }

    const asked = await call('POST', `/v1/operations/${operationId}/cancel`);
    expect(asked.statusCode).toBe(200);
    expect(asked.json()).toMatchObject({ status: 'running', cancel_requested: true });

    const cancelled = await waitForOperation(stack.prisma, operationId, ['cancelled']);
    // The running step finished; what had reached the cloud was compensated, the rest never ran.
    expect(cancelled.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'reserve_endpoint:compensated',
      'create_control_plane:compensated',
      'wait_control_plane_ready:compensated',
      'create_node_pools:compensated',
      'install_addons:skipped',
      'issue_admin_credentials:skipped',
      'mark_running:skipped',
    ]);
    // Compensation: the half-built cluster is deleted in the cloud, and gone from the API.
    const stats = await simulatorCall<{ items: { name: string; creates: number; deletes: number }[] }>(
      stack.simulator.apiUrl,
      'GET',
      '/v1/stats/objects?kind=cluster',
    );
    expect(stats.items.find((i) => i.name === externalClusterName(clusterId))).toMatchObject({ creates: 1, deletes: 1 });
    expect((await call('GET', `/v1/clusters/${clusterId}`)).statusCode).toBe(404);
    expect(await eventTypes(operationId)).toEqual(['dev.capstan.operation.pending', 'dev.capstan.operation.running', 'dev.capstan.operation.cancelled']);
  }, 60_000);
});
