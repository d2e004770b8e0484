import { createCapstanClient } from '@capstan/sdk';
import { Rke2Driver } from '@capstan/providers';
import { seedOrganization, type Stack, startStack, waitForOperation } from '@capstan/testing';
import { DriverSuite, onDriverStack } from './driver-suite';

/**
 * POST /v1/clusters/{id}/upgrade on the real drivers against the emulators (docs/upgrades.md,
 * "Running an upgrade"): the operation's steps come from the planner, the control plane moves
 * before the pools, each step follows the provider's own operation, and kubectl sees the nodes at
 * the new version.
 */
describe('cluster upgrades on the real drivers', () => {
  const suite = onDriverStack(new DriverSuite(), 'capstan-upgrades-');

  afterAll(() => jest.restoreAllMocks());

  async function kubeletVersions(clusterId: string): Promise<string[]> {
    // GKE's own system pool is not one of the customer's pools (see docs/upgrades.md, "Running an upgrade").
    const customers = (await suite.nodes(clusterId)).filter((n) => n.metadata.labels['cloud.google.com/gke-nodepool'] !== 'capstan-system');
    return [...new Set(customers.map((n) => n.status.nodeInfo.kubeletVersion))];
  }

  const upgrade = (clusterId: string, version: string) =>
    suite.client.POST('/v1/clusters/{cluster_id}/upgrade', { params: { path: { cluster_id: clusterId } }, body: { version } });

  it('upgrades an RKE2 cluster from 1.35 to 1.36: control plane first, then each pool; kubectl sees every node at 1.36', async () => {
    const clusterId = await suite.createCluster('rke2', 'upgrade-rke2', '1.35', ['apps', 'batch']);
    const target = await suite.patchOf('rke2', '1.36');

    const accepted = await upgrade(clusterId, '1.36');
    expect(accepted.response.status).toBe(202);
    const operation = accepted.data!.operation;
    expect(operation.type).toBe('upgrade_cluster');
    expect(operation.steps.map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      `backup_before_hop:${target}`,
      `upgrade_control_plane:${target}`,
      `upgrade_node_pool:apps:${target}`,
      `upgrade_node_pool:batch:${target}`,
      'mark_upgraded',
    ]);
    expect((await suite.getCluster(clusterId)).status).toBe('upgrading');
    // one mutating operation per cluster
    const second = await upgrade(clusterId, '1.36');
    expect(second.response.status).toBe(409);
    expect(second.response.headers.get('content-type')).toContain('application/problem+json');

    const done = await suite.finished(operation.id);
    expect(done).toMatchObject({ status: 'succeeded' });
    // Each step started after the one before it finished: the control plane before any pool.
    const steps = await suite.stack.database
      .selectFrom('operation_steps')
      .select(['name', 'started_at', 'finished_at', 'checkpoint'])
      .where('operation_id', '=', operation.id)
      .orderBy('position')
      .execute();
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.started_at!.getTime()).toBeGreaterThanOrEqual(steps[i - 1]!.finished_at!.getTime());
    // (step 1 is the etcd snapshot before the hop; docs/backups.md)
    expect(steps[2]!.checkpoint).toMatchObject({ operation: { provider: 'rke2', kind: expect.any(String), version: target } });
    // the etcd snapshot before the hop, kept until the upgrade succeeded (docs/backups.md)
    const snapshot = await suite.stack.database.selectFrom('backups').selectAll().where('operation_id', '=', operation.id).executeTakeFirstOrThrow();
    expect(snapshot).toMatchObject({ purpose: 'pre_upgrade', kind: 'etcd_snapshot', status: 'succeeded', taken_before_version: target });

    const cluster = await suite.getCluster(clusterId);
    expect(cluster).toMatchObject({ status: 'running', current_version: target });
    expect(cluster.node_pools.map((p) => p.version)).toEqual([target, target]);
    expect(await kubeletVersions(clusterId)).toEqual([`v${target}+rke2r1`]);

    const audit = await suite.stack.database
      .selectFrom('audit_events')
      .select(['action'])
      .where('target_id', '=', clusterId)
      .where('action', '=', 'cluster.upgrade')
      .execute();
    expect(audit).toHaveLength(1);
  }, 300_000);

  it('refuses with problem+json what the planner refuses: a downgrade, an unknown version, a blocked two-minor plan', async () => {
    const clusterId = await suite.createCluster('rke2', 'upgrade-refusals', '1.35', ['apps']);
    const problem = async (version: string) => {
      const res = await upgrade(clusterId, version);
      expect(res.response.status).toBe(422);
      expect(res.response.headers.get('content-type')).toContain('application/problem+json');
      return res.error as unknown as { type: string; rule: string; blockers?: { kind: string }[] };
    };
    expect(await problem('1.34')).toMatchObject({ type: expect.stringContaining('version-downgrade'), rule: 'never downgrade' });
    expect(await problem('1.99')).toMatchObject({ type: expect.stringContaining('version-not-offered') });
    // 1.35 -> 1.37 is planned as two hops; the managed add-ons have no qualified version for 1.37 yet.
    const plan = (await suite.client.GET('/v1/clusters/{cluster_id}/upgrade-plan', { params: { path: { cluster_id: clusterId }, query: { version: '1.37' } } }))
      .data!;
    expect(plan.hops.map((h) => h.to.split('.').slice(0, 2).join('.'))).toEqual(['1.36', '1.37']);
    const blocked = await problem('1.37');
    expect(blocked).toMatchObject({ type: expect.stringContaining('upgrade-blocked') });
    expect(blocked.blockers!.map((b) => b.kind)).toEqual(plan.blockers.map((b) => b.kind));
    // nothing was started
    expect(await suite.getCluster(clusterId)).toMatchObject({ status: 'running', desired_version: plan.from });
  }, 300_000);

  it('resumes the same ProviderOperation after a worker restart mid-wait: the control plane is asked to upgrade once', async () => {
    const clusterId = await suite.createCluster('rke2', 'upgrade-restart', '1.35', ['apps']);
    const calls = jest.spyOn(Rke2Driver.prototype, 'upgradeControlPlane');
    calls.mockClear();
    const operation = (await upgrade(clusterId, '1.36')).data!.operation;
    // wait until the control-plane step has yielded with the provider's operation recorded
    const deadline = Date.now() + 120_000;
    type Wait = { state: { operation?: { name: string } } };
    let wait = null as Wait | null;
    while (!wait?.state.operation) {
      if (Date.now() > deadline) throw new Error('the control-plane step never waited');
      const step = await suite.stack.database
        .selectFrom('operation_steps')
        .select(['wait'])
        .where('operation_id', '=', operation.id)
        .where('position', '=', 2)
        .executeTakeFirstOrThrow();
      wait = step.wait as Wait | null;
      await new Promise((r) => setTimeout(r, 20));
    }
    await suite.stack.restartWorker();
    expect(await suite.finished(operation.id)).toMatchObject({ status: 'succeeded' });
    expect(calls).toHaveBeenCalledTimes(1);
    const step = await suite.stack.database
      .selectFrom('operation_steps')
      .select(['checkpoint'])
      .where('operation_id', '=', operation.id)
      .where('position', '=', 2)
      .executeTakeFirstOrThrow();
    expect((step.checkpoint as { operation: { name: string } }).operation.name).toBe(wait!.state.operation!.name);
    expect(await suite.getCluster(clusterId)).toMatchObject({ status: 'running', current_version: expect.stringMatching(/^1\.36\./) });
  }, 300_000);

  it('installs the managed add-ons that go with the new minor after a hop that changes them (1.32 to 1.33)', async () => {
    // Both minors are end of life by the seeded dates; this suite's catalogue keeps them supported.
    await suite.stack.database
      .updateTable('kubernetes_versions')
      .set({ maintenance_at: null, end_of_support_at: new Date('2099-01-01') })
      .where('provider', '=', 'rke2')
      .where('minor', 'in', ['1.32', '1.33'])
      .execute();
    const clusterId = await suite.createCluster('rke2', 'upgrade-addons', '1.32', ['apps']);
    const accepted = await upgrade(clusterId, '1.33');
    expect(accepted.response.status).toBe(202);
    const names = accepted.data!.operation.steps.map((s) => s.name);
    expect(names.slice(-2)).toEqual([expect.stringMatching(/^upgrade_addons:1\.33\./), 'mark_upgraded']);
    expect(await suite.finished(accepted.data!.operation.id)).toMatchObject({ status: 'succeeded' });

    // CoreDNS is the add-on 1.33 changes, and RKE2 bundles it: it moved with the control plane,
    // while Capstan's own charts were applied again at their versions for 1.33.
    const step = await suite.stack.database
      .selectFrom('operation_steps')
      .select(['checkpoint'])
      .where('operation_id', '=', accepted.data!.operation.id)
      .where('name', 'like', 'upgrade_addons:%')
      .executeTakeFirstOrThrow();
    // the add-on catalogue's releases for 1.33 (docs/addons.md): CoreDNS moves with RKE2, cert-manager to its 1.33 release
    expect(step.checkpoint).toMatchObject({
      changes: expect.arrayContaining([
        { name: 'coredns', from: '1.11.3', to: '1.14.6' },
        { name: 'cert-manager', from: 'v1.19.1', to: 'v1.21.2' },
      ]),
      bundled: expect.arrayContaining(['coredns']),
    });
    expect((step.checkpoint as { applied: string[] }).applied).toContain('cert-manager');
    expect((await suite.getCluster(clusterId)).current_version).toMatch(/^1\.33\./);
  }, 300_000);

  it('upgrades a GKE cluster by one minor through the Container API operations', async () => {
    const clusterId = await suite.createCluster('gke', 'upgrade-gke', '1.35', ['apps']);
    const target = await suite.patchOf('gke', '1.36');
    const accepted = await upgrade(clusterId, target);
    expect(accepted.response.status).toBe(202);
    const done = await suite.finished(accepted.data!.operation.id);
    expect(done).toMatchObject({ status: 'succeeded' });
    const controlPlane = await suite.stack.database
      .selectFrom('operation_steps')
      .select(['checkpoint'])
      .where('operation_id', '=', accepted.data!.operation.id)
      .where('position', '=', 2)
      .executeTakeFirstOrThrow();
    expect(controlPlane.checkpoint).toMatchObject({ operation: { provider: 'gke', kind: 'gke-operation', version: target } });
    const cluster = await suite.getCluster(clusterId);
    expect(cluster).toMatchObject({ status: 'running', current_version: target });
    expect(await kubeletVersions(clusterId)).toEqual([`v${target}`]);
  }, 300_000);
});

describe('cluster upgrades on the older simulated cloud (PROVIDER=simulated)', () => {
  let stack: Stack;
  let client: ReturnType<typeof createCapstanClient>;

  beforeAll(async () => {
    stack = await startStack();
    client = createCapstanClient({ baseUrl: stack.apiUrl, token: (await seedOrganization(stack.prisma)).token, idempotencyKeys: true });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('fails the upgrade for good at its preflight, saying upgrades need the drivers, and leaves the cluster running', async () => {
    const versions = (await client.GET('/v1/versions', {})).data!.items;
    const created = await client.POST('/v1/clusters', {
      body: {
        name: 'simulated',
        provider: 'rke2',
        region: 'nine-cz41',
        version: versions.find((v) => v.provider === 'rke2' && v.minor === '1.35')!.latest_patch,
        node_pools: [{ name: 'apps', machine_type: 'nine-standard-2', count: 1 }],
      },
    });
    await waitForOperation(stack.database, created.data!.operation.id, ['succeeded'], 60_000);
    const accepted = await client.POST('/v1/clusters/{cluster_id}/upgrade', {
      params: { path: { cluster_id: created.data!.cluster.id } },
      body: { version: '1.36' },
    });
    expect(accepted.response.status).toBe(202);
    const failed = await waitForOperation(stack.database, accepted.data!.operation.id, ['failed'], 60_000);
    expect(failed.error).toMatchObject({
      code: 'driver_unavailable',
      step: 'preflight_removed_apis',
      message: expect.stringContaining('upgrades run only on the drivers'),
    });
    const cluster = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: created.data!.cluster.id } } })).data!;
    expect(cluster).toMatchObject({ status: 'running', current_version: expect.stringMatching(/^1\.35\./) });

    // A failed operation does not resume; the problem names the operation's status in a member of
    // its own, since `status` is the problem's HTTP status (RFC 9457).
    const resumed = await client.POST('/v1/operations/{operation_id}/resume', { params: { path: { operation_id: accepted.data!.operation.id } } });
    expect(resumed.response.status).toBe(409);
    expect(resumed.error).toMatchObject({ status: 409, type: expect.stringContaining('operation-not-resumable'), operation_status: 'failed' });
  }, 120_000);
});
