import { listVersions, VERSION_CATALOGUE } from '@capstan/domain';
import { type RunningSimulator, startSimulator } from '@capstan/simulator';
import { createTestDatabase, eventually, type TestDatabase } from '@capstan/testing';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { type ExternalClusterSpec, type ExternalNodePoolSpec, ProviderError } from '../cluster-provider';
import type { ProviderOperation } from '../infrastructure-driver';
import { GkeDriver } from './gke-driver';
import { DEFAULT_GKE_SETTINGS, type GkeDriverSettings } from './gke-settings';

const PROJECT = 'capstan-driver-test';

/**
 * GkeDriver against the emulated Container API of the simulated cloud, through the official
 * client: what the worker relies on, end to end, including what a restarted worker does.
 */
/** A followed operation ended well: done, no error (GKE's node upgrades also report their surge progress). */
function expectDoneWithoutError(status: { done: boolean; error?: unknown }): void {
  expect(status.done).toBe(true);
  expect(status.error).toBeUndefined();
}

describe('GkeDriver against the emulated GKE', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let driver: GkeDriver;
  let stats: Client;
  /** Every host a TCP connection was opened to while the suite ran. */
  const contacted = new Set<string>();
  const realConnect = Socket.prototype.connect;

  const settings = (): GkeDriverSettings => ({
    ...DEFAULT_GKE_SETTINGS,
    project: PROJECT,
    apiEndpoint: sim.gkeUrl,
    credentials: { kind: 'token-endpoint', url: `${sim.gkeUrl}/token` },
    serverNameFromDnsEndpoint: true,
    timeoutMs: 10_000,
    changeWaitMs: 30_000,
  });
  const clusterSpec = (name: string, version = '1.35.8-gke.1225000', extra: Partial<ExternalClusterSpec> = {}): ExternalClusterSpec => ({
    name,
    flavour: 'gke',
    region: 'europe-west6',
    version,
    labels: { Team: 'Payments' },
    ...extra,
  });
  const poolSpec = (name: string, count: number, version = '1.35.8-gke.1225000'): ExternalNodePoolSpec => ({
    name,
    machineType: 'e2-standard-4',
    count,
    autoscaling: null,
    version,
    labels: { workload: 'general' },
    taints: [],
    maxSurge: 1,
    maxUnavailable: 0,
  });
  const running = async (name: string) => {
    await eventually(async () => (await driver.getCluster(name))?.status === 'running', 20_000, 50);
    return (await driver.getCluster(name))!;
  };
  const poolReady = async (cluster: string, pool: string, count: number) => {
    await eventually(
      async () => {
        const current = await driver.getNodePool(cluster, pool);
        return current?.status === 'running' && current.nodes.length === count && current.nodes.every((n) => n.ready);
      },
      20_000,
      50,
    );
    return (await driver.getNodePool(cluster, pool))!;
  };
  const followed = async (operation: ProviderOperation, by = driver) => {
    await eventually(async () => (await by.getOperation(operation)).done, 20_000, 50);
    return by.getOperation(operation);
  };
  /** The cluster as GKE's REST API answers it (what a customer's gcloud would show). */
  const rawCluster = async (name: string) => {
    const token = (
      (await (await fetch(`${sim.gkeUrl}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) })).json()) as {
        access_token: string;
      }
    ).access_token;
    const response = await fetch(`${sim.gkeUrl}/v1/projects/${PROJECT}/locations/europe-west6/clusters/${name}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- GKE's JSON, read field by field in the assertions
    return (await response.json()) as any;
  };
  const calls = async (call: string, cluster: string) => {
    const { rows } = await stats.query<{ count: string }>(`SELECT count FROM simulator.call_stats WHERE call = $1 AND cluster = $2`, [call, cluster]);
    return Number(rows[0]?.count ?? 0);
  };

  beforeAll(async () => {
    // The tripwire: every outgoing TCP connection of this process is recorded.
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      const first = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; port?: number | string; path?: string } | number | string;
      if (typeof first === 'object' && first !== null && !first.path) contacted.add(`${first.host ?? 'localhost'}:${first.port}`);
      if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))
        contacted.add(`${typeof args[1] === 'string' ? args[1] : 'localhost'}:${first}`);
      return (realConnect as (...a: unknown[]) => Socket).apply(this, args);
    } as typeof Socket.prototype.connect;
    db = await createTestDatabase();
    sim = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 50 });
    driver = new GkeDriver(settings());
    stats = new Client({ connectionString: db.url });
    await stats.connect();
  });
  afterAll(async () => {
    Socket.prototype.connect = realConnect;
    await driver?.close();
    await stats?.end();
    await sim?.close();
    await db?.drop();
  });

  it('creates a regional cluster in europe-west6 that reaches running, with an API server kubectl-style clients reach', async () => {
    const created = await driver.ensureCluster(clusterSpec('capstan-run'));
    expect(created.name).toBe('capstan-run');

    const cluster = await running('capstan-run');
    expect(cluster).toMatchObject({ version: '1.35.8-gke.1225000', endpoint: `https://${new URL(sim.kubeUrl).host}`, caCertificate: sim.caCertificate });

    const access = await driver.adminAccess('capstan-run');
    expect(access).toMatchObject({ server: cluster.endpoint, tlsServerName: 'capstan-run.clusters.simulator.capstan.test', caCertificate: sim.caCertificate });
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: access.server, caData: Buffer.from(access.caCertificate).toString('base64'), tlsServerName: access.tlsServerName }],
      users: [{ name: 'u', token: access.token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const nodes = await config.makeApiClient(CoreV1Api).listNode();
    expect(nodes.items.map((n) => n.metadata?.labels?.['cloud.google.com/gke-nodepool'])).toEqual(['capstan-system']);
  });

  it('hands out access the real kubectl uses: kubectl get nodes lists the GKE nodes', async () => {
    await driver.ensureCluster(clusterSpec('capstan-kubectl'));
    await running('capstan-kubectl');
    const access = await driver.adminAccess('capstan-kubectl');
    const dir = mkdtempSync(join(tmpdir(), 'gke-kubectl-'));
    try {
      const kubeconfig = join(dir, 'config');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: gke\n  cluster:\n    server: ${access.server}\n    tls-server-name: ${access.tlsServerName}\n    certificate-authority-data: ${Buffer.from(access.caCertificate).toString('base64')}`,
          `users:\n- name: capstan\n  user:\n    token: ${access.token}`,
          'contexts:\n- name: gke\n  context:\n    cluster: gke\n    user: capstan',
          'current-context: gke',
          '',
        ].join('\n'),
      );
      const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', 'get', 'nodes', '-o', 'name'], {
        env: { ...process.env, HOME: dir },
      });
      expect(stdout.trim().split('\n')).toEqual([expect.stringMatching(/^node\/gke-capstan-kubect-capstan-syst-[0-9a-f]{8}-[0-9a-f]{4}$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends the cluster’s labels, release channel and maintenance policy in GKE’s form', async () => {
    await driver.ensureCluster(
      clusterSpec('capstan-policy', undefined, {
        releaseChannel: 'stable',
        maintenance: {
          window: { timeZone: 'Europe/Zurich', days: ['SA', 'SU'], startTime: '00:30', durationMinutes: 300 },
          exclusions: [
            { name: 'black friday', startsAt: new Date('2027-11-26T00:00:00Z'), endsAt: new Date('2027-11-30T00:00:00Z'), scope: 'no_minor_upgrades' },
          ],
        },
      }),
    );
    const token = (
      (await (await fetch(`${sim.gkeUrl}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) })).json()) as {
        access_token: string;
      }
    ).access_token;
    const raw = (await (
      await fetch(`${sim.gkeUrl}/v1/projects/${PROJECT}/locations/europe-west6/clusters/capstan-policy`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as Record<string, unknown>;

    expect(raw).toMatchObject({
      resourceLabels: { team: 'payments', 'capstan-managed': 'true' },
      releaseChannel: { channel: 'STABLE' },
      addonsConfig: { gkeBackupAgentConfig: { enabled: true } },
      maintenancePolicy: {
        window: {
          // 00:30 in Zurich is 23:30 UTC the evening before: the UTC days move back one.
          recurringWindow: { recurrence: 'FREQ=WEEKLY;BYDAY=FR,SA' },
          maintenanceExclusions: { 'black-friday': { maintenanceExclusionOptions: { scope: 'NO_MINOR_UPGRADES' } } },
        },
      },
    });
    const window = (raw['maintenancePolicy'] as { window: { recurringWindow: { window: { startTime: string; endTime: string } } } }).window.recurringWindow
      .window;
    expect(new Date(window.startTime).getUTCHours()).toBe(23);
    expect(Date.parse(window.endTime) - Date.parse(window.startTime)).toBe(300 * 60_000);
  });

  it('brings a running cluster to new settings one GKE operation at a time, and sends nothing once GKE holds them', async () => {
    await driver.ensureCluster(clusterSpec('capstan-settings', undefined, { releaseChannel: 'regular' }));
    await running('capstan-settings');
    const settings = {
      labels: { team: 'search', env: 'prod' },
      releaseChannel: 'stable',
      maintenance: {
        window: { timeZone: 'Europe/Zurich', days: ['TU', 'WE'] as const, startTime: '02:00', durationMinutes: 240 },
        exclusions: [{ name: 'freeze', startsAt: new Date('2027-03-01T00:00:00Z'), endsAt: new Date('2027-03-08T00:00:00Z'), scope: 'no_upgrades' as const }],
      },
    };

    // when the settings are applied as the update_cluster step does: each change followed to its end, then asked again
    const sent: ProviderOperation[] = [];
    for (
      let next = await driver.applyClusterSettings('capstan-settings', settings);
      next;
      next = await driver.applyClusterSettings('capstan-settings', settings)
    ) {
      expectDoneWithoutError(await followed(next));
      sent.push(next);
    }

    // then channel, policy and labels went as three changes, each once
    expect(sent).toHaveLength(3);
    expect(await calls('gke.clusters.update', 'capstan-settings')).toBe(1);
    expect(await calls('gke.clusters.setMaintenancePolicy', 'capstan-settings')).toBe(1);
    expect(await calls('gke.clusters.setResourceLabels', 'capstan-settings')).toBe(1);
    const raw = await rawCluster('capstan-settings');
    expect(raw).toMatchObject({
      releaseChannel: { channel: 'STABLE' },
      resourceLabels: { team: 'search', env: 'prod', 'capstan-managed': 'true' },
      maintenancePolicy: {
        window: {
          recurringWindow: { recurrence: 'FREQ=WEEKLY;BYDAY=TU,WE' },
          maintenanceExclusions: { freeze: { startTime: '2027-03-01T00:00:00.000Z', maintenanceExclusionOptions: { scope: 'NO_UPGRADES' } } },
        },
      },
    });
    expect(new Date(raw.maintenancePolicy.window.recurringWindow.window.startTime).getUTCHours()).toBe(1);
    expect(raw.resourceLabels).not.toHaveProperty('Team');

    // and a window removed is sent as a policy with exclusions only
    const windowless = { ...settings, maintenance: { ...settings.maintenance, window: null } };
    const removal = await driver.applyClusterSettings('capstan-settings', windowless);
    expectDoneWithoutError(await followed(removal!));
    expect(await driver.applyClusterSettings('capstan-settings', windowless)).toBeNull();
    expect((await rawCluster('capstan-settings')).maintenancePolicy.window.recurringWindow).toBeUndefined();
  });

  it('follows a settings change still running when asked again (a lost answer, a restarted worker) instead of sending another', async () => {
    await driver.ensureCluster(clusterSpec('capstan-settings-slow'));
    await running('capstan-settings-slow');
    // A simulator on the same cloud whose operations take a minute: the change is still running when asked again.
    const slow = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 60_000 });
    const slowDriver = new GkeDriver({ ...settings(), apiEndpoint: slow.gkeUrl, credentials: { kind: 'token-endpoint', url: `${slow.gkeUrl}/token` } });
    try {
      const wanted = { labels: { Team: 'Payments' }, releaseChannel: 'rapid', maintenance: { window: null, exclusions: [] } };
      const first = await slowDriver.applyClusterSettings('capstan-settings-slow', wanted);
      expect(first).not.toBeNull();
      const restarted = new GkeDriver({ ...settings(), apiEndpoint: slow.gkeUrl, credentials: { kind: 'token-endpoint', url: `${slow.gkeUrl}/token` } });
      try {
        expect(await restarted.applyClusterSettings('capstan-settings-slow', wanted)).toEqual(first);
      } finally {
        await restarted.close();
      }
      expect(await calls('gke.clusters.update', 'capstan-settings-slow')).toBe(1);
    } finally {
      await slowDriver.close();
      await slow.close();
    }
  });

  it('reports a change made at GKE behind its back (as gcloud makes it) without writing, and applyClusterSettings undoes exactly that', async () => {
    // given a cluster whose settings GKE holds as Capstan sent them
    const wanted = {
      labels: { team: 'payments' },
      releaseChannel: 'regular',
      maintenance: { window: { timeZone: 'Europe/Zurich', days: ['SA'] as const, startTime: '02:00', durationMinutes: 300 }, exclusions: [] },
    };
    await driver.ensureCluster(clusterSpec('capstan-drift', undefined, { releaseChannel: 'regular', labels: wanted.labels, maintenance: wanted.maintenance }));
    await running('capstan-drift');
    expect(await driver.clusterSettingsDrift('capstan-drift', wanted)).toEqual([]);

    // when someone moves the channel and adds a label through the Container API, as gcloud or the console do
    const token = (
      (await (await fetch(`${sim.gkeUrl}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) })).json()) as {
        access_token: string;
      }
    ).access_token;
    const base = `${sim.gkeUrl}/v1/projects/${PROJECT}/locations/europe-west6`;
    const gcloud = async (method: string, path: string, body: unknown) => {
      const response = await fetch(`${base}/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      const operation = (await response.json()) as { name: string };
      await eventually(
        async () =>
          ((await (await fetch(`${base}/operations/${operation.name}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { status: string })
            .status === 'DONE',
        20_000,
        50,
      );
    };
    await gcloud('PUT', 'clusters/capstan-drift', { update: { desiredReleaseChannel: { channel: 'STABLE' } } });
    const fingerprint = (await rawCluster('capstan-drift')).labelFingerprint as string;
    await gcloud('POST', 'clusters/capstan-drift:setResourceLabels', {
      resourceLabels: { team: 'payments', 'capstan-managed': 'true', owner: 'console' },
      labelFingerprint: fingerprint,
    });
    const before = { update: await calls('gke.clusters.update', 'capstan-drift'), labels: await calls('gke.clusters.setResourceLabels', 'capstan-drift') };

    // then the drift check reports both, in the order they would be sent, and writes nothing
    expect(await driver.clusterSettingsDrift('capstan-drift', wanted)).toEqual([
      { setting: 'release_channel', provider: 'STABLE', capstan: 'REGULAR' },
      { setting: 'labels', provider: 'capstan-managed=true, owner=console, team=payments', capstan: 'capstan-managed=true, team=payments' },
    ]);
    expect(await calls('gke.clusters.update', 'capstan-drift')).toBe(before.update);
    expect(await calls('gke.clusters.setResourceLabels', 'capstan-drift')).toBe(before.labels);
    expect((await rawCluster('capstan-drift')).releaseChannel.channel).toBe('STABLE');

    // and applying the settings sends exactly those two changes, after which nothing drifts
    let sent = 0;
    for (let next = await driver.applyClusterSettings('capstan-drift', wanted); next; next = await driver.applyClusterSettings('capstan-drift', wanted)) {
      expectDoneWithoutError(await followed(next));
      sent++;
    }
    expect(sent).toBe(2);
    expect(await calls('gke.clusters.setMaintenancePolicy', 'capstan-drift')).toBe(0);
    expect(await driver.clusterSettingsDrift('capstan-drift', wanted)).toEqual([]);
  });

  it("asks for application-layer Secrets encryption with the installation's KMS key, and for none without one", async () => {
    const keyName = 'projects/capstan/locations/europe-west6/keyRings/capstan/cryptoKeys/etcd-secrets';
    await new GkeDriver({ ...settings(), databaseEncryptionKey: keyName }).ensureCluster(clusterSpec('capstan-encrypted'));
    await driver.ensureCluster(clusterSpec('capstan-plain'));
    const token = (
      (await (await fetch(`${sim.gkeUrl}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) })).json()) as {
        access_token: string;
      }
    ).access_token;
    const read = async (name: string) =>
      (await (
        await fetch(`${sim.gkeUrl}/v1/projects/${PROJECT}/locations/europe-west6/clusters/${name}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as Record<string, unknown>;
    expect(await read('capstan-encrypted')).toMatchObject({ databaseEncryption: { state: 'ENCRYPTED', keyName } });
    expect(await read('capstan-plain')).toMatchObject({ databaseEncryption: { state: 'DECRYPTED' } });
  });

  it('creates a node pool of the asked size, scales it, and reports its nodes from the cluster', async () => {
    await driver.ensureCluster(clusterSpec('capstan-pools'));
    await running('capstan-pools');

    await driver.ensureNodePool('capstan-pools', poolSpec('pool-a', 2));
    const created = await poolReady('capstan-pools', 'pool-a', 2);
    expect(created.nodes.map((n) => n.version)).toEqual(['1.35.8-gke.1225000', '1.35.8-gke.1225000']);
    expect(await driver.ensureNodePool('capstan-pools', poolSpec('pool-a', 2))).toMatchObject({ name: 'pool-a', count: 2 });

    await driver.updateNodePool('capstan-pools', { ...poolSpec('pool-a', 3), labels: { workload: 'batch' }, maxSurge: 2 });
    const scaled = await poolReady('capstan-pools', 'pool-a', 3);
    expect(scaled.count).toBe(3);
    expect(await calls('gke.nodePools.create', 'capstan-pools')).toBe(1);

    await driver.deleteNodePool('capstan-pools', 'pool-a');
    await eventually(async () => (await driver.getNodePool('capstan-pools', 'pool-a')) === null, 20_000, 50);
    await expect(driver.deleteNodePool('capstan-pools', 'pool-a')).resolves.toBeUndefined();
  });

  it('upgrades the control plane one minor and then the nodes, each followed to done as a GKE operation', async () => {
    await driver.ensureCluster(clusterSpec('capstan-upgrade', '1.34.11-gke.1209000'));
    await running('capstan-upgrade');
    await driver.ensureNodePool('capstan-upgrade', poolSpec('pool-u', 1, '1.34.11-gke.1209000'));
    await poolReady('capstan-upgrade', 'pool-u', 1);

    const controlPlane = await driver.upgradeControlPlane('capstan-upgrade', '1.35.8-gke.1225000');
    expect(controlPlane).toMatchObject({ provider: 'gke', kind: 'gke-operation', target: 'capstan-upgrade', version: '1.35.8-gke.1225000' });
    expect(controlPlane.name).toMatch(new RegExp(`^projects/${PROJECT}/locations/europe-west6/operations/operation-`));
    expectDoneWithoutError(await followed(controlPlane));
    expect((await driver.getCluster('capstan-upgrade'))!.version).toBe('1.35.8-gke.1225000');

    const nodes = await driver.upgradeNodePool('capstan-upgrade', 'pool-u', '1.35.8-gke.1225000');
    expectDoneWithoutError(await followed(nodes));
    expect((await poolReady('capstan-upgrade', 'pool-u', 1)).nodes[0]!.version).toBe('1.35.8-gke.1225000');
  });

  it('resumes after a worker restart: a new driver follows the same operation by name and sends no second upgrade', async () => {
    await driver.ensureCluster(clusterSpec('capstan-restart', '1.34.11-gke.1209000'));
    await running('capstan-restart');
    const started = await driver.upgradeControlPlane('capstan-restart', '1.35.8-gke.1225000');
    const checkpoint = JSON.parse(JSON.stringify(started)) as ProviderOperation;

    // The worker dies; another process builds its own driver and replays the step.
    const restarted = new GkeDriver(settings());
    try {
      const replayed = await restarted.upgradeControlPlane('capstan-restart', '1.35.8-gke.1225000');
      expect(replayed.name).toBe(started.name);
      expectDoneWithoutError(await followed(checkpoint, restarted));
      expect((await restarted.upgradeControlPlane('capstan-restart', '1.35.8-gke.1225000')).name).toBe(started.name);
    } finally {
      await restarted.close();
    }
    expect(await calls('gke.clusters.updateMaster', 'capstan-restart')).toBe(1);
  });

  it('retries a create whose answer was lost without sending a second create', async () => {
    await fetch(`${sim.apiUrl}/v1/chaos/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { call: 'gke.clusters.create', cluster: 'capstan-lost' }, mode: 'fail_once', at: 'response' }),
    });
    const first = await driver.ensureCluster(clusterSpec('capstan-lost')).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ProviderError);
    expect(first).toMatchObject({ retryable: true, code: 'gke_unavailable' });

    const again = await driver.ensureCluster(clusterSpec('capstan-lost'));
    expect(again.name).toBe('capstan-lost');
    expect(await calls('gke.clusters.create', 'capstan-lost')).toBe(1);
  });

  it('maps GKE refusals to final errors and a busy cluster to a retryable one', async () => {
    await expect(driver.ensureCluster(clusterSpec('capstan-bad-version', '1.35.4'))).rejects.toMatchObject({ retryable: false, code: 'gke_invalid_argument' });
    // A simulator whose operations take a minute, on the same cloud: the cluster stays busy.
    const slow = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 60_000 });
    const slowDriver = new GkeDriver({ ...settings(), apiEndpoint: slow.gkeUrl, credentials: { kind: 'token-endpoint', url: `${slow.gkeUrl}/token` } });
    try {
      expect(await slowDriver.ensureCluster(clusterSpec('capstan-busy'))).toMatchObject({ status: 'provisioning', endpoint: null, caCertificate: null });
      await expect(slowDriver.upgradeControlPlane('capstan-busy', '1.36.4-gke.1391000')).rejects.toMatchObject({
        retryable: true,
        message: expect.stringContaining('incompatible operation'),
      });
    } finally {
      await slowDriver.close();
      await slow.close();
    }
    await driver.ensureCluster(clusterSpec('capstan-refused'));
    await running('capstan-refused');
    await expect(driver.upgradeControlPlane('capstan-refused', '1.34.11-gke.1209000')).rejects.toMatchObject({
      retryable: false,
      code: 'gke_failed_precondition',
    });
  });

  it('deletes a cluster so that nothing of it is left in the emulator', async () => {
    await driver.ensureCluster(clusterSpec('capstan-gone'));
    await running('capstan-gone');
    await driver.deleteCluster('capstan-gone');
    await eventually(async () => (await driver.getCluster('capstan-gone')) === null, 20_000, 50);

    expect(await sim.kube.getApiServer('capstan-gone')).toBeNull();
    const { rows } = await stats.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM simulator.gke_clusters WHERE name = $1)::int + (SELECT count(*) FROM simulator.gke_node_pools WHERE cluster = $1)::int AS n`,
      ['capstan-gone'],
    );
    expect(rows[0]!.n).toBe(0);
    await expect(driver.deleteCluster('capstan-gone')).resolves.toBeUndefined();
  });

  it('creates a cluster on every GKE version the catalogue offers as supported', async () => {
    const supported = listVersions(new Date(), 'gke', VERSION_CATALOGUE.entries).filter((v) => v.state === 'supported');
    expect(supported.length).toBeGreaterThan(0);
    for (const version of supported) {
      const name = `capstan-v${version.minor.replace('.', '-')}`;
      await driver.ensureCluster(clusterSpec(name, version.latestPatch));
      expect(await running(name)).toMatchObject({ version: version.latestPatch });
    }
  });

  it('talks to no host but this machine (no metadata server, no Google endpoint)', () => {
    // The tripwire saw the driver's own connections (so it sees connections at all)...
    expect(contacted).toContain(`127.0.0.1:${new URL(sim.gkeUrl).port}`);
    expect(contacted).toContain(`127.0.0.1:${new URL(sim.kubeUrl).port}`);
    // ...and nothing else: neither 169.254.169.254 nor metadata.google.internal nor *.googleapis.com.
    expect([...contacted].filter((target) => !/^(127\.0\.0\.1|localhost|::1):\d+$/.test(target))).toEqual([]);
  });
});
