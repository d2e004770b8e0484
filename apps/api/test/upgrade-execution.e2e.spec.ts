import { createCapstanClient } from '@capstan/sdk';
import { externalClusterName, externalNodePoolName } from '@capstan/providers';
import { seedOrganization } from '@capstan/testing';
import { sql } from 'kysely';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client, DriverSuite, onDriverStack } from './driver-suite';

/**
 * Upgrades run node by node on the real drivers against the emulators (docs/upgrades.md, "Running
 * an upgrade", "Node by node", "Drains", "Rolling a pool back"): two minors as two hops in order,
 * a worker restart in the middle, GKE's system pool, a failed pool rolled back, and a drain a
 * PodDisruptionBudget blocks pausing the operation until the customer relaxes it and resumes.
 */
/** The driver suite with what these upgrade suites add; an upgrade of two hops may take its time. */
class UpgradeSuite extends DriverSuite {
  constructor() {
    super(240_000);
  }

  /** Both minors are end of life by the seeded dates; these suites keep them supported. */
  async keepSupported(provider: 'rke2' | 'gke', minors: string[]) {
    await this.stack.database
      .updateTable('kubernetes_versions')
      .set({ maintenance_at: null, standard_support_ends_at: null, end_of_support_at: new Date('2099-01-01') })
      .where('provider', '=', provider)
      .where('minor', 'in', minors)
      .execute();
  }

  upgrade(clusterId: string, version: string) {
    return this.client.POST('/v1/clusters/{cluster_id}/upgrade', { params: { path: { cluster_id: clusterId } }, body: { version } });
  }

  steps(operationId: string) {
    return this.stack.database
      .selectFrom('operation_steps')
      .select(['name', 'status', 'started_at', 'finished_at', 'checkpoint', 'wait'])
      .where('operation_id', '=', operationId)
      .orderBy('position')
      .execute();
  }
}

describe('upgrades node by node on the real drivers', () => {
  const h = onDriverStack(new UpgradeSuite(), 'capstan-upgrade-execution-');

  it('RKE2: two minors with two pools run as two hops in order, control plane first, through a worker restart; the Machines say the same', async () => {
    await h.keepSupported('rke2', ['1.34', '1.35']);
    const clusterId = await h.createCluster('rke2', 'two-hops-rke2', '1.34', ['apps', 'batch']);
    const [hop1, hop2] = [await h.patchOf('rke2', '1.35'), await h.patchOf('rke2', '1.36')];

    // Every Machine of the cluster as the management cluster shows it, first seen when: replaced
    // machines are gone by the end, so the order is read while the rollout runs.
    const management = h.stack.simulator.kube.server('management');
    const seen = new Map<string, { controlPlane: boolean; version: string; at: number }>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const machines = await management.list('cluster.x-k8s.io/v1beta1', 'Machine', {
          labelSelector: `cluster.x-k8s.io/cluster-name=${externalClusterName(clusterId)}`,
        });
        const now = Date.now();
        for (const m of machines) {
          // By uid: a replacement may reuse the name of a machine it replaced.
          const key = m.metadata.uid ?? m.metadata.name;
          if (seen.has(key)) continue;
          const version = String((m.spec as { version?: string }).version ?? '')
            .replace(/^v/, '')
            .replace(/\+.*$/, '');
          seen.set(key, { controlPlane: m.metadata.labels?.['cluster.x-k8s.io/control-plane'] !== undefined, version, at: now });
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const accepted = await h.upgrade(clusterId, '1.36');
    expect(accepted.response.status).toBe(202);
    const operation = accepted.data!.operation;
    expect(operation.steps.map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      `backup_before_hop:${hop1}`,
      `upgrade_control_plane:${hop1}`,
      `upgrade_node_pool:apps:${hop1}`,
      `upgrade_node_pool:batch:${hop1}`,
      ...operation.steps.filter((s) => s.name === `upgrade_addons:${hop1}`).map((s) => s.name),
      `backup_before_hop:${hop2}`,
      `upgrade_control_plane:${hop2}`,
      `upgrade_node_pool:apps:${hop2}`,
      `upgrade_node_pool:batch:${hop2}`,
      ...operation.steps.filter((s) => s.name === `upgrade_addons:${hop2}`).map((s) => s.name),
      'mark_upgraded',
    ]);

    // The worker goes away while the first hop's pool waits on its rollout; another takes over.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const step = (await h.steps(operation.id)).find((s) => s.name === `upgrade_node_pool:apps:${hop1}`)!;
      if ((step.wait as { state?: { operation?: unknown } } | null)?.state?.operation) break;
      if (step.status === 'succeeded') break;
      if (Date.now() > deadline) throw new Error('the first pool step never waited');
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.stack.restartWorker();

    const done = await h.finished(operation.id);
    watching = false;
    await watcher;
    expect(done).toMatchObject({ status: 'succeeded' });

    // Order from the operation: each step started after the one before it finished.
    const rows = await h.steps(operation.id);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.started_at!.getTime()).toBeGreaterThanOrEqual(rows[i - 1]!.finished_at!.getTime());
    // Each rollout was asked for once: every driver step followed its own provider change. The
    // backup before each hop checkpoints an etcd-snapshot handle of its own (one per hop).
    type Handle = { kind: string; name: string; version: string };
    const handles = rows.map((r) => (r.checkpoint as { operation?: Handle } | null)?.operation).filter((o): o is Handle => !!o);
    const rollouts = handles.filter((o) => o.kind === 'capi-rollout');
    expect(rollouts).toHaveLength(6);
    expect(new Set(rollouts.map((o) => `${o.name}@${o.version}`)).size).toBe(6);
    expect(handles.filter((o) => o.kind === 'etcd-snapshot')).toHaveLength(2);
    // Node-level progress kept with each pool step.
    const poolStep = done.steps.find((s) => s.name === `upgrade_node_pool:apps:${hop2}`)!;
    expect(poolStep.progress).toMatchObject({ summary: `1 of 1 machines at ${hop2}`, nodes: [{ state: 'ready', version: hop2 }] });

    // Order from the emulator's objects: per hop, every control-plane machine before any pool
    // machine of that version, and the second hop's control plane after the first hop's pools.
    const at = (controlPlane: boolean, version: string) =>
      [...seen.values()].filter((m) => m.controlPlane === controlPlane && m.version === version).map((m) => m.at);
    for (const [version, next] of [
      [hop1, hop2],
      [hop2, null],
    ] as const) {
      const cp = at(true, version);
      const pools = at(false, version);
      if (cp.length === 0)
        throw new Error(
          `no control-plane machine at ${version} was seen: ${[...seen.values()].map((m) => `${m.controlPlane ? 'cp' : 'pool'}@${m.version}`).join(', ')}`,
        );
      expect(pools).toHaveLength(2);
      expect(Math.max(...cp)).toBeLessThanOrEqual(Math.min(...pools));
      if (next) expect(Math.max(...pools)).toBeLessThanOrEqual(Math.min(...at(true, next)));
    }

    const cluster = await h.getCluster(clusterId);
    expect(cluster).toMatchObject({ status: 'running', current_version: hop2, desired_version: hop2 });
    expect(cluster.node_pools.map((p) => p.version)).toEqual([hop2, hop2]);
    expect([...new Set((await h.nodes(clusterId)).map((n) => n.status.nodeInfo.kubeletVersion))]).toEqual([`v${hop2}+rke2r1`]);
  }, 420_000);

  it("GKE: two minors with two pools run as two hops, control plane first, then the customer's pools, then GKE's own system pool", async () => {
    await h.keepSupported('gke', ['1.34', '1.35']);
    const clusterId = await h.createCluster('gke', 'two-hops-gke', '1.34', ['apps', 'batch']);
    const [hop1, hop2] = [await h.patchOf('gke', '1.35'), await h.patchOf('gke', '1.36')];
    const accepted = await h.upgrade(clusterId, '1.36');
    expect(accepted.response.status).toBe(202);
    const names = accepted.data!.operation.steps.map((s) => s.name).filter((n) => !n.startsWith('upgrade_addons:'));
    expect(names).toEqual([
      'preflight_removed_apis',
      `backup_before_hop:${hop1}`,
      `upgrade_control_plane:${hop1}`,
      `upgrade_node_pool:apps:${hop1}`,
      `upgrade_node_pool:batch:${hop1}`,
      `upgrade_system_pool:capstan-system:${hop1}`,
      `backup_before_hop:${hop2}`,
      `upgrade_control_plane:${hop2}`,
      `upgrade_node_pool:apps:${hop2}`,
      `upgrade_node_pool:batch:${hop2}`,
      `upgrade_system_pool:capstan-system:${hop2}`,
      'mark_upgraded',
    ]);
    const done = await h.finished(accepted.data!.operation.id);
    expect(done).toMatchObject({ status: 'succeeded' });
    expect(done.steps.find((s) => s.name === `upgrade_node_pool:batch:${hop2}`)!.progress).toMatchObject({ summary: '1 of 1 nodes upgraded by surge' });

    // Order from the emulated Container API's own operations, in the order GKE started them.
    const { rows } = await sql<{ operation_type: string; node_pool: string | null; version: string | null }>`
      SELECT operation_type, node_pool, effect->>'version' AS version FROM simulator.gke_operations
       WHERE cluster = ${externalClusterName(clusterId)} AND operation_type IN ('UPGRADE_MASTER', 'UPGRADE_NODES') ORDER BY start_time, name`.execute(
      h.stack.database,
    );
    const pools = (await h.getCluster(clusterId)).node_pools;
    const external = (name: string) => externalNodePoolName(pools.find((p) => p.name === name)!.id);
    const order = rows.map((r) => (r.operation_type === 'UPGRADE_MASTER' ? `master@${r.version}` : `${r.node_pool}@${r.version}`));
    expect(order).toEqual([
      `master@${hop1}`,
      `${external('apps')}@${hop1}`,
      `${external('batch')}@${hop1}`,
      `capstan-system@${hop1}`,
      `master@${hop2}`,
      `${external('apps')}@${hop2}`,
      `${external('batch')}@${hop2}`,
      `capstan-system@${hop2}`,
    ]);
    // Every node, GKE's system pool included, runs the target.
    expect([...new Set((await h.nodes(clusterId)).map((n) => n.status.nodeInfo.kubeletVersion))]).toEqual([`v${hop2}`]);
    expect(await h.getCluster(clusterId)).toMatchObject({ status: 'running', current_version: hop2, desired_version: hop2 });
  }, 420_000);

  it('a failed node pool upgrade leaves the cluster desiring what runs, and POST .../rollback moves the pool back while the control plane stays', async () => {
    await h.keepSupported('gke', ['1.34', '1.35']);
    const clusterId = await h.createCluster('gke', 'rollback-gke', '1.34', ['apps']);
    const [from, hop1] = [await h.patchOf('gke', '1.34'), await h.patchOf('gke', '1.35')];
    // New nodes fail to come up: the control plane moves, the pool's upgrade fails.
    const armed = await fetch(`${h.stack.simulator.apiUrl}/v1/chaos/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.stack.env.SIMULATOR_API_TOKEN}` },
      body: JSON.stringify({ match: { call: 'gke.nodes.create', cluster: externalClusterName(clusterId) }, mode: 'fail_always', retryable: false }),
    });
    expect(armed.status).toBe(201);
    const accepted = await h.upgrade(clusterId, '1.36');
    const failed = await h.finished(accepted.data!.operation.id);
    await fetch(`${h.stack.simulator.apiUrl}/v1/chaos/faults`, { method: 'DELETE', headers: { authorization: `Bearer ${h.stack.env.SIMULATOR_API_TOKEN}` } });
    expect(failed).toMatchObject({ status: 'failed', error: { step: `upgrade_node_pool:apps:${hop1}` } });
    // The target 1.36 is not left as what the cluster desires: it desires what runs (1.35).
    expect(await h.getCluster(clusterId)).toMatchObject({ status: 'running', current_version: hop1, desired_version: hop1 });

    const notAnUpgrade = await h.client.POST('/v1/operations/{operation_id}/rollback', {
      params: { path: { operation_id: accepted.data!.operation.id.replace(/.$/, '0') } },
    });
    expect(notAnUpgrade.response.status).toBe(404);
    expect(notAnUpgrade.response.headers.get('content-type')).toContain('application/problem+json');

    const rollback = await h.client.POST('/v1/operations/{operation_id}/rollback', { params: { path: { operation_id: accepted.data!.operation.id } } });
    expect(rollback.response.status).toBe(202);
    expect(rollback.data!.operation.steps.map((s) => s.name)).toEqual([`rollback_node_pool:apps:${from}`, 'mark_upgraded']);
    expect(await h.finished(rollback.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    const cluster = await h.getCluster(clusterId);
    expect(cluster).toMatchObject({ status: 'running', current_version: hop1, desired_version: hop1 });
    expect(cluster.node_pools.map((p) => p.version)).toEqual([from]);

    // A finished rollback is not rolled back again, and says why.
    const again = await h.client.POST('/v1/operations/{operation_id}/rollback', { params: { path: { operation_id: rollback.data!.operation.id } } });
    expect(again.response.status).toBe(409);
    expect(again.error).toMatchObject({ type: expect.stringContaining('operation-not-rollbackable'), rule: expect.any(String) });
    // Nor is the failed upgrade rolled back twice: its pool is no longer where it left it.
    const twice = await h.client.POST('/v1/operations/{operation_id}/rollback', { params: { path: { operation_id: accepted.data!.operation.id } } });
    expect(twice.response.status).toBe(409);
    expect(twice.error).toMatchObject({ type: expect.stringContaining('operation-not-rollbackable'), superseded_by: rollback.data!.operation.id });
    const audit = await h.stack.database
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', clusterId)
      .where('action', '=', 'cluster.rollback')
      .execute();
    expect(audit).toHaveLength(1);
  }, 420_000);
});

describe('a drain a PodDisruptionBudget blocks (RKE2)', () => {
  // A short drain timeout: past it, the upgrade asks for a person instead of waiting on. The
  // budget's block never clears by itself, so the pause comes whatever the timeout. 20 s is many
  // times what an unblocked drain takes on the emulators (a whole two-hop upgrade above, every drain
  // included, takes a few seconds on a quiet machine), so only the blocked one is overdue; 6 s was
  // not: beside CPU burners the control plane's evicted system pods were still terminating at 6 s,
  // and the pause named them instead of the budget (docs/upgrades.md, "Drains").
  const h = onDriverStack(new UpgradeSuite(), 'capstan-upgrade-drain-', { env: { UPGRADE_DRAIN_TIMEOUT_MS: '20000' } });
  let other: Client;

  beforeAll(async () => {
    other = createCapstanClient({ baseUrl: h.stack.apiUrl, token: (await seedOrganization(h.stack.prisma, { name: 'other-org' })).token });
  });

  /** A pod on the pool's node that a PodDisruptionBudget allows no eviction of. */
  async function protectedPod(clusterId: string) {
    const kubeconfig = await h.kubeconfigOf(clusterId);
    const poolId = (await h.getCluster(clusterId)).node_pools[0]!.id;
    const node = (await h.nodes(clusterId)).find((n) => n.metadata.labels['capstan.io/node-pool'] === poolId)!.metadata.name;
    const manifest = join(h.dir, 'web.yaml');
    await writeFile(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: web-0, namespace: default, labels: {app: web}}',
        `spec: {nodeName: ${node}, containers: [{name: web, image: "nginx:1.29"}]}`,
        '---',
        'apiVersion: policy/v1',
        'kind: PodDisruptionBudget',
        'metadata: {name: web, namespace: default}',
        'spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}',
        '',
      ].join('\n'),
    );
    await h.kubectl(kubeconfig, 'apply', '-f', manifest);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const pdb = JSON.parse(await h.kubectl(kubeconfig, 'get', 'pdb', 'web', '-n', 'default', '-o', 'json')) as {
        status?: { currentHealthy?: number; disruptionsAllowed?: number };
      };
      if (pdb.status?.currentHealthy === 1 && pdb.status.disruptionsAllowed === 0) break;
      if (Date.now() > deadline) throw new Error(`the budget never counted its pod: ${JSON.stringify(pdb.status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { kubeconfig, node };
  }

  it('pauses the upgrade as needs_attention naming the budget and its pod; after kubectl relaxes it, resume finishes the upgrade', async () => {
    const clusterId = await h.createCluster('rke2', 'drain-blocked', '1.35', ['apps']);
    const target = await h.patchOf('rke2', '1.36');
    const { kubeconfig, node } = await protectedPod(clusterId);

    const accepted = await h.upgrade(clusterId, '1.36');
    expect(accepted.response.status).toBe(202);
    const operationId = accepted.data!.operation.id;
    const paused = await h.finished(operationId);
    expect(paused).toMatchObject({
      status: 'needs_attention',
      error: {
        code: 'needs_attention',
        reason: 'drain_blocked',
        step: `upgrade_node_pool:apps:${target}`,
        message: expect.stringContaining('PodDisruptionBudget default/web'),
        drains: [
          {
            node,
            budgets: [{ namespace: 'default', name: 'web' }],
            pods: expect.arrayContaining([expect.objectContaining({ namespace: 'default', name: 'web-0' })]),
          },
        ],
        progress: { nodes: expect.arrayContaining([expect.objectContaining({ node, state: 'draining' })]) },
      },
    });
    // The cluster is held: still upgrading, and no other change is taken.
    expect(await h.getCluster(clusterId)).toMatchObject({ status: 'upgrading' });
    expect((await h.upgrade(clusterId, '1.36')).response.status).toBe(409);
    // Nothing was forced: the pod is still there, its node cordoned.
    expect(JSON.parse(await h.kubectl(kubeconfig, 'get', 'node', node, '-o', 'json')).spec.unschedulable).toBe(true);
    expect(await h.kubectl(kubeconfig, 'get', 'pod', 'web-0', '-n', 'default', '-o', 'name')).toContain('web-0');

    // Another organisation does not see it; an operation that is not paused does not resume.
    const foreign = await other.POST('/v1/operations/{operation_id}/resume', { params: { path: { operation_id: operationId } } });
    expect(foreign.response.status).toBe(404);
    const createOp = (await h.client.GET('/v1/operations', { params: { query: { cluster_id: clusterId, type: 'create_cluster' } } })).data!.items[0]!;
    const notPaused = await h.client.POST('/v1/operations/{operation_id}/resume', { params: { path: { operation_id: createOp.id } } });
    expect(notPaused.response.status).toBe(409);
    expect(notPaused.response.headers.get('content-type')).toContain('application/problem+json');
    expect(notPaused.error).toMatchObject({ type: expect.stringContaining('operation-not-resumable'), rule: 'only needs_attention operations resume' });

    await h.kubectl(kubeconfig, 'patch', 'pdb', 'web', '-n', 'default', '--type', 'merge', '-p', '{"spec":{"minAvailable":0}}');
    const resumed = await h.client.POST('/v1/operations/{operation_id}/resume', { params: { path: { operation_id: operationId } } });
    expect(resumed.response.status).toBe(200);
    expect(resumed.data).toMatchObject({ status: 'pending', error: null });
    expect(await h.finished(operationId)).toMatchObject({ status: 'succeeded', error: null });
    const cluster = await h.getCluster(clusterId);
    expect(cluster).toMatchObject({ status: 'running', current_version: target, desired_version: target });
    expect(cluster.node_pools.map((p) => p.version)).toEqual([target]);
    const audit = await h.stack.database
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', operationId)
      .where('action', '=', 'operation.resume')
      .execute();
    expect(audit).toHaveLength(1);
  }, 420_000);

  it('cancels a paused upgrade: it ends cancelled, the cluster runs again and desires what runs', async () => {
    const clusterId = await h.createCluster('rke2', 'drain-cancel', '1.35', ['apps']);
    await protectedPod(clusterId);
    const operationId = (await h.upgrade(clusterId, '1.36')).data!.operation.id;
    expect(await h.finished(operationId)).toMatchObject({ status: 'needs_attention' });
    const cancel = await h.client.POST('/v1/operations/{operation_id}/cancel', { params: { path: { operation_id: operationId } } });
    expect(cancel.response.status).toBe(200);
    expect(cancel.data).toMatchObject({ status: 'pending', cancel_requested: true });
    // A cancel asked for is not resumed.
    expect((await h.client.POST('/v1/operations/{operation_id}/resume', { params: { path: { operation_id: operationId } } })).response.status).toBe(409);
    const cancelled = await h.finished(operationId);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.steps.filter((s) => s.status === 'succeeded').map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      expect.stringMatching(/^backup_before_hop:/),
      expect.stringMatching(/^upgrade_control_plane:/),
    ]);
    const cluster = await h.getCluster(clusterId);
    // The control plane reached 1.36; the pool did not: the cluster desires what its control plane runs.
    expect(cluster).toMatchObject({ status: 'running', current_version: expect.stringMatching(/^1\.36\./) });
    expect(cluster.desired_version).toBe(cluster.current_version);
    expect(cluster.node_pools[0]!.version).toMatch(/^1\.35\./);
  }, 420_000);
});

describe('an upgrade whose worker is killed (kill -9) mid-rollout', () => {
  const h = onDriverStack(new UpgradeSuite(), 'capstan-upgrade-kill-', { inProcessWorker: false });

  it('loses nothing: the next worker follows the same rollout to the end, and the pool is rolled once', async () => {
    const first = await h.stack.spawnWorker();
    const clusterId = await h.createCluster('rke2', 'killed-worker', '1.35', ['apps']);
    const target = await h.patchOf('rke2', '1.36');
    const operationId = (await h.upgrade(clusterId, '1.36')).data!.operation.id;
    const poolStep = `upgrade_node_pool:apps:${target}`;
    const deadline = Date.now() + 180_000;
    let handle: { name: string } | undefined;
    while (!handle) {
      const step = (await h.steps(operationId)).find((s) => s.name === poolStep)!;
      handle = (step.wait as { state?: { operation?: { name: string } } } | null)?.state?.operation;
      if (step.status === 'succeeded') throw new Error('the pool step finished before the worker could be killed in it');
      if (Date.now() > deadline) throw new Error('the pool step never waited');
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await h.stack.spawnWorker();

    expect(await h.finished(operationId)).toMatchObject({ status: 'succeeded' });
    const step = (await h.steps(operationId)).find((s) => s.name === poolStep)!;
    expect((step.checkpoint as { operation: { name: string } }).operation.name).toBe(handle.name);
    // One rollout of the pool: its MachineDeployment has one MachineSet left, at the target, with one machine.
    const management = h.stack.simulator.kube.server('management');
    const sets = await management.list('cluster.x-k8s.io/v1beta1', 'MachineSet', {
      labelSelector: `cluster.x-k8s.io/cluster-name=${externalClusterName(clusterId)}`,
    });
    expect(sets.map((s) => String((s.spec as { template: { spec: { version: string } } }).template.spec.version))).toEqual([`v${target}+rke2r1`]);
    const cluster = await h.getCluster(clusterId);
    expect(cluster).toMatchObject({ status: 'running', current_version: target, desired_version: target });
    expect(cluster.node_pools.map((p) => p.version)).toEqual([target]);
  }, 420_000);
});
