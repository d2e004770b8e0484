import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterSpec, startTestSimulator, type TestSimulator } from './harness';

/** Every simulated cluster's API server, over real HTTPS on the simulator's one kube listener. */
describe('simulated API servers', () => {
  let db: TestDatabase;
  let sim: TestSimulator;

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startTestSimulator({ database: db });
    await sim.provider.ensureCluster(clusterSpec('capstan-kube', '1.34.2'));
    await sim.provider.ensureCluster({ ...clusterSpec('capstan-kube-gke', '1.35.1'), flavour: 'gke' });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('answers /version to a token issued for the cluster, trusting the CA it was issued with', async () => {
    const credentials = await sim.provider.issueCredentials('capstan-kube', 600);

    const response = await sim.kube(credentials.server, '/version', credentials.token, credentials.tlsServerName);

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ major: '1', minor: '34', gitVersion: 'v1.34.2+rke2r1', platform: 'linux/amd64' });
  });

  it('names the distribution in gitVersion', async () => {
    const credentials = await sim.provider.issueCredentials('capstan-kube-gke', 600);
    const response = await sim.kube(credentials.server, '/version', credentials.token, credentials.tlsServerName);
    expect(JSON.parse(response.body)).toMatchObject({ minor: '35', gitVersion: 'v1.35.1-gke.1000' });
  });

  it('answers 401 Unauthorized without a token, with a wrong one, or with another cluster’s', async () => {
    const server = `${sim.simulator.kubeUrl}/clusters/capstan-kube`;
    const otherCluster = await sim.provider.issueCredentials('capstan-kube-gke', 600);

    for (const token of [undefined, 'sim_not-a-token', otherCluster.token]) {
      const response = await sim.kube(server, '/version', token);
      expect(response.status).toBe(401);
      expect(JSON.parse(response.body)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
  });

  it('refuses revoked tokens, and accepts tokens issued after the revocation', async () => {
    const before = await sim.provider.issueCredentials('capstan-kube', 600);
    expect((await sim.kube(before.server, '/version', before.token, before.tlsServerName)).status).toBe(200);

    await sim.provider.revokeCredentials('capstan-kube');
    const after = await sim.provider.issueCredentials('capstan-kube', 600);

    expect((await sim.kube(before.server, '/version', before.token, before.tlsServerName)).status).toBe(401);
    expect((await sim.kube(after.server, '/version', after.token, after.tlsServerName)).status).toBe(200);
  });

  it('refuses expired tokens', async () => {
    const credentials = await sim.provider.issueCredentials('capstan-kube', 1);
    await sleep(Math.max(0, credentials.expiresAt.getTime() - Date.now()) + 50);

    expect((await sim.kube(credentials.server, '/version', credentials.token, credentials.tlsServerName)).status).toBe(401);
  });

  it('picks the cluster by TLS server name on the one listener, and knows no other name', async () => {
    const rke2 = await sim.provider.issueCredentials('capstan-kube', 600);
    const gke = await sim.provider.issueCredentials('capstan-kube-gke', 600);
    expect(rke2.server).toBe(sim.simulator.kubeUrl);
    expect(gke.server).toBe(sim.simulator.kubeUrl);

    expect(JSON.parse((await sim.kube(gke.server, '/version', gke.token, gke.tlsServerName)).body)).toMatchObject({ minor: '35' });
    expect(JSON.parse((await sim.kube(rke2.server, '/version', rke2.token, rke2.tlsServerName)).body)).toMatchObject({ minor: '34' });
    // A token is good for its own cluster only, whichever name the client sends.
    expect((await sim.kube(rke2.server, '/version', gke.token, rke2.tlsServerName)).status).toBe(401);
    expect((await sim.kube(rke2.server, '/readyz', undefined, 'capstan-nothing.clusters.simulator.capstan.test')).status).toBe(404);
    // Without a server name of ours there is no cluster at the root.
    expect((await sim.kube(rke2.server, '/readyz')).status).toBe(404);
  });

  it('answers /readyz and /livez with 200 ok, and 503 while the API server is down', async () => {
    const server = `${sim.simulator.kubeUrl}/clusters/capstan-kube`;
    expect(await sim.kube(server, '/readyz')).toEqual({ status: 200, body: 'ok' });
    expect(await sim.kube(server, '/livez')).toEqual({ status: 200, body: 'ok' });

    await sim.api('POST', '/v1/chaos/clusters/capstan-kube/api-server/down');
    expect((await sim.kube(server, '/readyz')).status).toBe(503);
    expect((await sim.kube(server, '/livez')).status).toBe(503);
    const credentials = await sim.provider.issueCredentials('capstan-kube', 600);
    expect((await sim.kube(server, '/version', credentials.token)).status).toBe(503);
    expect(await sim.provider.getCluster('capstan-kube')).toMatchObject({ status: 'running' });

    await sim.api('POST', '/v1/chaos/clusters/capstan-kube/api-server/up');
    expect((await sim.kube(server, '/readyz')).status).toBe(200);
  });

  it('answers 404 for a cluster that does not exist or has been lost', async () => {
    await sim.provider.ensureCluster(clusterSpec('capstan-kube-lost'));
    await sim.api('POST', '/v1/chaos/clusters/capstan-kube-lost/lose');

    expect((await sim.kube(`${sim.simulator.kubeUrl}/clusters/capstan-kube-lost`, '/readyz')).status).toBe(404);
    expect((await sim.kube(`${sim.simulator.kubeUrl}/clusters/capstan-nothing`, '/readyz')).status).toBe(404);
  });

  it('keeps its CA and the tokens it issued across a restart', async () => {
    const credentials = await sim.provider.issueCredentials('capstan-kube', 600);
    const caBefore = sim.simulator.caCertificate;

    await sim.close();
    sim = await startTestSimulator({ database: db });

    expect(sim.simulator.caCertificate).toBe(caBefore);
    // The restarted listener has another port: the server URL moves, the trust and the token do not.
    const response = await sim.kube(`${sim.simulator.kubeUrl}/clusters/capstan-kube`, '/version', credentials.token);
    expect(response.status).toBe(200);
  });
});
