import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { externalClusterName, externalNodePoolName } from '@capstan/providers';
import { clusterRequest, httpsGet, seedOrganization, type Stack, startStack, waitForOperation } from '@capstan/testing';

/**
 * The whole loop with an in-process worker and the simulated cloud: API -> outbox -> BullMQ ->
 * worker -> provider, and back in Postgres.
 */
describe('operations engine, end to end', () => {
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    stack = await startStack();
    token = (await seedOrganization(stack.prisma)).token;
  }, 60_000);

  afterAll(async () => {
    await stack.stop();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    stack.api.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  it('creates a cluster with two pools through every step, then scales, serves a kubeconfig and deletes it', async () => {
    const created = await call(
      'POST',
      '/v1/clusters',
      clusterRequest({
        name: 'e2e',
        node_pools: [
          { name: 'system', machine_type: 'nine-standard-2', count: 2 },
          { name: 'apps', machine_type: 'nine-standard-4', autoscaling: { min: 1, max: 3 } },
        ],
      }),
    );
    expect(created.statusCode).toBe(202);
    const { cluster, operation } = created.json();

    const done = await waitForOperation(stack.prisma, operation.id);
    expect(done.steps.map((s) => s.status)).toEqual(done.steps.map(() => 'succeeded'));
    expect(done.progress).toBe(100);
    const running = (await call('GET', `/v1/clusters/${cluster.id}`)).json();
    expect(running).toMatchObject({ status: 'running', endpoint: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/clusters\//) });
    expect(running.node_pools.map((p: { status: string }) => p.status)).toEqual(['running', 'running']);
    const credential = await stack.prisma.clusterCredential.findFirstOrThrow({ where: { clusterId: cluster.id } });
    expect(Buffer.from(credential.sealed).toString('utf8')).not.toContain('token');

    const scaled = await call('PATCH', `/v1/clusters/${cluster.id}/node-pools/${running.node_pools[0].id}`, { count: 4 });
    expect(scaled.statusCode).toBe(202);
    await waitForOperation(stack.prisma, scaled.json().operation.id);
    expect((await call('GET', `/v1/clusters/${cluster.id}/node-pools/${running.node_pools[0].id}`)).json()).toMatchObject({ count: 4, status: 'running' });

    const kubeconfig = await call('GET', `/v1/clusters/${cluster.id}/kubeconfig?expiry_seconds=900`);
    expect(kubeconfig.statusCode).toBe(200);
    expect(kubeconfig.headers['content-type']).toMatch(/^application\/yaml/);
    const server = /server: (\S+)/.exec(kubeconfig.body)![1]!;
    const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kubeconfig.body)![1]!, 'base64').toString('utf8');
    const bearer = /token: (\S+)/.exec(kubeconfig.body)![1]!;
    // The simulated cloud serves every cluster on one address and picks ours by this name.
    const servername = /tls-server-name: (\S+)/.exec(kubeconfig.body)![1]!;
    expect((await httpsGet(`${server}/readyz`, { ca, servername })).status).toBe(200);
    const version = await httpsGet(`${server}/version`, { ca, token: bearer, servername });
    expect(version.status).toBe(200);
    expect((JSON.parse(version.body) as { gitVersion: string }).gitVersion).toContain(running.current_version);
    expect((await httpsGet(`${server}/version`, { ca, servername })).status).toBe(401);
    // The real kubectl, with the kubeconfig exactly as downloaded (asynchronously: the simulated
    // cloud it talks to runs in this process).
    const dir = mkdtempSync(join(tmpdir(), 'capstan-kubeconfig-'));
    try {
      writeFileSync(join(dir, 'kubeconfig'), kubeconfig.body);
      const kubectl = async (...args: string[]) =>
        (
          await promisify(execFile)('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--request-timeout=10s', ...args], {
            env: { ...process.env, HOME: dir },
          })
        ).stdout;
      expect(await kubectl('get', '--raw', '/readyz')).toBe('ok');
      const nodes = (await kubectl('get', 'nodes', '--no-headers')).trim().split('\n');
      expect(nodes.length).toBeGreaterThanOrEqual(5);
      for (const line of nodes) expect(line).toMatch(new RegExp(`\\sReady\\s.*\\sv${running.current_version.replace(/\./g, '\\.')}\\+rke2r1$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const audit = await stack.prisma.auditEvent.findFirst({ where: { action: 'cluster.kubeconfig', targetId: cluster.id } });
    expect(JSON.stringify(audit)).not.toContain(bearer);

    const deleted = await call('DELETE', `/v1/clusters/${cluster.id}`);
    expect(deleted.statusCode).toBe(202);
    await waitForOperation(stack.prisma, deleted.json().operation.id);
    expect((await call('GET', `/v1/clusters/${cluster.id}`)).statusCode).toBe(404);
  }, 60_000);

  it('pauses a node pool deletion blocked by a PodDisruptionBudget as needs_attention, naming the budget', async () => {
    const { cluster, operation } = (
      await call(
        'POST',
        '/v1/clusters',
        clusterRequest({
          name: 'pdb',
          node_pools: [
            { name: 'a', machine_type: 'nine-standard-2', count: 1 },
            { name: 'b', machine_type: 'nine-standard-2', count: 1 },
          ],
        }),
      )
    ).json();
    await waitForOperation(stack.prisma, operation.id);
    const pool = cluster.node_pools[1];
    // A customer's PodDisruptionBudget that allows no disruption protects a pod on the pool's node.
    const external = externalClusterName(cluster.id);
    const simulatedPool = (await (await fetch(`${stack.simulator.apiUrl}/v1/clusters/${external}/node-pools/${externalNodePoolName(pool.id)}`)).json()) as {
      nodes: { name: string }[];
    };
    const budget = await fetch(`${stack.simulator.apiUrl}/v1/clusters/${external}/pod-disruption-budgets/payments/api-pdb`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pods: [{ name: 'api-0', node: simulatedPool.nodes[0]!.name }] }),
    });
    expect(budget.ok).toBe(true);
    const blocked = await call('DELETE', `/v1/clusters/${cluster.id}/node-pools/${pool.id}`);
    expect(blocked.statusCode).toBe(202);
    const paused = await waitForOperation(stack.prisma, blocked.json().operation.id, ['needs_attention']);
    expect(JSON.stringify(paused.error)).toMatch(/PodDisruptionBudget api-pdb/);
    expect(paused.steps.find((s) => s.name === 'cordon_and_drain')?.status).toBe('failed');
    // Paused, never forced: the pool and its node are still there.
    expect((await stack.prisma.nodePool.findUniqueOrThrow({ where: { id: pool.id } })).deletedAt).toBeNull();
  }, 60_000);
});
