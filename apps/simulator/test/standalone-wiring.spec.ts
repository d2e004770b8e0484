import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { parse } from 'yaml';
import { MANAGEMENT_API_SERVER, type RunningSimulator, startSimulator } from '../src';
import { prepareManagementCluster } from '../src/driver-environment';

const TOKEN = 'sim-0123456789abcdef0123456789abcdef';

interface Kubeconfig {
  clusters: { cluster: { server: string; 'tls-server-name': string } }[];
  users: { user: { token: string } }[];
}

/**
 * The simulator as Compose and the Helm chart run it (main.ts): reached by a service name other
 * containers resolve, its management kubeconfig written to a shared volume or fetched over its API,
 * and a /readyz that says "ready" only once both are in place.
 */
describe('the standalone simulator as other containers reach it', () => {
  let db: TestDatabase;
  let simulator: RunningSimulator;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'capstan-sim-wiring-'));
    simulator = await startSimulator({
      databaseUrl: db.url,
      host: '127.0.0.1',
      advertiseHost: 'simulator',
      apiPort: 0,
      kubePort: 0,
      gkePort: 0,
      stepDelayMs: 0,
      apiToken: TOKEN,
      readyAtStart: false,
    });
  }, 60_000);

  afterAll(async () => {
    await simulator?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not ready until its setup is done, then ready without a credential', async () => {
    const before = await fetch(`${localUrl(simulator.apiUrl)}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ code: 'unavailable', message: expect.stringContaining('still being set up') });

    await prepareManagementCluster(simulator, { kubeconfigPath: join(dir, 'management.kubeconfig'), namespace: 'capstan-clusters' });
    simulator.markReady();

    const after = await fetch(`${localUrl(simulator.apiUrl)}/readyz`);
    expect(after.status).toBe(200);
    // Every other route still wants the token.
    expect((await fetch(`${localUrl(simulator.apiUrl)}/healthz`)).status).toBe(401);
  });

  it('hands out URLs on the advertised name, and its certificate covers that name', async () => {
    expect(simulator.apiUrl).toMatch(/^http:\/\/simulator:\d+$/);
    expect(simulator.kubeUrl).toMatch(/^https:\/\/simulator:\d+$/);
    expect(simulator.gkeUrl).toMatch(/^http:\/\/simulator:\d+$/);

    const kubeconfig = parse(readFileSync(join(dir, 'management.kubeconfig'), 'utf8')) as Kubeconfig;
    expect(kubeconfig.clusters[0]!.cluster.server).toBe(simulator.kubeUrl);
    expect(kubeconfig.clusters[0]!.cluster['tls-server-name']).toBe(`${MANAGEMENT_API_SERVER.name}.clusters.simulator.capstan.test`);

    const certificate = await peerCertificate(Number(new URL(simulator.kubeUrl).port), simulator.caCertificate);
    expect(checkServerIdentity('simulator', certificate)).toBeUndefined();
    expect(checkServerIdentity('elsewhere', certificate)).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('creates the clusters namespace once, and serves the same kubeconfig over its API', async () => {
    await prepareManagementCluster(simulator, { namespace: 'capstan-clusters' });
    const namespace = await simulator.kube.server(MANAGEMENT_API_SERVER.name).get({ apiVersion: 'v1', kind: 'Namespace', name: 'capstan-clusters' });
    expect(namespace).toMatchObject({ metadata: { name: 'capstan-clusters' } });

    const url = `${localUrl(simulator.apiUrl)}/v1/management/kubeconfig`;
    expect((await fetch(url)).status).toBe(401);
    const served = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(readFileSync(join(dir, 'management.kubeconfig'), 'utf8'));
  });
});

/** The test process cannot resolve `simulator`; the listener is on loopback. */
function localUrl(url: string): string {
  return url.replace('//simulator:', '//127.0.0.1:');
}

function peerCertificate(port: number, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: `${MANAGEMENT_API_SERVER.name}.clusters.simulator.capstan.test` }, () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate);
    });
    socket.once('error', reject);
  });
}
