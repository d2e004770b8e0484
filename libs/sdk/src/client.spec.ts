import { createCapstanClient, type CapstanClientOptions } from './index';

/**
 * The client's own behaviour (headers it adds, how answers come back), against a recording fetch.
 * Real HTTP against the real API is in apps/api/test/sdk-*.e2e.spec.ts.
 */
describe('createCapstanClient', () => {
  const TOKEN = `cap_${'a'.repeat(43)}`;

  function recordingClient(answer: () => Response = () => Response.json({ items: [], next_cursor: null }), options: Partial<CapstanClientOptions> = {}) {
    const requests: Request[] = [];
    const client = createCapstanClient({
      baseUrl: 'https://capstan.example.com/',
      token: TOKEN,
      fetch: async (request) => {
        requests.push(request);
        return answer();
      },
      ...options,
    });
    return { client, requests };
  }

  const clusterBody = {
    name: 'prod-zrh',
    provider: 'rke2' as const,
    region: 'nine-cz41',
    node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 3 }],
  };

  it('sends the token as a bearer credential, with path and query parameters in the URL', async () => {
    // given
    const { client, requests } = recordingClient();
    // when
    await client.GET('/v1/clusters', { params: { query: { label_selector: 'env=prod,tier!=web', limit: 5 } } });
    await client.GET('/v1/clusters/{cluster_id}/node-pools', { params: { path: { cluster_id: 'cl_01jd3z6q4e5k8w2x9v7b0c1n2m' } } });
    // then
    expect(requests.map((r) => r.headers.get('authorization'))).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    const listed = new URL(requests[0]!.url);
    expect(listed.origin + listed.pathname).toBe('https://capstan.example.com/v1/clusters');
    expect(listed.searchParams.get('label_selector')).toBe('env=prod,tier!=web');
    expect(listed.searchParams.get('limit')).toBe('5');
    expect(requests[1]!.url).toBe('https://capstan.example.com/v1/clusters/cl_01jd3z6q4e5k8w2x9v7b0c1n2m/node-pools');
  });

  it('adds no Idempotency-Key unless asked to', async () => {
    const { client, requests } = recordingClient();
    await client.POST('/v1/clusters', { body: clusterBody });
    expect(requests[0]!.headers.has('idempotency-key')).toBe(false);
  });

  it('with idempotencyKeys on, gives each idempotent write a fresh key and leaves other requests alone', async () => {
    // given
    const { client, requests } = recordingClient(undefined, { idempotencyKeys: true });
    // when
    await client.POST('/v1/clusters', { body: clusterBody });
    await client.POST('/v1/clusters', { body: clusterBody });
    await client.DELETE('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: 'cl_01jd3z6q4e5k8w2x9v7b0c1n2m' } } });
    // a cluster PATCH may start an operation (a GKE cluster's settings), so it is idempotent too
    await client.PATCH('/v1/clusters/{cluster_id}', { params: { path: { cluster_id: 'cl_01jd3z6q4e5k8w2x9v7b0c1n2m' } }, body: { labels: { env: 'prod' } } });
    await client.POST('/v1/tokens', { body: { name: 'ci', scopes: ['read'] } });
    await client.GET('/v1/clusters');
    // then
    const keys = requests.map((r) => r.headers.get('idempotency-key'));
    expect(keys.slice(0, 4)).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
    ]);
    expect(new Set(keys.slice(0, 4)).size).toBe(4);
    // A token create is not idempotent on purpose (its secret is shown once); GETs need no key.
    expect(keys.slice(4)).toEqual([null, null]);
  });

  it('keeps a key the call brings, and takes generated keys from the given function', async () => {
    const { client, requests } = recordingClient(undefined, { idempotencyKeys: () => 'from-the-generator' });
    await client.POST('/v1/clusters', { body: clusterBody, params: { header: { 'Idempotency-Key': 'my-own-key' } } });
    await client.POST('/v1/clusters', { body: clusterBody });
    expect(requests.map((r) => r.headers.get('idempotency-key'))).toEqual(['my-own-key', 'from-the-generator']);
  });

  it('returns a problem+json answer as a typed error with the response', async () => {
    // given
    const problem = {
      type: 'https://capstan.dev/problems/cluster-busy',
      title: 'Conflict',
      status: 409,
      detail: 'cluster cl_x is provisioning',
      operation_id: 'op_y',
    };
    const { client } = recordingClient(() => new Response(JSON.stringify(problem), { status: 409, headers: { 'content-type': 'application/problem+json' } }));
    // when
    const { data, error, response } = await client.POST('/v1/clusters', { body: clusterBody });
    // then
    expect(data).toBeUndefined();
    expect(response.status).toBe(409);
    expect(error?.type).toBe('https://capstan.dev/problems/cluster-busy');
    expect(error?.operation_id).toBe('op_y');
  });

  it('refuses to build a client without a token', () => {
    expect(() => createCapstanClient({ baseUrl: 'https://capstan.example.com', token: '' })).toThrow(/token is required/);
  });
});
