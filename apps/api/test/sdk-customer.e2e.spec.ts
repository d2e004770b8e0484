import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { plannedSteps } from '@capstan/domain';
import { PrismaService } from '@capstan/platform';
import { type CapstanClient, createCapstanClient, type components, type Problem } from '@capstan/sdk';
import { type SeededOrganization, seedOrganization, startTestApi, type TestApi, WORKSPACE_ROOT } from '@capstan/testing';

type CreateClusterRequest = components['schemas']['CreateClusterRequest'];
type Operation = components['schemas']['Operation'];
type Cluster = components['schemas']['Cluster'];

/**
 * A customer's day with Capstan, driven through the generated SDK over real HTTP against the real
 * API, PostgreSQL and Redis. No worker runs operations yet, so they stay pending; where a journey
 * needs one finished, `finishAsWorkerWould` writes the outcome a successful run leaves behind.
 */
describe('the SDK, as a customer uses it', () => {
  let api: TestApi;
  let prisma: PrismaService;
  let baseUrl: string;
  let org: SeededOrganization;
  let client: CapstanClient;

  beforeAll(async () => {
    api = await startTestApi();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
    prisma = api.app.get(PrismaService);
    org = await seedOrganization(prisma, { name: 'acme-ag', residency: 'CH', maxClusters: 20, maxNodes: 200 });
    client = createCapstanClient({ baseUrl, token: org.token });
  });

  afterAll(async () => {
    await api.close();
  });

  function clusterRequest(name: string, overrides: Partial<CreateClusterRequest> = {}): CreateClusterRequest {
    return { name, provider: 'rke2', region: 'nine-cz41', node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 3 }], ...overrides };
  }

  async function createCluster(name: string, overrides: Partial<CreateClusterRequest> = {}) {
    const { data, error, response } = await client.POST('/v1/clusters', { body: clusterRequest(name, overrides) });
    if (!data) throw new Error(`creating ${name} answered ${response.status}: ${JSON.stringify(error)}`);
    return data;
  }

  /** Stands in for the worker: what a successful run leaves (steps done, cluster and live pools running). */
  async function finishAsWorkerWould(operation: Operation): Promise<void> {
    const now = new Date();
    await prisma.operationStep.updateMany({
      where: { operationId: operation.id },
      data: { status: 'succeeded', attempts: 1, startedAt: now, finishedAt: now },
    });
    await prisma.operation.update({ where: { id: operation.id }, data: { status: 'succeeded', progress: 100, attempts: 1, startedAt: now, finishedAt: now } });
    if (operation.cluster_id) {
      await prisma.nodePool.updateMany({
        where: { clusterId: operation.cluster_id, deletedAt: null },
        data: { status: 'running', resourceVersion: { increment: 1 } },
      });
      await prisma.cluster.update({
        where: { id: operation.cluster_id },
        data: { status: 'running', endpoint: `https://${operation.cluster_id}.k8s.test:6443`, resourceVersion: { increment: 1 } },
      });
    }
  }

  async function runningCluster(name: string, overrides: Partial<CreateClusterRequest> = {}) {
    const { cluster, operation } = await createCluster(name, overrides);
    await finishAsWorkerWould(operation);
    const { data } = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });
    expect(data?.status).toBe('running');
    return data!;
  }

  function expectProblem(result: { error?: unknown; response: Response }, status: number, slug: string): Problem {
    expect(result.response.status).toBe(status);
    expect(result.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(result.error).toMatchObject({ type: `https://capstan.dev/problems/${slug}`, status });
    return result.error as Problem;
  }

  it('is generated from the same document the API serves', async () => {
    // given the document the SDK's types were generated from at build time
    const generated = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'libs/sdk/src/generated/openapi.json'), 'utf8'));
    // when the running API is asked for its own
    const served = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as { paths: unknown; components: unknown };
    // then every path, operation and schema matches (a route missing from the contracts' index would show here)
    expect(generated.paths).toEqual(served.paths);
    expect(generated.components).toEqual(served.components);
  });

  it('reads its organisation, with quotas and a usage that counts what its clusters may run', async () => {
    // given a fresh organisation with small quotas
    const small = await seedOrganization(prisma, { name: 'small-gmbh', maxClusters: 2, maxNodes: 12 });
    const smallClient = createCapstanClient({ baseUrl, token: small.token });
    const before = await smallClient.GET('/v1/organization');
    expect(before.response.status).toBe(200);
    expect(before.data).toMatchObject({
      id: small.organizationId,
      name: 'small-gmbh',
      residency: 'CH',
      status: 'active',
      quota: { max_clusters: 2, max_nodes: 12 },
      usage: { clusters: 0, nodes: 0 },
    });
    expect(before.response.headers.get('etag')).toBe(before.data!.etag);

    // when it creates a cluster of 3 fixed nodes and a pool autoscaling up to 5
    const created = await smallClient.POST('/v1/clusters', {
      body: clusterRequest('usage', {
        node_pools: [
          { name: 'fixed', machine_type: 'nine-standard-2', count: 3 },
          { name: 'elastic', machine_type: 'nine-standard-2', autoscaling: { min: 1, max: 5 } },
        ],
      }),
    });
    expect(created.response.status).toBe(202);

    // then the usage counts the cluster and the most nodes its pools may run
    const after = await smallClient.GET('/v1/organization');
    expect(after.data?.usage).toEqual({ clusters: 1, nodes: 8 });
    // and a cluster that would pass the node quota is refused, naming the quota
    const tooBig = await smallClient.POST('/v1/clusters', {
      body: clusterRequest('too-big', { node_pools: [{ name: 'big', machine_type: 'nine-standard-2', count: 5 }] }),
    });
    expect(expectProblem(tooBig, 422, 'quota-exceeded')).toMatchObject({ quota: 'nodes', limit: 12, usage: 8, requested: 5 });
  });

  it('lists the regions its residency allows, the Kubernetes versions and the machine types', async () => {
    const regions = await client.GET('/v1/regions');
    expect(regions.response.status).toBe(200);
    const allowed = regions.data!.items.filter((r) => r.allowed).map((r) => r.id);
    expect(allowed).toEqual(expect.arrayContaining(['nine-cz41', 'europe-west6']));
    expect(regions.data!.items.find((r) => r.id === 'europe-west3')).toMatchObject({ country: 'DE', allowed: false });

    const rke2Regions = await client.GET('/v1/regions', { params: { query: { provider: 'rke2' } } });
    expect(rke2Regions.data!.items.length).toBeGreaterThan(0);
    expect(rke2Regions.data!.items.every((r) => r.provider === 'rke2')).toBe(true);

    const versions = await client.GET('/v1/versions', { params: { query: { provider: 'rke2' } } });
    expect(versions.data!.items.length).toBeGreaterThan(0);
    expect(versions.data!.items.every((v) => v.provider === 'rke2' && /^\d+\.\d+$/.test(v.minor) && v.latest_patch.startsWith(`${v.minor}.`))).toBe(true);
    expect(versions.data!.items.some((v) => v.state === 'supported')).toBe(true);

    const machineTypes = await client.GET('/v1/machine-types', { params: { query: { provider: 'gke' } } });
    expect(machineTypes.data!.items.map((m) => m.id)).toContain('e2-standard-4');
    expect(machineTypes.data!.items.every((m) => m.provider === 'gke' && m.vcpus > 0 && m.monthly_price_cents > 0)).toBe(true);
  });

  it('creates a cluster with two node pools: 202, a Location and a pending operation with its planned steps', async () => {
    // when
    const { data, response } = await client.POST('/v1/clusters', {
      body: clusterRequest('prod-zrh', {
        labels: { env: 'prod' },
        node_pools: [
          { name: 'system', machine_type: 'nine-standard-4', count: 3 },
          {
            name: 'workers',
            machine_type: 'nine-highmem-4',
            autoscaling: { min: 2, max: 6 },
            labels: { role: 'worker' },
            taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }],
          },
        ],
      }),
    });

    // then
    expect(response.status).toBe(202);
    const { cluster, operation } = data!;
    expect(cluster.id).toMatch(/^cl_[0-9a-z]{26}$/);
    expect(response.headers.get('location')).toBe(`/v1/clusters/${cluster.id}`);
    expect(cluster).toMatchObject({
      name: 'prod-zrh',
      provider: 'rke2',
      region: 'nine-cz41',
      status: 'provisioning',
      labels: { env: 'prod' },
      release_channel: 'regular',
      auto_upgrade: true,
      deletion_protection: false,
    });
    expect(cluster.sla.target_percent).toBe(99.5);
    expect(cluster.node_pools.map((p) => [p.name, p.machine_type, p.count, p.autoscaling])).toEqual([
      ['system', 'nine-standard-4', 3, null],
      ['workers', 'nine-highmem-4', 2, { min: 2, max: 6 }],
    ]);
    expect(cluster.node_pools[1]).toMatchObject({
      labels: { role: 'worker' },
      taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }],
      status: 'provisioning',
      version: cluster.current_version,
    });
    expect(operation).toMatchObject({
      type: 'create_cluster',
      status: 'pending',
      target: { type: 'cluster', id: cluster.id },
      cluster_id: cluster.id,
      progress: 0,
      cancel_requested: false,
      requested_by: { type: 'api_token', id: org.tokenId },
    });
    expect(operation.steps.map((s) => s.name)).toEqual([...plannedSteps('create_cluster')]);
    expect(operation.steps.every((s) => s.status === 'pending' && s.attempts === 0)).toBe(true);

    // and the Location and the operation can be followed
    const followed = await fetch(`${baseUrl}${response.headers.get('location')}`, { headers: { authorization: `Bearer ${org.token}` } });
    expect(((await followed.json()) as { id: string }).id).toBe(cluster.id);
    const polled = await client.GET('/v1/operations/{operation_id}', { params: { path: { operation_id: operation.id } } });
    expect(polled.data).toMatchObject({ id: operation.id, status: 'pending' });
  });

  it('gets a cluster with an ETag header equal to the etag in its body', async () => {
    const { cluster } = await createCluster('etag-check');
    const { data, response } = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });
    expect(response.status).toBe(200);
    expect(data!.etag).toMatch(/^"\d+"$/);
    expect(response.headers.get('etag')).toBe(data!.etag);
    expect(data).toMatchObject({ id: cluster.id, name: 'etag-check', node_pools: [{ name: 'default' }] });
  });

  it('answers 404 problem+json for a cluster that does not exist', async () => {
    const missing = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: 'cl_00000000000000000000000000' } } });
    expectProblem(missing, 404, 'not-found');
  });

  it('refuses an invalid cluster with a 400 that names each offending field', async () => {
    const invalid = await client.POST('/v1/clusters', {
      body: clusterRequest('Not_A_DNS_Label', { node_pools: [{ name: 'default', machine_type: 'nine-standard-4' }] }),
    });
    const problem = expectProblem(invalid, 400, 'validation-failed');
    expect(problem.errors?.map((e) => e.field)).toEqual(expect.arrayContaining(['name', 'node_pools.0.count']));
  });

  it('lists clusters by label selector', async () => {
    // given three clusters of one team, in two environments
    const prod = await createCluster('selector-prod', { labels: { team: 'selectors', env: 'prod' } });
    const dev = await createCluster('selector-dev', { labels: { team: 'selectors', env: 'dev' } });
    const other = await createCluster('selector-other-team', { labels: { team: 'others', env: 'prod' } });

    // when / then: equality and inequality, combined
    const prodOnly = await client.GET('/v1/clusters', { params: { query: { label_selector: 'team=selectors,env=prod' } } });
    expect(prodOnly.response.status).toBe(200);
    expect(prodOnly.data!.items.map((c) => c.id)).toEqual([prod.cluster.id]);
    const notProd = await client.GET('/v1/clusters', { params: { query: { label_selector: 'team=selectors,env!=prod' } } });
    expect(notProd.data!.items.map((c) => c.id)).toEqual([dev.cluster.id]);
    const allTeams = await client.GET('/v1/clusters', { params: { query: { label_selector: 'env=prod' } } });
    expect(allTeams.data!.items.map((c) => c.id)).toEqual(expect.arrayContaining([prod.cluster.id, other.cluster.id]));
    expect(allTeams.data!.items.map((c) => c.id)).not.toContain(dev.cluster.id);
  });

  it('pages through clusters with limit and cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const { data } = await client.GET('/v1/clusters', { params: { query: { limit: 2, ...(cursor ? { cursor } : {}) } } });
      expect(data!.items.length).toBeLessThanOrEqual(2);
      seen.push(...data!.items.map((c) => c.id));
      cursor = data!.next_cursor ?? undefined;
    } while (cursor);
    const all = await client.GET('/v1/clusters', { params: { query: { limit: 100 } } });
    expect(seen).toEqual(all.data!.items.map((c) => c.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('changes labels with the current If-Match and refuses a stale one with 412', async () => {
    // given
    const { cluster } = await createCluster('labels', { labels: { env: 'staging' } });
    const read = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });
    const etag = read.data!.etag;

    // when the labels change under the etag just read
    const changed = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: cluster.id }, header: { 'If-Match': etag } },
      body: { labels: { env: 'prod', team: 'payments' } },
    });

    // then an RKE2 cluster's labels are Capstan's alone: 200 with the cluster, no operation
    expect(changed.response.status).toBe(200);
    const updated = changed.data as Cluster;
    expect(updated.labels).toEqual({ env: 'prod', team: 'payments' });
    expect(updated.etag).not.toBe(etag);
    expect(changed.response.headers.get('etag')).toBe(updated.etag);

    // and a second change under the old etag is refused, naming the current one
    const stale = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: cluster.id }, header: { 'If-Match': etag } },
      body: { labels: { env: 'dev' } },
    });
    const problem = expectProblem(stale, 412, 'precondition-failed');
    expect(problem.detail).toContain(updated.etag);
    const unchanged = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });
    expect(unchanged.data!.labels).toEqual({ env: 'prod', team: 'payments' });
  });

  it('refuses a second change while an operation is pending: 409 cluster-busy naming the operation', async () => {
    // given a cluster whose create operation is still pending
    const { cluster, operation } = await createCluster('busy');

    // when another pool is asked for, and the cluster deleted
    const pool = await client.POST('/v1/clusters/{cluster_id}/node-pools', {
      params: { path: { cluster_id: cluster.id } },
      body: { name: 'extra', machine_type: 'nine-standard-2', count: 1 },
    });
    const deletion = await client.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });

    // then both are refused, naming what holds the cluster
    for (const refused of [pool, deletion]) {
      const problem = expectProblem(refused, 409, 'cluster-busy');
      expect(problem).toMatchObject({ operation_id: operation.id, operation_type: 'create_cluster', cluster_id: cluster.id });
      expect(problem.detail).toContain(operation.id);
    }
    const pools = await client.GET('/v1/clusters/{cluster_id}/node-pools', { params: { path: { cluster_id: cluster.id } } });
    expect(pools.data!.items.map((p) => p.name)).toEqual(['default']);
  });

  it("starts an update_cluster operation for a GKE cluster's channel, window or labels, refused with 409 while another operation holds the cluster", async () => {
    const gke: Partial<CreateClusterRequest> = {
      provider: 'gke',
      region: 'europe-west6',
      node_pools: [{ name: 'default', machine_type: 'e2-standard-4', count: 1 }],
    };
    const window = { time_zone: 'Europe/Zurich', days: ['TU', 'WE', 'TH'] as ('TU' | 'WE' | 'TH')[], start_time: '10:00', duration_minutes: 240 };

    // given a GKE cluster whose create is still pending
    const { cluster, operation } = await createCluster('gke-settings', gke);

    // when its channel is changed: GKE must apply it, and the create holds the cluster
    const busy = await client.PATCH('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } }, body: { release_channel: 'stable' } });

    // then 409 naming the create, and nothing changed
    expect(expectProblem(busy, 409, 'cluster-busy')).toMatchObject({ operation_id: operation.id, operation_type: 'create_cluster' });
    const unchanged = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } })).data!;
    expect(unchanged.release_channel).toBe('regular');
    // while a change that is Capstan's alone still answers 200
    const flag = await client.PATCH('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } }, body: { auto_upgrade: false } });
    expect(flag.response.status).toBe(200);
    expect((flag.data as Cluster).auto_upgrade).toBe(false);

    // when the create has finished and the channel and window change under the current etag
    await finishAsWorkerWould(operation);
    const running = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } })).data!;
    const changed = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: cluster.id }, header: { 'If-Match': running.etag } },
      body: { release_channel: 'stable', maintenance_window: window },
    });

    // then 202 with the cluster updating and the operation that applies the change at GKE
    expect(changed.response.status).toBe(202);
    const accepted = changed.data as { cluster: Cluster; operation: Operation };
    expect(accepted.cluster).toMatchObject({ status: 'updating', release_channel: 'stable', maintenance_window: window });
    expect(accepted.operation).toMatchObject({ type: 'update_cluster', status: 'pending', target: { type: 'cluster', id: cluster.id } });
    expect(accepted.operation.steps.map((s) => s.name)).toEqual([...plannedSteps('update_cluster')]);
    const shown = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } })).data!;
    expect(shown).toMatchObject({ status: 'updating', etag: accepted.cluster.etag });

    // and the audit log has the change, the event stream the operation
    const audit = await client.GET('/v1/audit-events', { params: { query: { target_id: cluster.id, action: 'cluster.update' } } });
    expect(audit.data!.items[0]!.changes).toMatchObject({ releaseChannel: { before: 'regular', after: 'stable' }, maintenanceWindow: { before: null } });
    const events = await client.GET('/v1/events', { params: { query: { limit: 100 } } });
    expect(events.data!.items.some((e) => e.source === `/v1/operations/${accepted.operation.id}`)).toBe(true);

    // and it cannot be cancelled (the settings are saved; the way back is another PATCH)
    const cancel = await client.POST('/v1/operations/{operation_id}/cancel', { params: { path: { operation_id: accepted.operation.id } } });
    expect(expectProblem(cancel, 409, 'operation-not-cancellable').detail).toContain('PATCH');

    // and a second change while it runs is refused, naming it
    const second = await client.PATCH('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } }, body: { labels: { team: 'search' } } });
    expect(expectProblem(second, 409, 'cluster-busy')).toMatchObject({ operation_id: accepted.operation.id, operation_type: 'update_cluster' });

    // and an RKE2 cluster's window stays Capstan's: 200, no operation
    const rke2 = await runningCluster('rke2-window');
    const rke2Window = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: rke2.id } },
      body: { release_channel: 'stable', maintenance_window: { ...window, days: ['TU'] } },
    });
    expect(rke2Window.response.status).toBe(200);
    expect((rke2Window.data as Cluster).status).toBe('running');
  });

  it('adds a node pool to a running cluster, then scales it with If-Match: 202 and an operation each time', async () => {
    // given
    const cluster = await runningCluster('grow');

    // when a pool is added
    const added = await client.POST('/v1/clusters/{cluster_id}/node-pools', {
      params: { path: { cluster_id: cluster.id } },
      body: { name: 'batch', machine_type: 'nine-standard-8', count: 2, labels: { workload: 'batch' } },
    });

    // then
    expect(added.response.status).toBe(202);
    const pool = added.data!.node_pool;
    expect(added.response.headers.get('location')).toBe(`/v1/clusters/${cluster.id}/node-pools/${pool.id}`);
    expect(pool).toMatchObject({ cluster_id: cluster.id, name: 'batch', count: 2, status: 'provisioning' });
    expect(added.data!.operation).toMatchObject({ type: 'create_node_pool', status: 'pending', target: { type: 'node_pool', id: pool.id } });
    expect(added.data!.operation.steps.map((s) => s.name)).toEqual([...plannedSteps('create_node_pool')]);
    await finishAsWorkerWould(added.data!.operation);

    // when it is scaled under its current etag
    const current = await client.GET('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', {
      params: { path: { cluster_id: cluster.id, node_pool_id: pool.id } },
    });
    expect(current.response.headers.get('etag')).toBe(current.data!.etag);
    const scaled = await client.PATCH('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', {
      params: { path: { cluster_id: cluster.id, node_pool_id: pool.id }, header: { 'If-Match': current.data!.etag } },
      body: { count: 5 },
    });

    // then
    expect(scaled.response.status).toBe(202);
    expect(scaled.data!.node_pool).toMatchObject({ id: pool.id, count: 5, status: 'updating' });
    expect(scaled.data!.operation).toMatchObject({ type: 'scale_node_pool', status: 'pending', target: { type: 'node_pool', id: pool.id } });
    // and a scale under the etag from before is refused
    const stale = await client.PATCH('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', {
      params: { path: { cluster_id: cluster.id, node_pool_id: pool.id }, header: { 'If-Match': current.data!.etag } },
      body: { count: 6 },
    });
    expectProblem(stale, 412, 'precondition-failed');
  });

  it('cancels a pending operation, which puts the cluster back as it was; a finished one cannot be cancelled', async () => {
    // given a running cluster with a pending scale
    const cluster = await runningCluster('cancel-scale');
    const pool = cluster.node_pools[0]!;
    const scaled = await client.PATCH('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', {
      params: { path: { cluster_id: cluster.id, node_pool_id: pool.id } },
      body: { count: 4 },
    });
    expect(scaled.response.status).toBe(202);
    const operationId = scaled.data!.operation.id;
    const during = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });
    expect(during.data!.status).toBe('updating');

    // when
    const cancelled = await client.POST('/v1/operations/{operation_id}/cancel', { params: { path: { operation_id: operationId } } });

    // then
    expect(cancelled.response.status).toBe(200);
    expect(cancelled.data).toMatchObject({ id: operationId, status: 'cancelled', cancel_requested: true });
    expect(cancelled.data!.finished_at).not.toBeNull();
    const after = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });
    expect(after.data!.status).toBe('running');
    expect(after.data!.node_pools[0]!.status).toBe('running');
    const again = await client.POST('/v1/operations/{operation_id}/cancel', { params: { path: { operation_id: operationId } } });
    expectProblem(again, 409, 'operation-finished');
    // and with nothing pending, the cluster takes changes again
    const rescaled = await client.PATCH('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', {
      params: { path: { cluster_id: cluster.id, node_pool_id: pool.id } },
      body: { count: 2 },
    });
    expect(rescaled.response.status).toBe(202);
  });

  it('refuses to delete a cluster under deletion protection (409), and deletes it once protection is off (202)', async () => {
    // given a running cluster created with deletion protection
    const cluster = await runningCluster('protected', { deletion_protection: true });
    expect(cluster.deletion_protection).toBe(true);

    // when it is deleted
    const refused = await client.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });

    // then
    expect(expectProblem(refused, 409, 'deletion-protected').detail).toContain('deletion_protection');

    // when protection is turned off and it is deleted again
    const unprotected = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: cluster.id }, header: { 'If-Match': cluster.etag } },
      body: { deletion_protection: false },
    });
    expect(unprotected.response.status).toBe(200);
    expect((unprotected.data as Cluster).deletion_protection).toBe(false);
    const deleted = await client.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });

    // then
    expect(deleted.response.status).toBe(202);
    expect(deleted.data!.operation).toMatchObject({ type: 'delete_cluster', status: 'pending', target: { type: 'cluster', id: cluster.id } });
    expect(deleted.data!.operation.steps.map((s) => s.name)).toEqual([...plannedSteps('delete_cluster')]);
    const deleting = await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: cluster.id } } });
    expect(deleting.data!.status).toBe('deleting');
  });

  it('lists its operations newest first, filtered by cluster, status and type', async () => {
    // given a cluster with a finished create and a pending pool
    const cluster = await runningCluster('ops-list');
    const added = await client.POST('/v1/clusters/{cluster_id}/node-pools', {
      params: { path: { cluster_id: cluster.id } },
      body: { name: 'more', machine_type: 'nine-standard-2', count: 1 },
    });
    const pendingId = added.data!.operation.id;

    // when / then
    const ofCluster = await client.GET('/v1/operations', { params: { query: { cluster_id: cluster.id } } });
    expect(ofCluster.data!.items.map((o) => [o.type, o.status])).toEqual([
      ['create_node_pool', 'pending'],
      ['create_cluster', 'succeeded'],
    ]);
    const pending = await client.GET('/v1/operations', { params: { query: { cluster_id: cluster.id, status: 'pending' } } });
    expect(pending.data!.items.map((o) => o.id)).toEqual([pendingId]);
    const creates = await client.GET('/v1/operations', { params: { query: { type: 'create_cluster', limit: 100 } } });
    expect(creates.data!.items.length).toBeGreaterThan(1);
    expect(creates.data!.items.every((o) => o.type === 'create_cluster')).toBe(true);
  });

  it("keeps an audit log of its changes, with the token as actor and each request's id", async () => {
    // given a create and an update, each with a request id of the caller's own
    const created = await client.POST('/v1/clusters', { body: clusterRequest('audited'), headers: { 'X-Request-Id': 'sdk-e2e-create-audited' } });
    expect(created.response.headers.get('x-request-id')).toBe('sdk-e2e-create-audited');
    const clusterId = created.data!.cluster.id;
    await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: clusterId } },
      body: { labels: { audited: 'yes' } },
      headers: { 'X-Request-Id': 'sdk-e2e-update-audited' },
    });

    // when
    const { data, response } = await client.GET('/v1/audit-events', { params: { query: { target_id: clusterId } } });

    // then newest first, each naming the token, the request and what changed
    expect(response.status).toBe(200);
    expect(data!.items.map((e) => [e.action, e.request_id])).toEqual([
      ['cluster.update', 'sdk-e2e-update-audited'],
      ['cluster.create', 'sdk-e2e-create-audited'],
    ]);
    for (const event of data!.items) {
      expect(event).toMatchObject({
        organization_id: org.organizationId,
        actor: { type: 'api_token', id: org.tokenId },
        target: { type: 'cluster', id: clusterId },
      });
    }
    expect(data!.items[0]!.changes).toEqual({ labels: { before: {}, after: { audited: 'yes' } } });
    expect(data!.items[1]!.changes).toMatchObject({ name: { after: 'audited' }, region: { after: 'nine-cz41' } });
    // and the log filters by action
    const byAction = await client.GET('/v1/audit-events', { params: { query: { action: 'cluster.create', limit: 100 } } });
    expect(byAction.data!.items.every((e) => e.action === 'cluster.create')).toBe(true);
    expect(byAction.data!.items.map((e) => e.target.id)).toContain(clusterId);
  });

  it('replays a create sent again with the same Idempotency-Key instead of creating twice', async () => {
    // given
    const body = clusterRequest('idempotent');
    const key = 'sdk-e2e-idempotent-create';
    const first = await client.POST('/v1/clusters', { body, params: { header: { 'Idempotency-Key': key } } });
    expect(first.response.status).toBe(202);

    // when the same request is retried with the same key
    const retried = await client.POST('/v1/clusters', { body, params: { header: { 'Idempotency-Key': key } } });

    // then the first answer comes back, headers included, and only one cluster exists
    expect(retried.response.status).toBe(202);
    expect(retried.response.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.data!.cluster.id).toBe(first.data!.cluster.id);
    expect(retried.data!.operation.id).toBe(first.data!.operation.id);
    expect(retried.response.headers.get('location')).toBe(first.response.headers.get('location'));
    const named = await client.GET('/v1/clusters', { params: { query: { limit: 100 } } });
    expect(named.data!.items.filter((c) => c.name === 'idempotent')).toHaveLength(1);

    // and the same key with another body is refused
    const reused = await client.POST('/v1/clusters', { body: clusterRequest('idempotent-2'), params: { header: { 'Idempotency-Key': key } } });
    expectProblem(reused, 422, 'idempotency-key-reused');
  });

  it('sends generated Idempotency-Keys when the client is built to', async () => {
    // given a client whose key generator is deterministic, as a retrying caller's would be
    const retrying = createCapstanClient({ baseUrl, token: org.token, idempotencyKeys: () => 'sdk-e2e-generated-key' });
    // when the same create is sent twice
    const first = await retrying.POST('/v1/clusters', { body: clusterRequest('generated-key') });
    const second = await retrying.POST('/v1/clusters', { body: clusterRequest('generated-key') });
    // then the second is the first replayed
    expect(first.response.status).toBe(202);
    expect(second.response.headers.get('idempotent-replayed')).toBe('true');
    expect(second.data!.cluster.id).toBe(first.data!.cluster.id);
  });

  it('creates a token whose secret is shown once and works, and answers 401 once it is revoked', async () => {
    // when a read-only token is created
    const created = await client.POST('/v1/tokens', { body: { name: 'ci-readonly', scopes: ['read'], expires_in_seconds: 3600 } });

    // then its secret comes once, and lists never show it
    expect(created.response.status).toBe(201);
    const token = created.data!;
    expect(token.secret).toMatch(/^cap_[A-Za-z0-9_-]{43}$/);
    expect(token.secret.startsWith(token.display_prefix)).toBe(true);
    expect(token).toMatchObject({ name: 'ci-readonly', scopes: ['read'] });
    const listed = await client.GET('/v1/tokens');
    expect(listed.data!.items.map((t) => t.id)).toContain(token.id);
    expect(JSON.stringify(listed.data)).not.toContain(token.secret);

    // and the secret works, for reading only
    const readOnly = createCapstanClient({ baseUrl, token: token.secret });
    const read = await readOnly.GET('/v1/organization');
    expect(read.response.status).toBe(200);
    expect(read.data!.id).toBe(org.organizationId);
    expectProblem(await readOnly.POST('/v1/clusters', { body: clusterRequest('read-only-try') }), 403, 'insufficient-scope');

    // when it is revoked
    const revoked = await client.DELETE('/v1/tokens/{token_id}', { params: { path: { token_id: token.id } } });

    // then
    expect(revoked.response.status).toBe(204);
    expectProblem(await readOnly.GET('/v1/organization'), 401, 'unauthenticated');
    const afterRevoke = await client.GET('/v1/tokens');
    expect(afterRevoke.data!.items.map((t) => t.id)).not.toContain(token.id);
    const audit = await client.GET('/v1/audit-events', { params: { query: { target_id: token.id } } });
    expect(audit.data!.items.map((e) => e.action)).toEqual(['token.revoke', 'token.create']);
  });

  it('answers 401 problem+json to a token that does not exist', async () => {
    const stranger = createCapstanClient({ baseUrl, token: `cap_${'x'.repeat(43)}` });
    expectProblem(await stranger.GET('/v1/clusters'), 401, 'unauthenticated');
  });
});
