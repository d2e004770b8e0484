import { createCapstanClient } from '@capstan/sdk';
import { externalClusterName } from '@capstan/providers';
import { seedOrganization, type Stack, startStack } from '@capstan/testing';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

interface NodeList {
  items: {
    metadata: { name: string; labels: Record<string, string> };
    status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string } };
  }[];
}

/**
 * Capstan on its real drivers, end to end, as `npm start` runs it: RKE2 clusters as Cluster API +
 * CAPRKE2 objects on the emulated management cluster, GKE clusters through the Container API
 * emulator, and every cluster's API server judged by the real kubectl with the kubeconfig a
 * customer downloads.
 */
describe('clusters on the real drivers (emulated management cluster and GKE)', () => {
  let stack: Stack;
  let client: ReturnType<typeof createCapstanClient>;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack({ drivers: true, stepDelayMs: 20 });
    client = createCapstanClient({ baseUrl: stack.apiUrl, token: (await seedOrganization(stack.prisma)).token, idempotencyKeys: true });
    dir = await mkdtemp(join(tmpdir(), 'capstan-drivers-'));
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function finished(operationId: string): Promise<{ status: string; error: unknown }> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { data } = await client.GET('/v1/operations/{operation_id}', { params: { path: { operation_id: operationId } } });
      if (data && ['succeeded', 'failed', 'cancelled'].includes(data.status)) return data;
      if (Date.now() > deadline) throw new Error(`operation ${operationId} is still ${data?.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { env: { ...process.env, HOME: dir } });
    return stdout;
  }

  async function kubeconfigOf(clusterId: string): Promise<string> {
    const { data, response } = await client.GET('/v1/clusters/{cluster_id}/kubeconfig', { params: { path: { cluster_id: clusterId } }, parseAs: 'text' });
    expect(response.status).toBe(200);
    const file = join(dir, `${clusterId}.kubeconfig`);
    await writeFile(file, data as string, { mode: 0o600 });
    return file;
  }

  const readyNodes = (nodes: NodeList) => nodes.items.filter((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));

  it('creates an RKE2 cluster through Cluster API, reaches it with kubectl, scales it and deletes it without leftovers', async () => {
    const created = await client.POST('/v1/clusters', {
      body: { name: 'capi-e2e', provider: 'rke2', region: 'nine-cz41', node_pools: [{ name: 'apps', machine_type: 'nine-standard-4', count: 2 }] },
    });
    expect(created.response.status).toBe(202);
    const clusterId = created.data!.cluster.id;
    expect(await finished(created.data!.operation.id)).toMatchObject({ status: 'succeeded' });

    const cluster = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
    const kubeconfig = await kubeconfigOf(clusterId);
    const nodes = JSON.parse(await kubectl(kubeconfig, 'get', 'nodes', '-o', 'json')) as NodeList;
    const workers = readyNodes(nodes).filter((n) => !('node-role.kubernetes.io/control-plane' in n.metadata.labels));
    expect(workers).toHaveLength(2);
    for (const node of readyNodes(nodes)) expect(node.status.nodeInfo.kubeletVersion).toBe(`v${cluster.current_version}+rke2r1`);
    expect((await kubectl(kubeconfig, 'get', '--raw', '/readyz')).trim()).toBe('ok');

    // What Capstan wrote on the management cluster, as an operator sees it.
    const management = stack.env.RKE2_MANAGEMENT_KUBECONFIG!;
    const objects = JSON.parse(await kubectl(management, 'get', 'clusters.cluster.x-k8s.io,machinedeployments', '-A', '-o', 'json')) as {
      items: { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: { replicas?: number } }[];
    };
    const external = externalClusterName(clusterId);
    expect(objects.items.filter((o) => o.kind === 'Cluster').map((o) => o.metadata.name)).toEqual([external]);
    expect(objects.items.find((o) => o.kind === 'MachineDeployment')!.spec.replicas).toBe(2);

    const scale = await client.PATCH('/v1/clusters/{cluster_id}/node-pools/{node_pool_id}', {
      params: { path: { cluster_id: clusterId, node_pool_id: cluster.node_pools[0]!.id } },
      body: { count: 3 },
    });
    expect(scale.response.status).toBe(202);
    expect(await finished(scale.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    const scaled = JSON.parse(await kubectl(kubeconfig, 'get', 'nodes', '-o', 'json')) as NodeList;
    expect(readyNodes(scaled).filter((n) => !('node-role.kubernetes.io/control-plane' in n.metadata.labels))).toHaveLength(3);

    const row = await stack.database.selectFrom('clusters').select(['endpoint', 'tls_server_name']).where('id', '=', clusterId).executeTakeFirstOrThrow();
    expect(row.tls_server_name).toBe(`${external}.${stack.simulator.kube.kubeDomain}`);

    const deleted = await client.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } });
    expect(await finished(deleted.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    const left = JSON.parse(await kubectl(management, 'get', 'clusters.cluster.x-k8s.io,machinedeployments,machines', '-A', '-o', 'json')) as {
      items: unknown[];
    };
    expect(left.items).toEqual([]);
    expect(await stack.simulator.kube.getApiServer(external)).toBeNull();
  }, 240_000);

  it('creates a GKE cluster in europe-west6 through the Container API and reaches it with kubectl', async () => {
    const created = await client.POST('/v1/clusters', {
      body: { name: 'gke-e2e', provider: 'gke', region: 'europe-west6', node_pools: [{ name: 'apps', machine_type: 'e2-standard-4', count: 2 }] },
    });
    expect(created.response.status).toBe(202);
    const clusterId = created.data!.cluster.id;
    expect(await finished(created.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    const cluster = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
    expect(cluster.current_version).toMatch(/^\d+\.\d+\.\d+-gke\.\d+$/);

    const kubeconfig = await kubeconfigOf(clusterId);
    const nodes = readyNodes(JSON.parse(await kubectl(kubeconfig, 'get', 'nodes', '-o', 'json')) as NodeList);
    expect(nodes.filter((n) => n.metadata.labels['cloud.google.com/gke-nodepool'] !== 'capstan-system')).toHaveLength(2);
    for (const node of nodes) expect(node.status.nodeInfo.kubeletVersion).toBe(`v${cluster.current_version}`);

    const deleted = await client.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } });
    expect(await finished(deleted.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    expect(await stack.simulator.kube.getApiServer(externalClusterName(clusterId))).toBeNull();
  }, 240_000);

  /** The cluster as the GKE emulator's REST API answers it (what `gcloud container clusters describe` shows). */
  async function gkeCluster(clusterId: string) {
    const token = (await (
      await fetch(`${stack.simulator.gkeUrl}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_secret: stack.env.GKE_CLIENT_SECRET! }),
      })
    ).json()) as { access_token: string };
    const response = await fetch(
      `${stack.simulator.gkeUrl}/v1/projects/${stack.env.GKE_PROJECT}/locations/europe-west6/clusters/${externalClusterName(clusterId)}`,
      {
        headers: { authorization: `Bearer ${token.access_token}` },
      },
    );
    expect(response.status).toBe(200);
    return (await response.json()) as {
      releaseChannel: { channel: string };
      resourceLabels: Record<string, string>;
      maintenancePolicy?: {
        window: {
          recurringWindow?: { window: { startTime: string; endTime: string }; recurrence: string };
          maintenanceExclusions?: Record<string, { startTime: string; endTime: string; maintenanceExclusionOptions?: { scope: string } }>;
        };
      };
    };
  }

  async function chaos(method: 'POST' | 'DELETE', body?: unknown): Promise<number> {
    const response = await fetch(`${stack.simulator.apiUrl}/v1/chaos/faults`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${stack.env.SIMULATOR_API_TOKEN}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return response.status;
  }

  it("sends a GKE cluster's channel and window with its create, and applies a PATCH of them at GKE through an update_cluster operation", async () => {
    // given a GKE cluster created with a release channel, a weekend night window and labels
    const created = await client.POST('/v1/clusters', {
      body: {
        name: 'gke-settings',
        provider: 'gke',
        region: 'europe-west6',
        release_channel: 'regular',
        labels: { team: 'payments' },
        // GKE asks for 48 h of windows in any 32 days: two 6-hour nights a week give that
        maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '00:30', duration_minutes: 360 },
        node_pools: [{ name: 'apps', machine_type: 'e2-standard-4', count: 1 }],
      },
    });
    expect(created.response.status).toBe(202);
    const clusterId = created.data!.cluster.id;
    expect(await finished(created.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    const atCreate = await gkeCluster(clusterId);
    expect(atCreate.releaseChannel.channel).toBe('REGULAR');
    expect(atCreate.resourceLabels).toMatchObject({ team: 'payments', 'capstan-managed': 'true' });
    // 00:30 in Zurich is the evening before in UTC
    expect(atCreate.maintenancePolicy!.window.recurringWindow!.recurrence).toBe('FREQ=WEEKLY;BYDAY=FR,SA');

    // when the customer moves the channel and the window, and GKE loses its answer to the policy write once
    const external = externalClusterName(clusterId);
    expect(await chaos('POST', { match: { call: 'gke.clusters.setMaintenancePolicy', cluster: external }, mode: 'fail_once', at: 'response' })).toBe(201);
    const current = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
    const changed = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: clusterId }, header: { 'If-Match': current.etag } },
      body: {
        release_channel: 'stable',
        maintenance_window: { time_zone: 'Europe/Zurich', days: ['TU', 'WE', 'TH'], start_time: '10:00', duration_minutes: 240 },
      },
    });

    // then 202: the cluster is updating, and an update_cluster operation applies the change
    expect(changed.response.status).toBe(202);
    const accepted = changed.data as { cluster: { status: string; release_channel: string }; operation: { id: string; type: string; target: unknown } };
    expect(accepted.cluster).toMatchObject({ status: 'updating', release_channel: 'stable' });
    expect(accepted.operation).toMatchObject({ type: 'update_cluster', target: { type: 'cluster', id: clusterId } });
    const done = await finished(accepted.operation.id);
    await chaos('DELETE');
    expect(done).toMatchObject({ status: 'succeeded' });
    // the lost answer failed the step once; its retry found the policy GKE had taken and went on
    const steps = (done as unknown as { steps: { name: string; attempts: number; status: string }[] }).steps;
    expect(steps.map((step) => [step.name, step.status])).toEqual([
      ['apply_cluster_settings', 'succeeded'],
      ['mark_running', 'succeeded'],
    ]);
    expect(steps[0]!.attempts).toBeGreaterThan(1);

    // and GKE holds the new channel and window (10:00 Zurich in December is 09:00 UTC), each sent once despite the lost answer
    const applied = await gkeCluster(clusterId);
    expect(applied.releaseChannel.channel).toBe('STABLE');
    expect(applied.maintenancePolicy!.window.recurringWindow!.recurrence).toBe('FREQ=WEEKLY;BYDAY=TU,WE,TH');
    const window = applied.maintenancePolicy!.window.recurringWindow!.window;
    expect(Date.parse(window.endTime) - Date.parse(window.startTime)).toBe(240 * 60_000);
    const zurichHour = Number(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Zurich', hour: '2-digit', hourCycle: 'h23' }).format(new Date(window.startTime)),
    );
    expect(zurichHour).toBe(10);
    const stats = new Client({ connectionString: stack.db.url });
    await stats.connect();
    const { rows } = await stats
      .query<{ call: string; count: string }>(
        `SELECT call, count FROM simulator.call_stats WHERE cluster = $1 AND call IN ('gke.clusters.update', 'gke.clusters.setMaintenancePolicy') ORDER BY call`,
        [external],
      )
      .finally(() => stats.end());
    expect(rows.map((r) => [r.call, Number(r.count)])).toEqual([
      ['gke.clusters.setMaintenancePolicy', 1],
      ['gke.clusters.update', 1],
    ]);
    const after = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
    expect(after).toMatchObject({ status: 'running', release_channel: 'stable' });

    // and a change that is Capstan's alone (deletion protection) answers 200 with no operation
    const flag = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: clusterId }, header: { 'If-Match': after.etag } },
      body: { deletion_protection: false },
    });
    expect(flag.response.status).toBe(200);

    // and when GKE refuses a change for good, the operation fails and the cluster serves on, saying why
    expect(await chaos('POST', { match: { call: 'gke.clusters.setResourceLabels', cluster: external }, mode: 'fail_always', retryable: false })).toBe(201);
    const relabel = await client.PATCH('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } }, body: { labels: { team: 'search' } } });
    expect(relabel.response.status).toBe(202);
    const refused = await finished((relabel.data as { operation: { id: string } }).operation.id);
    await chaos('DELETE');
    expect(refused).toMatchObject({ status: 'failed' });
    const serving = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
    expect(serving).toMatchObject({ status: 'running', status_reason: expect.stringContaining('the provider did not apply the settings') });
    expect((await gkeCluster(clusterId)).resourceLabels).toMatchObject({ team: 'payments' });
  }, 240_000);

  it("brings a GKE cluster's maintenance exclusions to GKE's maintenance policy as the customer adds and removes them", async () => {
    // given a running GKE cluster with a weekend window
    const created = await client.POST('/v1/clusters', {
      body: {
        name: 'gke-exclusions',
        provider: 'gke',
        region: 'europe-west6',
        maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '00:30', duration_minutes: 360 },
        node_pools: [{ name: 'apps', machine_type: 'e2-standard-4', count: 1 }],
      },
    });
    expect(created.response.status).toBe(202);
    const clusterId = created.data!.cluster.id;
    expect(await finished(created.data!.operation.id)).toMatchObject({ status: 'succeeded' });
    expect((await gkeCluster(clusterId)).maintenancePolicy?.window.maintenanceExclusions ?? {}).toEqual({});

    // when the customer adds a two-day freeze starting tomorrow
    const startsAt = new Date(Date.now() + 86_400_000);
    startsAt.setUTCMilliseconds(0);
    const endsAt = new Date(startsAt.getTime() + 2 * 86_400_000);
    const added = await client.POST('/v1/clusters/{cluster_id}/maintenance-exclusions', {
      params: { path: { cluster_id: clusterId } },
      body: { name: 'launch-week', scope: 'no_minor_or_node_upgrades', starts_at: startsAt.toISOString(), ends_at: endsAt.toISOString() },
    });

    // then 202 with the update_cluster operation, and once it has run GKE holds the exclusion with its scope
    expect(added.response.status).toBe(202);
    const accepted = added.data as { maintenance_exclusion: { id: string }; operation: { id: string; type: string } };
    expect(accepted.operation.type).toBe('update_cluster');
    expect(await finished(accepted.operation.id)).toMatchObject({ status: 'succeeded' });
    const exclusions = (await gkeCluster(clusterId)).maintenancePolicy!.window.maintenanceExclusions!;
    expect(Object.keys(exclusions)).toEqual(['launch-week']);
    expect(exclusions['launch-week']!.maintenanceExclusionOptions?.scope).toBe('NO_MINOR_OR_NODE_UPGRADES');
    expect(Date.parse(exclusions['launch-week']!.startTime)).toBe(startsAt.getTime());
    expect(Date.parse(exclusions['launch-week']!.endTime)).toBe(endsAt.getTime());
    expect((await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!.status).toBe('running');

    // and when the customer removes it, another update_cluster takes it out of GKE's policy
    const removed = await client.DELETE('/v1/clusters/{cluster_id}/maintenance-exclusions/{exclusion_id}', {
      params: { path: { cluster_id: clusterId, exclusion_id: accepted.maintenance_exclusion.id } },
    });
    expect(removed.response.status).toBe(202);
    expect(await finished((removed.data as { operation: { id: string } }).operation.id)).toMatchObject({ status: 'succeeded' });
    expect((await gkeCluster(clusterId)).maintenancePolicy?.window.maintenanceExclusions ?? {}).toEqual({});
  }, 240_000);

  it('creates a cluster at every version the catalogue offers as supported, on both providers', async () => {
    const regions = { rke2: 'nine-cz41', gke: 'europe-west6' } as const;
    const machines = { rke2: 'nine-standard-2', gke: 'e2-standard-4' } as const;
    const versions = (await client.GET('/v1/versions', {})).data!.items.filter((v) => v.state === 'supported');
    expect(new Set(versions.map((v) => v.provider))).toEqual(new Set(['rke2', 'gke']));
    const outcomes = await Promise.all(
      versions.map(async (v, i) => {
        const created = await client.POST('/v1/clusters', {
          body: {
            name: `v${i}-${v.provider}`,
            provider: v.provider,
            region: regions[v.provider],
            version: v.latest_patch,
            node_pools: [{ name: 'apps', machine_type: machines[v.provider], count: 1 }],
          },
        });
        if (created.response.status !== 202) return `${v.provider} ${v.latest_patch}: ${created.response.status} ${JSON.stringify(created.error)}`;
        const operation = await finished(created.data!.operation.id);
        return `${v.provider} ${v.latest_patch}: ${operation.status}${operation.error ? ` ${JSON.stringify(operation.error)}` : ''}`;
      }),
    );
    expect(outcomes).toEqual(versions.map((v) => `${v.provider} ${v.latest_patch}: succeeded`));
  }, 300_000);
});
