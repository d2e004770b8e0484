import { CheckGkeSettingsDrift } from '@capstan/clusters';
import { Metrics } from '@capstan/platform';
import { externalClusterName } from '@capstan/providers';
import { createCapstanClient } from '@capstan/sdk';
import { eventually, seedOrganization, type Stack, startStack, waitForOperation } from '@capstan/testing';

interface GkeCluster {
  releaseChannel: { channel: string };
  resourceLabels: Record<string, string>;
  labelFingerprint: string;
  maintenancePolicy?: { resourceVersion?: string; window: { recurringWindow?: { window: { startTime: string; endTime: string }; recurrence: string } } };
}

/**
 * The GKE drift check (docs/gke-driver.md, "Drift") on the real drivers: settings changed at the
 * emulated GKE through its Container API, as Google's console or gcloud change them, are found
 * by one pass and brought back to Capstan's through the same `update_cluster` a PATCH starts.
 * The schedule is off (GKE_DRIFT_CHECK_MINUTES=0): each test runs its passes itself.
 */
describe('GKE settings drift', () => {
  let stack: Stack;
  let client: ReturnType<typeof createCapstanClient>;
  let check: CheckGkeSettingsDrift;

  beforeAll(async () => {
    stack = await startStack({ drivers: true, stepDelayMs: 20, env: { GKE_DRIFT_CHECK_MINUTES: '0', OPERATION_BACKOFF_MAX_MS: '1000' } });
    client = createCapstanClient({ baseUrl: stack.apiUrl, token: (await seedOrganization(stack.prisma)).token, idempotencyKeys: true });
    check = stack.worker!.get(CheckGkeSettingsDrift);
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  afterEach(async () => {
    await chaos('DELETE');
  });

  async function chaos(method: 'POST' | 'DELETE', body?: unknown): Promise<void> {
    await fetch(`${stack.simulator.apiUrl}/v1/chaos/faults`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${stack.env.SIMULATOR_API_TOKEN}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).then((r) => expect(r.ok).toBe(true));
  }

  /** A cluster made through the API, once its create has succeeded. */
  async function runningCluster(name: string, provider: 'gke' | 'rke2' = 'gke'): Promise<string> {
    const created = await client.POST('/v1/clusters', {
      body: {
        name,
        provider,
        region: provider === 'gke' ? 'europe-west6' : 'nine-cz41',
        release_channel: 'regular',
        labels: { team: 'payments' },
        // GKE asks for 48 h of windows in any 32 days: two 6-hour nights a week give that
        maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '00:30', duration_minutes: 360 },
        node_pools: [{ name: 'apps', machine_type: provider === 'gke' ? 'e2-standard-4' : 'nine-standard-2', count: 1 }],
      },
    });
    expect(created.response.status).toBe(202);
    await waitForOperation(stack.prisma, created.data!.operation.id, ['succeeded'], 180_000);
    return created.data!.cluster.id;
  }

  /** The emulated Container API, called as gcloud calls it (not through Capstan). */
  async function gcloud(method: string, path: string, body?: unknown): Promise<unknown> {
    const token = (
      (await (
        await fetch(`${stack.simulator.gkeUrl}/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_secret: stack.env.GKE_CLIENT_SECRET! }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const response = await fetch(`${stack.simulator.gkeUrl}/v1/projects/${stack.env.GKE_PROJECT}/locations/europe-west6/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    expect(response.status).toBe(200);
    return response.json();
  }

  const gkeCluster = (clusterId: string) => gcloud('GET', `clusters/${externalClusterName(clusterId)}`) as Promise<GkeCluster>;

  /** A change made at GKE, followed to its end as gcloud does before it returns. */
  async function changeAtGke(method: string, path: string, body: unknown): Promise<void> {
    const operation = (await gcloud(method, path, body)) as { name: string };
    await eventually(async () => ((await gcloud('GET', `operations/${operation.name}`)) as { status: string }).status === 'DONE', 30_000, 50);
  }

  const correctionsOf = (clusterId: string) =>
    stack.database
      .selectFrom('operations')
      .select(['id', 'status', 'requested_by_type', 'requested_by_id', 'params'])
      .where('cluster_id', '=', clusterId)
      .where('type', '=', 'update_cluster')
      .orderBy('created_at')
      .execute();

  const counter = async (metric: 'gkeDriftChecks' | 'gkeSettingsDrift', label: string) => {
    const values = (await stack.worker!.get(Metrics)[metric].get()).values;
    return values.find((v) => Object.values(v.labels).includes(label))?.value ?? 0;
  };

  it('starts nothing for a GKE cluster GKE holds as Capstan does, pass after pass, and never looks at an RKE2 cluster', async () => {
    // given a GKE cluster and an RKE2 cluster, both running as created
    const [gke, rke2] = await Promise.all([runningCluster('steady'), runningCluster('steady-rke2', 'rke2')]);
    const inStepBefore = await counter('gkeDriftChecks', 'in_step');

    // when the drift check runs twice
    const first = await check.pass();
    const second = await check.pass();

    // then the GKE cluster is in step both times, nothing is started, and the RKE2 cluster was not walked
    expect(first.clusters[gke]).toBe('in_step');
    expect(second.clusters[gke]).toBe('in_step');
    expect(first.clusters[rke2]).toBeUndefined();
    expect(second.clusters[rke2]).toBeUndefined();
    expect(await correctionsOf(gke)).toEqual([]);
    expect(await correctionsOf(rke2)).toEqual([]);
    expect(await counter('gkeDriftChecks', 'in_step')).toBeGreaterThanOrEqual(inStepBefore + 2);
    expect((await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: gke } } })).data!.status).toBe('running');
  }, 300_000);

  it("brings back the channel, window and labels someone changed in GKE's console, through an update_cluster with its event, audit event and metric", async () => {
    // given a running GKE cluster whose channel, window and labels were changed at GKE behind Capstan's back
    const clusterId = await runningCluster('console-changed');
    const external = externalClusterName(clusterId);
    await changeAtGke('PUT', `clusters/${external}`, { update: { desiredReleaseChannel: { channel: 'STABLE' } } });
    const held = await gkeCluster(clusterId);
    await changeAtGke('POST', `clusters/${external}:setResourceLabels`, {
      resourceLabels: { ...held.resourceLabels, owner: 'console' },
      labelFingerprint: held.labelFingerprint,
    });
    const monday = new Date(Date.UTC(2026, 11, 7, 10, 0));
    await changeAtGke('POST', `clusters/${external}:setMaintenancePolicy`, {
      maintenancePolicy: {
        window: {
          recurringWindow: {
            window: { startTime: monday.toISOString(), endTime: new Date(monday.getTime() + 4 * 3_600_000).toISOString() },
            recurrence: 'FREQ=WEEKLY;BYDAY=MO,TU,WE',
          },
        },
        resourceVersion: (await gkeCluster(clusterId)).maintenancePolicy?.resourceVersion,
      },
    });
    expect((await gkeCluster(clusterId)).releaseChannel.channel).toBe('STABLE');
    const channelDriftBefore = await counter('gkeSettingsDrift', 'release_channel');
    const correctedBefore = await counter('gkeDriftChecks', 'corrected');

    // when the drift check runs
    const result = await check.pass();

    // then it started one update_cluster, requested by the drift check, naming what drifted
    expect(result.clusters[clusterId]).toBe('corrected');
    const [correction, ...more] = await correctionsOf(clusterId);
    expect(more).toEqual([]);
    expect(correction).toMatchObject({
      requested_by_type: 'system',
      requested_by_id: 'gke-drift-check',
      params: { change: ['release_channel', 'maintenance_policy', 'labels'] },
    });

    // and the event webhooks can subscribe to, and the audit event with the reason
    const events = await stack.database.selectFrom('events').select(['data', 'source']).where('type', '=', 'dev.capstan.cluster.drift_detected').execute();
    const event = events.find((e) => (e.data as { cluster_id: string }).cluster_id === clusterId);
    expect(event?.source).toBe(`/v1/clusters/${clusterId}`);
    const reason = (event!.data as { reason: string; operation_id: string }).reason;
    expect((event!.data as { operation_id: string }).operation_id).toBe(correction!.id);
    expect(reason).toContain("GKE's release channel was STABLE, Capstan's is REGULAR");
    expect(reason).toContain(
      "GKE's maintenance policy was window MO,TU,WE 10:00 UTC for 240 min; no exclusions, Capstan's is window FR,SA 23:30 UTC for 360 min",
    );
    expect(reason).toContain("GKE's labels were capstan-managed=true, owner=console, team=payments, Capstan's are capstan-managed=true, team=payments");
    const audit = await stack.database
      .selectFrom('audit_events')
      .select(['actor_type', 'actor_id', 'reason', 'changes'])
      .where('action', '=', 'cluster.drift_detected')
      .where('target_id', '=', clusterId)
      .execute();
    expect(audit).toEqual([{ actor_type: 'system', actor_id: 'gke-drift-check', reason, changes: { status: { before: 'running', after: 'updating' } } }]);
    expect(await counter('gkeSettingsDrift', 'release_channel')).toBe(channelDriftBefore + 1);
    expect(await counter('gkeDriftChecks', 'corrected')).toBe(correctedBefore + 1);

    // and once the operation has run, GKE holds Capstan's settings again and the cluster is running
    await waitForOperation(stack.prisma, correction!.id, ['succeeded'], 120_000);
    const restored = await gkeCluster(clusterId);
    expect(restored.releaseChannel.channel).toBe('REGULAR');
    expect(restored.resourceLabels).toEqual({ team: 'payments', 'capstan-managed': 'true' });
    expect(restored.maintenancePolicy!.window.recurringWindow!.recurrence).toBe('FREQ=WEEKLY;BYDAY=FR,SA');
    expect((await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!.status).toBe('running');

    // and the next pass finds it in step and starts nothing
    expect((await check.pass()).clusters[clusterId]).toBe('in_step');
    expect(await correctionsOf(clusterId)).toHaveLength(1);
  }, 300_000);

  it('skips a cluster another operation holds, and looks at it again next pass', async () => {
    // given a GKE cluster with drifted labels, and a customer's channel change that GKE keeps answering busy
    const clusterId = await runningCluster('busy');
    const external = externalClusterName(clusterId);
    const held = await gkeCluster(clusterId);
    await changeAtGke('POST', `clusters/${external}:setResourceLabels`, {
      resourceLabels: { ...held.resourceLabels, owner: 'console' },
      labelFingerprint: held.labelFingerprint,
    });
    await chaos('POST', { match: { call: 'gke.clusters.update', cluster: external }, mode: 'fail_always', retryable: true });
    const current = (await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data!;
    const patched = await client.PATCH('/v1/clusters/{cluster_id}', {
      params: { path: { cluster_id: clusterId }, header: { 'If-Match': current.etag } },
      body: { release_channel: 'stable' },
    });
    expect(patched.response.status).toBe(202);
    const customers = (patched.data as { operation: { id: string } }).operation.id;
    await waitForOperation(stack.prisma, customers, ['running']);

    // when the drift check runs while that operation holds the cluster
    const busy = await check.pass();

    // then the cluster is skipped: no correction of its own, nothing read from GKE for it
    expect(busy.clusters[clusterId]).toBe('busy');
    expect((await correctionsOf(clusterId)).map((o) => o.id)).toEqual([customers]);

    // and once GKE takes the change, the customer's operation carries every setting (the labels too),
    // so the next pass finds the cluster in step
    await chaos('DELETE');
    await waitForOperation(stack.prisma, customers, ['succeeded'], 120_000);
    expect((await gkeCluster(clusterId)).resourceLabels).toEqual({ team: 'payments', 'capstan-managed': 'true' });
    expect((await check.pass()).clusters[clusterId]).toBe('in_step');
    expect(await correctionsOf(clusterId)).toHaveLength(1);
  }, 300_000);

  it('logs and skips a cluster whose GKE cannot be reached, and changes nothing about it', async () => {
    // given a running GKE cluster, and GKE unreachable
    const clusterId = await runningCluster('unreachable');
    await chaos('POST', { match: { call: 'gke.clusters.get' }, mode: 'fail_always', retryable: true });
    await chaos('POST', { match: { call: 'gke.clusters.list' }, mode: 'fail_always', retryable: true });

    // when the drift check runs
    const result = await check.pass();

    // then the check failed for it, nothing was started, and the cluster is as it was
    expect(result.clusters[clusterId]).toBe('failed');
    expect(await correctionsOf(clusterId)).toEqual([]);
    expect((await client.GET('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })).data).toMatchObject({
      status: 'running',
      status_reason: null,
    });
  }, 300_000);

  it('after a correction GKE refused for good, does not start another for a day', async () => {
    // given drifted labels, and GKE refusing every label write for good
    const clusterId = await runningCluster('refused');
    const external = externalClusterName(clusterId);
    const held = await gkeCluster(clusterId);
    await changeAtGke('POST', `clusters/${external}:setResourceLabels`, {
      resourceLabels: { ...held.resourceLabels, owner: 'console' },
      labelFingerprint: held.labelFingerprint,
    });
    await chaos('POST', { match: { call: 'gke.clusters.setResourceLabels', cluster: external }, mode: 'fail_always', retryable: false });

    // when a pass corrects it and the correction fails
    expect((await check.pass()).clusters[clusterId]).toBe('corrected');
    const [first] = await correctionsOf(clusterId);
    await waitForOperation(stack.prisma, first!.id, ['failed'], 120_000);

    // then the passes of the same day hold back
    expect((await check.pass()).clusters[clusterId]).toBe('held_back');
    expect(await correctionsOf(clusterId)).toHaveLength(1);

    // and a pass a day later tries once more, which succeeds once GKE takes labels again
    await chaos('DELETE');
    const nextDay = new Date(Date.now() + 25 * 3_600_000);
    expect((await check.pass(nextDay)).clusters[clusterId]).toBe('corrected');
    const corrections = await correctionsOf(clusterId);
    expect(corrections).toHaveLength(2);
    await waitForOperation(stack.prisma, corrections[1]!.id, ['succeeded'], 120_000);
    expect((await gkeCluster(clusterId)).resourceLabels).toEqual({ team: 'payments', 'capstan-managed': 'true' });
  }, 300_000);
});
