import { createTestDatabase, eventually, type TestDatabase } from '@capstan/testing';
import { Client } from 'pg';
import { type RunningSimulator, startSimulator } from '../src';

const PROJECT = 'capstan-test';
const LOCATION = 'europe-west6';
const parent = `/v1/projects/${PROJECT}/locations/${LOCATION}`;

interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/**
 * The emulated Container API over HTTP, as curl or google-gax see it. Two simulators share one
 * database: `fast` completes operations on the next read (step 0), `slow` starts operations that
 * run for a minute, for what must be seen while one runs.
 */
describe('the emulated GKE Container API v1', () => {
  let db: TestDatabase;
  let fast: RunningSimulator;
  let slow: RunningSimulator;
  let token: string;

  const call = async <T = Record<string, unknown>>(
    sim: RunningSimulator,
    method: string,
    path: string,
    body?: unknown,
    bearer: string | null = token,
  ): Promise<Reply<T>> => {
    const response = await fetch(`${sim.gkeUrl}${path}`, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const gke = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => call<T>(fast, method, path, body);
  const clusterBody = (name: string, extra: Record<string, unknown> = {}) => ({
    cluster: {
      name,
      initialClusterVersion: '1.35.8-gke.1225000',
      nodePools: [{ name: 'system', initialNodeCount: 1, locations: ['europe-west6-a'] }],
      ...extra,
    },
  });
  const operationDone = async (name: string) => {
    await eventually(async () => (await gke<{ status: string }>('GET', `${parent}/operations/${name}`)).body.status === 'DONE', 10_000, 25);
    return (await gke<{ status: string; error?: unknown; endTime?: string }>('GET', `${parent}/operations/${name}`)).body;
  };
  const errorOf = (reply: Reply) => reply.body['error'] as { code: number; status: string; message: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    fast = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 0 });
    slow = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 60_000 });
    const issued = await fetch(`${fast.gkeUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    token = ((await issued.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await Promise.allSettled([fast?.close(), slow?.close()]);
    await db?.drop();
  });

  it('wants a bearer token it issued, answering 401 UNAUTHENTICATED as a google.rpc.Status', async () => {
    const missing = await call(fast, 'GET', `${parent}/clusters`, undefined, null);
    const wrong = await call(fast, 'GET', `${parent}/clusters`, undefined, 'ya29.not-issued');

    expect(missing.status).toBe(401);
    expect(errorOf(missing)).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', message: expect.stringContaining('missing required authentication') });
    expect(wrong.status).toBe(401);
    expect((await gke('GET', `${parent}/clusters`)).status).toBe(200);
  });

  it('creates a cluster in europe-west6 as a long-running operation that ends DONE with the cluster RUNNING', async () => {
    const created = await gke<{ name: string; status: string; operationType: string; targetLink: string; selfLink: string; startTime: string }>(
      'POST',
      `${parent}/clusters`,
      clusterBody('orders'),
    );

    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ operationType: 'CREATE_CLUSTER', status: 'PENDING', location: LOCATION, zone: LOCATION });
    expect(created.body.name).toMatch(/^operation-\d+-[0-9a-f]{8}$/);
    expect(created.body.targetLink).toBe(`${fast.gkeUrl}${parent}/clusters/orders`);
    expect(created.body.selfLink).toBe(`${fast.gkeUrl}${parent}/operations/${created.body.name}`);
    const done = await operationDone(created.body.name);
    expect(done.error).toBeUndefined();
    expect(Date.parse(done.endTime!)).toBeGreaterThanOrEqual(Date.parse(created.body.startTime));

    const cluster = await gke<Record<string, unknown>>('GET', `${parent}/clusters/orders`);
    expect(cluster.body).toMatchObject({
      name: 'orders',
      status: 'RUNNING',
      location: LOCATION,
      locations: ['europe-west6-a', 'europe-west6-b', 'europe-west6-c'],
      currentMasterVersion: '1.35.8-gke.1225000',
      currentNodeVersion: '1.35.8-gke.1225000',
      currentNodeCount: 1,
      releaseChannel: { channel: 'REGULAR' },
      nodePools: [expect.objectContaining({ name: 'system', status: 'RUNNING', version: '1.35.8-gke.1225000', locations: ['europe-west6-a'] })],
    });
    const list = await gke<{ clusters: { name: string }[] }>('GET', `${parent}/clusters`);
    expect(list.body.clusters.map((c) => c.name)).toContain('orders');

    // Its API server is a workload cluster of the Kubernetes API emulator, with a Node per node.
    expect(await fast.kube.getApiServer('orders')).toMatchObject({ role: 'workload', distribution: 'gke', version: '1.35.8-gke.1225000', serving: true });
    expect(cluster.body).toMatchObject({
      endpoint: new URL(fast.kubeUrl).host,
      controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: 'orders.clusters.simulator.capstan.test' } },
      masterAuth: { clusterCaCertificate: Buffer.from(fast.caCertificate).toString('base64') },
    });
    const nodes = await fast.kube.server('orders').list('v1', 'Node');
    expect(nodes.map((n) => n.metadata.labels)).toEqual([
      expect.objectContaining({ 'cloud.google.com/gke-nodepool': 'system', 'topology.kubernetes.io/zone': 'europe-west6-a' }),
    ]);
    expect(nodes[0]!.status).toMatchObject({ nodeInfo: { kubeletVersion: 'v1.35.8-gke.1225000' } });
  });

  it('answers unknown clusters, pools and operations with 404 NOT_FOUND', async () => {
    for (const path of [`${parent}/clusters/nowhere`, `${parent}/clusters/orders/nodePools/nowhere`, `${parent}/operations/operation-1-deadbeef`]) {
      const reply = await gke('GET', path);
      expect(reply.status).toBe(404);
      expect(errorOf(reply)).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    }
  });

  it('refuses a second cluster of the same name with 409 ALREADY_EXISTS', async () => {
    await operationDone((await gke<{ name: string }>('POST', `${parent}/clusters`, clusterBody('twice'))).body.name);
    const again = await gke('POST', `${parent}/clusters`, clusterBody('twice'));
    expect(again.status).toBe(409);
    expect(errorOf(again)).toMatchObject({ code: 409, status: 'ALREADY_EXISTS', message: expect.stringContaining('clusters/twice') });
  });

  it.each([
    ['an upstream version without the GKE build', '1.35.4', 'is unsupported'],
    ['a GKE build it does not offer', '1.35.4-gke.1200', 'is unsupported'],
    ['a version with a v prefix', 'v1.35.8-gke.1225000', 'is not a valid version'],
    ['garbage', '1.35.x', 'is not a valid version'],
  ])('refuses %s (%s) with 400 INVALID_ARGUMENT', async (_what, version, message) => {
    const reply = await gke('POST', `${parent}/clusters`, clusterBody('bad-version', { initialClusterVersion: version }));
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining(message) });
  });

  it('resolves version aliases (1.35, 1.35.8, latest, -) to a GKE build', async () => {
    const minor = await gke<{ name: string }>('POST', `${parent}/clusters`, clusterBody('alias-minor', { initialClusterVersion: '1.35' }));
    await operationDone(minor.body.name);
    expect((await gke('GET', `${parent}/clusters/alias-minor`)).body['currentMasterVersion']).toBe('1.35.8-gke.1225000');

    const config = await gke<{ validMasterVersions: string[]; defaultClusterVersion: string }>('GET', `${parent}/serverConfig`);
    expect(config.body.validMasterVersions.every((v) => /^\d+\.\d+\.\d+-gke\.\d+$/.test(v))).toBe(true);
    const latest = await gke<{ name: string }>(
      'POST',
      `${parent}/clusters`,
      clusterBody('alias-latest', { initialClusterVersion: 'latest', nodePools: [{ name: 'system', initialNodeCount: 1 }] }),
    );
    await operationDone(latest.body.name);
    expect((await gke('GET', `${parent}/clusters/alias-latest`)).body['currentMasterVersion']).toBe(config.body.validMasterVersions[0]);
  });

  it('answers malformed requests with 400 INVALID_ARGUMENT naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', `${parent}/clusters`, { cluster: { name: 'Upper-Case', nodePools: [{ name: 'a', initialNodeCount: 1 }] } }, 'cluster.name'],
      ['POST', `${parent}/clusters`, { cluster: { name: 'no-pools' } }, 'initial_node_count'],
      ['POST', `/v1/projects/${PROJECT}/locations/mars-central1/clusters`, clusterBody('mars'), 'mars-central1'],
      ['POST', `${parent}/clusters/orders/nodePools/system:setSize`, { nodeCount: -1 }, 'nodeCount'],
      [
        'POST',
        `${parent}/clusters/orders:setMaintenancePolicy`,
        { maintenancePolicy: { window: { recurringWindow: { window: { startTime: 'soon', endTime: 'later' }, recurrence: 'FREQ=WEEKLY;BYDAY=SA' } } } },
        'startTime',
      ],
      ['PUT', `${parent}/clusters/orders`, { update: {} }, 'exactly one'],
    ];
    for (const [method, path, body, mentions] of cases) {
      const reply = await gke(method, path, body);
      expect({ path, status: reply.status }).toEqual({ path, status: 400 });
      expect(errorOf(reply)).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message: expect.stringContaining(mentions) });
    }
  });

  it('upgrades the control plane one minor at a time, refusing skips and downgrades with FAILED_PRECONDITION', async () => {
    const created = await gke<{ name: string }>('POST', `${parent}/clusters`, clusterBody('upgrades', { initialClusterVersion: '1.34.11-gke.1209000' }));
    await operationDone(created.body.name);

    const skip = await gke('POST', `${parent}/clusters/upgrades:updateMaster`, { masterVersion: '1.36.4-gke.1391000' });
    expect(skip.status).toBe(400);
    expect(errorOf(skip)).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('one minor version at a time') });

    const upgrade = await gke<{ name: string; operationType: string }>('PUT', `${parent}/clusters/upgrades`, { update: { desiredMasterVersion: '1.35' } });
    expect(upgrade.body.operationType).toBe('UPGRADE_MASTER');
    await operationDone(upgrade.body.name);
    expect((await gke('GET', `${parent}/clusters/upgrades`)).body).toMatchObject({
      currentMasterVersion: '1.35.8-gke.1225000',
      currentNodeVersion: '1.34.11-gke.1209000',
    });

    const down = await gke('POST', `${parent}/clusters/upgrades:updateMaster`, { masterVersion: '1.34.11-gke.1209000' });
    expect(errorOf(down)).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('downgraded') });

    const nodesAhead = await gke('PUT', `${parent}/clusters/upgrades/nodePools/system`, { nodeVersion: '1.36' });
    expect(errorOf(nodesAhead)).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('cannot be newer than the master') });
    const nodes = await gke<{ name: string; operationType: string }>('PUT', `${parent}/clusters/upgrades/nodePools/system`, {
      nodeVersion: '-',
      imageType: 'COS_CONTAINERD',
    });
    expect(nodes.body.operationType).toBe('UPGRADE_NODES');
    await operationDone(nodes.body.name);
    expect((await gke('GET', `${parent}/clusters/upgrades`)).body).toMatchObject({ currentNodeVersion: '1.35.8-gke.1225000' });
  });

  it('creates, scales, autoscales and deletes a node pool, each as an operation', async () => {
    await operationDone((await gke<{ name: string }>('POST', `${parent}/clusters`, clusterBody('pools'))).body.name);
    const created = await gke<{ name: string; operationType: string }>('POST', `${parent}/clusters/pools/nodePools`, {
      nodePool: {
        name: 'workers',
        initialNodeCount: 2,
        locations: ['europe-west6-b'],
        config: { machineType: 'e2-standard-4', labels: { team: 'a' }, taints: [{ key: 'dedicated', value: 'x', effect: 1 }] },
        upgradeSettings: { maxSurge: 2, maxUnavailable: 0 },
      },
    });
    expect(created.body.operationType).toBe('CREATE_NODE_POOL');
    await operationDone(created.body.name);
    expect((await gke('GET', `${parent}/clusters/pools/nodePools/workers`)).body).toMatchObject({
      status: 'RUNNING',
      config: { machineType: 'e2-standard-4', taints: [{ key: 'dedicated', value: 'x', effect: 'NO_SCHEDULE' }] },
      upgradeSettings: { maxSurge: 2, maxUnavailable: 0, strategy: 'SURGE' },
    });

    const resized = await gke<{ name: string; operationType: string }>('POST', `${parent}/clusters/pools/nodePools/workers:setSize`, { nodeCount: 4 });
    expect(resized.body.operationType).toBe('SET_NODE_POOL_SIZE');
    await operationDone(resized.body.name);
    expect((await gke('GET', `${parent}/clusters/pools`)).body['currentNodeCount']).toBe(1 + 4);
    expect(await fast.kube.server('pools').list('v1', 'Node', { labelSelector: 'cloud.google.com/gke-nodepool=workers' })).toHaveLength(4);

    const autoscaled = await gke<{ name: string }>('POST', `${parent}/clusters/pools/nodePools/workers:setAutoscaling`, {
      autoscaling: { enabled: true, minNodeCount: 1, maxNodeCount: 3 },
    });
    await operationDone(autoscaled.body.name);
    expect((await gke('GET', `${parent}/clusters/pools`)).body['currentNodeCount']).toBe(1 + 3);

    const removed = await gke<{ name: string; operationType: string }>('DELETE', `${parent}/clusters/pools/nodePools/workers`);
    expect(removed.body.operationType).toBe('DELETE_NODE_POOL');
    await operationDone(removed.body.name);
    expect((await gke('GET', `${parent}/clusters/pools/nodePools/workers`)).status).toBe(404);
  });

  it('sets resource labels as an operation, guarded by the labelFingerprint the caller read, and keeps the backup agent flag', async () => {
    const created = await gke<{ name: string }>(
      'POST',
      `${parent}/clusters`,
      clusterBody('labelled', { resourceLabels: { team: 'payments' }, addonsConfig: { gkeBackupAgentConfig: { enabled: true } } }),
    );
    await operationDone(created.body.name);
    const read = await gke<{ labelFingerprint: string; addonsConfig: unknown }>('GET', `${parent}/clusters/labelled`);
    expect(read.body.addonsConfig).toEqual({ gkeBackupAgentConfig: { enabled: true } });

    const set = await gke<{ name: string; operationType: string }>('POST', `${parent}/clusters/labelled:setResourceLabels`, {
      resourceLabels: { team: 'search' },
      labelFingerprint: read.body.labelFingerprint,
    });
    expect(set.status).toBe(200);
    expect(set.body.operationType).toBe('SET_LABELS');
    expect(await operationDone(set.body.name)).toMatchObject({ status: 'DONE' });
    const after = await gke<{ resourceLabels: Record<string, string>; labelFingerprint: string }>('GET', `${parent}/clusters/labelled`);
    expect(after.body.resourceLabels).toEqual({ team: 'search' });
    expect(after.body.labelFingerprint).not.toBe(read.body.labelFingerprint);

    // a write from the stale read is refused, and changes nothing
    const stale = await gke('POST', `${parent}/clusters/labelled:setResourceLabels`, {
      resourceLabels: { team: 'ops' },
      labelFingerprint: read.body.labelFingerprint,
    });
    expect(stale.status).toBe(400);
    expect(errorOf(stale)).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('fingerprint') });
    const missing = await gke('POST', `${parent}/clusters/labelled:setResourceLabels`, { resourceLabels: { team: 'ops' } });
    expect(errorOf(missing)).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining('labelFingerprint') });
    expect((await gke<{ resourceLabels: unknown }>('GET', `${parent}/clusters/labelled`)).body.resourceLabels).toEqual({ team: 'search' });
  });

  it('runs one operation per cluster: another mutation meanwhile is 400 FAILED_PRECONDITION naming it', async () => {
    const creating = await call<{ name: string; status: string }>(slow, 'POST', `${parent}/clusters`, clusterBody('busy'));
    const cluster = await gke<{ status: string }>('GET', `${parent}/clusters/busy`);
    expect(cluster.body.status).toBe('PROVISIONING');

    const meanwhile = await gke('POST', `${parent}/clusters/busy/nodePools/system:setSize`, { nodeCount: 3 });
    expect(meanwhile.status).toBe(400);
    expect(errorOf(meanwhile)).toMatchObject({ status: 'FAILED_PRECONDITION', message: `Cluster is running incompatible operation ${creating.body.name}.` });
    await eventually(async () => (await gke<{ status: string }>('GET', `${parent}/operations/${creating.body.name}`)).body.status === 'RUNNING', 10_000, 25);
  });

  it('cancels a running operation: ABORTING, then DONE with a CANCELLED error', async () => {
    await operationDone((await gke<{ name: string }>('POST', `${parent}/clusters`, clusterBody('cancel-me'))).body.name);
    const upgrade = await call<{ name: string }>(slow, 'POST', `${parent}/clusters/cancel-me:updateMaster`, { masterVersion: '1.36' });

    const cancelled = await call(slow, 'POST', `${parent}/operations/${upgrade.body.name}:cancel`, {});
    expect(cancelled).toEqual({ status: 200, body: {} });
    const aborting = await call<{ status: string }>(slow, 'GET', `${parent}/operations/${upgrade.body.name}`);
    expect(['ABORTING', 'DONE']).toContain(aborting.body.status);

    const read = () => call<{ status: string; error?: { code: number } }>(slow, 'GET', `${parent}/operations/${upgrade.body.name}`);
    await eventually(async () => (await read()).body.status === 'DONE', 20_000, 50);
    expect((await read()).body.error).toMatchObject({ code: 1 });
    expect((await gke('GET', `${parent}/clusters/cancel-me`)).body).toMatchObject({ status: 'RUNNING', currentMasterVersion: '1.35.8-gke.1225000' });
    const again = await gke('POST', `${parent}/operations/${upgrade.body.name}:cancel`, {});
    expect(errorOf(again)).toMatchObject({ status: 'FAILED_PRECONDITION' });
  });

  it('lists the operations of a location', async () => {
    const ops = await gke<{ operations: { operationType: string; targetLink: string }[] }>('GET', `${parent}/operations`);
    expect(ops.body.operations.some((o) => o.operationType === 'CREATE_CLUSTER' && o.targetLink.endsWith('/clusters/orders'))).toBe(true);
  });

  it('injects faults: a create answered 503 after taking effect is found by the retry as the first one', async () => {
    const fault = await fetch(`${fast.apiUrl}/v1/chaos/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { call: 'gke.clusters.create', cluster: 'lost-answer' }, mode: 'fail_once', at: 'response' }),
    });
    expect(fault.status).toBe(201);

    const first = await gke('POST', `${parent}/clusters`, clusterBody('lost-answer'));
    expect(first.status).toBe(503);
    expect(errorOf(first)).toMatchObject({ code: 503, status: 'UNAVAILABLE' });

    const retry = await gke('POST', `${parent}/clusters`, clusterBody('lost-answer'));
    expect(retry.status).toBe(409);
    const found = await gke<{ name: string; createTime: string }>('GET', `${parent}/clusters/lost-answer`);
    expect(found.status).toBe(200);
    const ops = await gke<{ operations: { operationType: string; targetLink: string }[] }>('GET', `${parent}/operations`);
    expect(ops.body.operations.filter((o) => o.operationType === 'CREATE_CLUSTER' && o.targetLink.endsWith('/clusters/lost-answer'))).toHaveLength(1);
  });

  it('deletes a cluster with its pools, leaving nothing but the finished operation', async () => {
    await operationDone((await gke<{ name: string }>('POST', `${parent}/clusters`, clusterBody('short-lived'))).body.name);
    const deleting = await gke<{ name: string; operationType: string }>('DELETE', `${parent}/clusters/short-lived`);
    expect(deleting.body.operationType).toBe('DELETE_CLUSTER');
    await operationDone(deleting.body.name);

    expect((await gke('GET', `${parent}/clusters/short-lived`)).status).toBe(404);
    expect(await fast.kube.getApiServer('short-lived')).toBeNull();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM simulator.gke_node_pools WHERE cluster = 'short-lived'`);
      expect(rows[0]!.n).toBe(0);
    } finally {
      await client.end();
    }
  });
});
