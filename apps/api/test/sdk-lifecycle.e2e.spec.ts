import { createCapstanClient } from '@capstan/sdk';
import { httpsGet, seedOrganization, type Stack, startStack } from '@capstan/testing';

/**
 * A customer's whole cluster lifecycle through the generated SDK, over real HTTP, with a worker
 * and the simulated cloud doing the work: create with two pools, watch the operation's steps reach
 * running, scale, fetch a kubeconfig and reach /readyz through it, delete.
 */
describe('cluster lifecycle through the SDK', () => {
  let stack: Stack;
  let client: ReturnType<typeof createCapstanClient>;

  beforeAll(async () => {
    stack = await startStack();
    client = createCapstanClient({ baseUrl: stack.apiUrl, token: (await seedOrganization(stack.prisma)).token, idempotencyKeys: true });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  async function watch(operationId: string) {
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const { data } = await client.GET('/v1/operations/{operation_id}', { params: { path: { operation_id: operationId } } });
      for (const step of data!.steps) if (step.status === 'succeeded') seen.add(step.name);
      if (data!.status === 'succeeded' || data!.status === 'failed') return { operation: data!, seen };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`operation ${operationId} did not finish`);
  }

  it('creates, scales, connects and deletes', async () => {
    const created = await client.POST('/v1/clusters', {
      body: {
        name: 'sdk-lifecycle',
        provider: 'rke2',
        region: 'nine-cz42',
        node_pools: [
          { name: 'system', machine_type: 'nine-standard-2', count: 2 },
          { name: 'apps', machine_type: 'nine-standard-4', count: 1 },
        ],
      },
    });
    expect(created.response.status).toBe(202);
    const clusterId = created.data!.cluster.id;
    const { operation, seen } = await watch(created.data!.operation.id);
    expect(operation.status).toBe('succeeded');
    expect([...seen]).toEqual(operation.steps.map((s) => s.name));

    const cluster = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
    expect(cluster.status).toBe('running');
    expect(cluster.node_pools.map((p) => p.status)).toEqual(['running', 'running']);

    const scale = await client.PATCH('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', {
      params: { path: { cluster_id: clusterId, node_pool_id: cluster.node_pools[1]!.id } },
      body: { count: 3 },
    });
    expect(scale.response.status).toBe(202);
    expect((await watch(scale.data!.operation.id)).operation.status).toBe('succeeded');

    const kubeconfig = await client.GET('/v1/clusters/{cluster_id}/kubeconfig', {
      params: { path: { cluster_id: clusterId }, query: { expiry_seconds: 600 } },
      parseAs: 'text',
    });
    expect(kubeconfig.response.status).toBe(200);
    const yaml = kubeconfig.data as unknown as string;
    const server = /server: (\S+)/.exec(yaml)![1]!;
    const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(yaml)![1]!, 'base64').toString('utf8');
    const servername = /tls-server-name: (\S+)/.exec(yaml)![1]!;
    expect((await httpsGet(`${server}/readyz`, { ca, servername })).status).toBe(200);

    const deleted = await client.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } });
    expect(deleted.response.status).toBe(202);
    expect((await watch(deleted.data!.operation.id)).operation.status).toBe('succeeded');
    expect((await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).response.status).toBe(404);
  }, 90_000);
});
