import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { unreachableDependency } from '@capstan/platform';
import { ProviderError } from '../cluster-provider';
import { SimulatedProvider } from './simulated-provider';

/**
 * How SimulatedProvider speaks HTTP and maps answers onto the port's contract, against a canned
 * server. The simulator's behaviour itself is tested through this client in apps/simulator/test.
 */
describe('SimulatedProvider', () => {
  let server: Server;
  let provider: SimulatedProvider;
  let answer: { status: number; body?: unknown; delayMs?: number };
  let seen: { method: string; url: string; contentType: string | undefined; body: string }[];

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      seen.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], body });
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    provider = new SimulatedProvider({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, timeoutMs: 200 });
  });
  beforeEach(() => {
    seen = [];
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const rejection = (work: Promise<unknown>) =>
    work.then(
      () => {
        throw new Error('expected a ProviderError');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(ProviderError);
        return error as ProviderError;
      },
    );

  it('ensures a cluster with PUT on its name and returns only the port’s fields', async () => {
    answer = {
      status: 201,
      body: { name: 'capstan-a', status: 'provisioning', version: '1.34.2', endpoint: null, caCertificate: null, flavour: 'rke2', apiServer: 'up' },
    };
    const spec = { name: 'capstan-a', flavour: 'rke2' as const, region: 'ch-gva-2', version: '1.34.2', labels: {} };

    const cluster = await provider.ensureCluster(spec);

    expect(cluster).toEqual({ name: 'capstan-a', status: 'provisioning', version: '1.34.2', endpoint: null, caCertificate: null });
    expect(seen).toEqual([{ method: 'PUT', url: '/v1/clusters/capstan-a', contentType: 'application/json', body: JSON.stringify(spec) }]);
  });

  it('turns 404 into null for reads and success for deletes, sending no body', async () => {
    answer = { status: 404, body: { code: 'not_found', message: 'cluster capstan-b does not exist' } };

    expect(await provider.getCluster('capstan-b')).toBeNull();
    expect(await provider.getNodePool('capstan-b', 'pool-a')).toBeNull();
    await expect(provider.deleteCluster('capstan-b')).resolves.toBeUndefined();
    expect(seen.map((s) => [s.method, s.contentType, s.body])).toEqual([
      ['GET', undefined, ''],
      ['GET', undefined, ''],
      ['DELETE', undefined, ''],
    ]);
  });

  it('maps 4xx to a ProviderError that is not retryable, with the simulator’s message and code', async () => {
    answer = { status: 409, body: { code: 'conflict', message: 'control-plane upgrades move one minor version at a time' } };

    const error = await rejection(provider.upgradeControlPlane('capstan-c', '1.36.0'));

    expect(error).toMatchObject({ retryable: false, code: 'conflict', message: 'simulated cloud: control-plane upgrades move one minor version at a time' });
  });

  it('maps 5xx, with or without a body, to a retryable ProviderError', async () => {
    answer = { status: 503, body: { code: 'injected_fault', message: 'injected fault 1: ensureNodePool failed before taking effect' } };
    expect(await rejection(provider.getCluster('capstan-d'))).toMatchObject({ retryable: true, code: 'injected_fault' });

    answer = { status: 502 };
    expect(await rejection(provider.getCluster('capstan-d'))).toMatchObject({
      retryable: true,
      code: 'http_502',
      message: 'simulated cloud: GET /v1/clusters/capstan-d answered 502',
    });
  });

  it('gives up after its timeout with a retryable error', async () => {
    answer = { status: 200, body: { items: [] }, delayMs: 500 };
    expect(await rejection(provider.listAddons('capstan-e'))).toMatchObject({ retryable: true, code: 'timeout' });
  });

  it('says a call that got no answer could not reach the simulated cloud, at its configured host, not the database', async () => {
    // A port that was just free: nothing listens on it, so the connection is refused.
    const probe = createTcpServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const closed = new SimulatedProvider({ apiUrl: `http://127.0.0.1:${port}`, timeoutMs: 10_000 });
    const refused = await rejection(closed.listFaults());
    // The socket's own words (`connect ECONNREFUSED`) are in the message, which read as Postgres before.
    expect(refused).toMatchObject({ retryable: true, code: 'unavailable', unreachable: { dependency: 'simulated-cloud', host: `127.0.0.1:${port}` } });
    expect(unreachableDependency(refused)).toBe('simulated-cloud');

    answer = { status: 200, body: { items: [] }, delayMs: 500 };
    const slow = await rejection(provider.listAddons('capstan-f'));
    expect(unreachableDependency(slow)).toBe('simulated-cloud');
  });

  it('reads dates in credentials and snapshots as Dates', async () => {
    answer = {
      status: 201,
      body: { server: 'https://127.0.0.1:8443/clusters/capstan-f', caCertificate: 'PEM', token: 'sim_x', expiresAt: '2030-01-01T00:00:00.000Z' },
    };
    expect((await provider.issueCredentials('capstan-f', 60)).expiresAt).toEqual(new Date('2030-01-01T00:00:00.000Z'));

    answer = {
      status: 201,
      body: {
        server: 'https://127.0.0.1:8443',
        tlsServerName: 'capstan-f.clusters.test',
        caCertificate: 'PEM',
        token: 'sim_x',
        expiresAt: '2030-01-01T00:00:00.000Z',
      },
    };
    expect(await provider.issueCredentials('capstan-f', 60)).toMatchObject({ server: 'https://127.0.0.1:8443', tlsServerName: 'capstan-f.clusters.test' });

    answer = { status: 200, body: { cluster: 'capstan-f', name: 'snap-1', version: '1.34.2', sizeBytes: 5, createdAt: '2030-01-02T00:00:00.000Z' } };
    expect(await provider.snapshot('capstan-f', 'snap-1')).toEqual({
      name: 'snap-1',
      version: '1.34.2',
      sizeBytes: 5,
      createdAt: new Date('2030-01-02T00:00:00.000Z'),
    });
  });
});
