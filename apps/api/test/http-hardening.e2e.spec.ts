import { PrismaService } from '@capstan/platform';
import { clusterRequest, seedOrganization, seedStaff, startTestApi, type TestApi } from '@capstan/testing';
import { connect } from 'node:net';

const PROBLEMS = 'https://capstan.dev/problems/';
const METRICS_TOKEN = 'scrape-0123456789abcdef0123456789abcdef';

describe('HTTP hardening: secrets, security headers, conditional requests, failed authentication', () => {
  let api: TestApi;
  let token: string;
  let staffToken: string;
  let organizationId: string;

  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILURES_PER_MINUTE: '5', TOKENS_PER_ORGANIZATION: '3', METRICS_TOKEN });
    const prisma = api.app.get(PrismaService);
    const org = await seedOrganization(prisma);
    token = org.token;
    organizationId = org.organizationId;
    staffToken = (await seedStaff(prisma, 'admin')).token;
  }, 60_000);

  afterAll(async () => {
    await api.close();
  }, 30_000);

  const customer = () => ({ authorization: `Bearer ${token}` });

  describe('responses that carry a one-time secret are never cached (finding 8)', () => {
    it('sends Cache-Control: no-store with a new token, a new webhook and a staff-issued token', async () => {
      const created = await api.app.inject({ method: 'POST', url: '/v1/tokens', headers: customer(), payload: { name: 'ci' } });
      expect(created.statusCode).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      const webhook = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: customer(), payload: { url: 'https://hooks.example.com/ci' } });
      expect(webhook.statusCode).toBe(201);
      expect(webhook.headers['cache-control']).toBe('no-store');
      await api.app.inject({ method: 'DELETE', url: `/v1/tokens/${created.json().id}`, headers: customer() });
      const issued = await api.app.inject({
        method: 'POST',
        url: `/admin/v1/organizations/${organizationId}/tokens`,
        headers: { authorization: `Bearer ${staffToken}` },
        payload: { name: 'onboarding', scopes: ['read'], reason: 'onboarding call' },
      });
      expect(issued.statusCode).toBe(201);
      expect(issued.headers['cache-control']).toBe('no-store');
      await api.app.inject({ method: 'DELETE', url: `/v1/tokens/${issued.json().id}`, headers: customer() });
    });

    it('sends security headers set for an API on answers and problems alike', async () => {
      for (const res of [
        await api.app.inject({ method: 'GET', url: '/v1/organization', headers: customer() }),
        await api.app.inject({ method: 'GET', url: '/v1/organization' }),
      ]) {
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      }
    });

    it('serves /docs with a policy Swagger UI works under over plain HTTP', async () => {
      const docs = await api.app.inject({ method: 'GET', url: '/docs/' });
      expect(docs.statusCode).toBe(200);
      const csp = String(docs.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
    });
  });

  describe('conditional requests (finding 7)', () => {
    let clusterId: string;
    let etag: string;

    beforeAll(async () => {
      const created = await api.app.inject({ method: 'POST', url: '/v1/clusters', headers: customer(), payload: clusterRequest({ name: 'conditional' }) });
      expect(created.statusCode).toBe(202);
      clusterId = created.json().cluster.id;
      etag = String((await api.app.inject({ method: 'GET', url: `/v1/clusters/${clusterId}`, headers: customer() })).headers.etag);
      expect(etag).toMatch(/^"\d+"$/);
    }, 30_000);

    it('refuses a weak If-Match: updates use the strong comparison', async () => {
      const res = await api.app.inject({
        method: 'PATCH',
        url: `/v1/clusters/${clusterId}`,
        headers: { ...customer(), 'if-match': `W/${etag}` },
        payload: { labels: { env: 'weak' } },
      });
      expect(res.statusCode).toBe(412);
      expect(res.json().type).toBe(`${PROBLEMS}precondition-failed`);
    });

    it('answers a GET whose If-None-Match holds the current ETag with a bodiless 304', async () => {
      for (const ifNoneMatch of [etag, `W/${etag}`, `"999999", ${etag}`, '*']) {
        const res = await api.app.inject({ method: 'GET', url: `/v1/clusters/${clusterId}`, headers: { ...customer(), 'if-none-match': ifNoneMatch } });
        expect(res.statusCode).toBe(304);
        expect(res.body).toBe('');
        expect(res.headers.etag).toBe(etag);
      }
      const changed = await api.app.inject({ method: 'GET', url: `/v1/clusters/${clusterId}`, headers: { ...customer(), 'if-none-match': '"999999"' } });
      expect(changed.statusCode).toBe(200);
      expect(changed.json().id).toBe(clusterId);
    });
  });

  describe('failed authentication and token quota (finding 6)', () => {
    it('says how to authenticate on a 401', async () => {
      const none = await api.app.inject({ method: 'GET', url: '/v1/clusters', remoteAddress: '198.51.100.1' });
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="capstan"');
      const bad = await api.app.inject({ method: 'GET', url: '/v1/clusters', remoteAddress: '198.51.100.1', headers: { authorization: 'Bearer cap_nope' } });
      expect(bad.statusCode).toBe(401);
      expect(bad.headers['www-authenticate']).toBe('Bearer realm="capstan", error="invalid_token"');
    });

    it('answers 429 with Retry-After once an address fails too often, without locking out valid tokens or other addresses', async () => {
      const attempt = (remoteAddress: string, authorization = 'Bearer cap_guess') =>
        api.app.inject({ method: 'GET', url: '/v1/organization', remoteAddress, headers: { authorization } });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await attempt('203.0.113.7')).statusCode);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limited = await attempt('203.0.113.7');
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.json().type).toBe(`${PROBLEMS}rate-limited`);
      expect((await attempt('203.0.113.7', `Bearer ${token}`)).statusCode).toBe(200);
      expect((await attempt('203.0.113.8')).statusCode).toBe(401);
    });

    it('caps the live tokens of an organisation, counting neither revoked nor expired ones', async () => {
      // The seeded token is one of the 3.
      const create = () => api.app.inject({ method: 'POST', url: '/v1/tokens', headers: customer(), payload: { name: 'quota' } });
      const second = await create();
      expect(second.statusCode).toBe(201);
      expect((await create()).statusCode).toBe(201);
      const refused = await create();
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ type: `${PROBLEMS}token-quota-exceeded`, max_tokens: 3 });
      expect((await api.app.inject({ method: 'DELETE', url: `/v1/tokens/${second.json().id}`, headers: customer() })).statusCode).toBe(204);
      expect((await create()).statusCode).toBe(201);
    });
  });

  describe('metrics restricted to a configured token (finding 10)', () => {
    it('answers /metrics only with METRICS_TOKEN', async () => {
      const anonymous = await api.app.inject({ method: 'GET', url: '/metrics' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(anonymous.body).not.toContain('http_request');
      const wrong = await api.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-wrong' } });
      expect(wrong.statusCode).toBe(401);
      const scraped = await api.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(scraped.statusCode).toBe(200);
      expect(scraped.body).toContain('# TYPE');
    });
  });

  it('takes a DELETE sent with Content-Type: application/json and no body as bodiless; a write with an empty JSON body is still refused', async () => {
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: customer(),
      payload: { url: 'https://hooks.example.com/everywhere' },
    });
    expect(created.statusCode).toBe(201);
    const revoked = await api.app.inject({
      method: 'DELETE',
      url: `/v1/webhooks/${created.json().id}`,
      headers: { ...customer(), 'content-type': 'application/json' },
      payload: '',
    });
    expect(revoked.statusCode).toBe(204);
    const emptyWrite = await api.app.inject({ method: 'POST', url: '/v1/tokens', headers: { ...customer(), 'content-type': 'application/json' }, payload: '' });
    expect(emptyWrite.statusCode).toBe(400);
    expect(emptyWrite.headers['content-type']).toMatch(/^application\/problem\+json/);
    // Fastify's prototype-poisoning check still guards every JSON body.
    const poisoned = await api.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: { ...customer(), 'content-type': 'application/json' },
      payload: '{"name":"p","__proto__":{"admin":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
  });

  describe("refusals in our words, not the framework's, and never echoing the input", () => {
    const write = (contentType: string | undefined, payload: string) =>
      api.app.inject({ method: 'POST', url: '/v1/tokens', headers: { ...customer(), ...(contentType ? { 'content-type': contentType } : {}) }, payload });

    it('says a 415 wants application/json, whatever type was sent (merge-patch too: no route takes it)', async () => {
      for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/merge-patch+json', undefined]) {
        const refused = await write(contentType, 'name=<b>x</b>');
        expect(refused.statusCode).toBe(415);
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(refused.json()).toMatchObject({ type: `${PROBLEMS}unsupported-media-type`, status: 415 });
        expect(refused.json().detail).toContain('Content-Type: application/json');
        expect(refused.json().detail).not.toBe('Unsupported Media Type');
        if (contentType) expect(refused.body).not.toContain(contentType.split('/')[1]);
        expect(refused.body).not.toContain('<b>');
      }
      const patch = await api.app.inject({
        method: 'PATCH',
        url: '/v1/clusters/cl_00000000000000000000000000',
        headers: { ...customer(), 'content-type': 'application/merge-patch+json' },
        payload: '{}',
      });
      expect(patch.statusCode).toBe(415);
      expect(patch.json().detail).toContain('application/json');
    });

    it('says malformed JSON is not valid JSON, without quoting it; an empty or oversized body is named as such', async () => {
      const malformed = await write('application/json', '{"name": "<script>secret-ish</script>');
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json()).toMatchObject({ type: `${PROBLEMS}malformed-request`, detail: 'the body is not valid JSON' });
      expect(malformed.body).not.toContain('script');
      expect((await write('application/json', '')).json().detail).toBe('the body is empty but the content type is application/json');
      const big = await write('application/json', JSON.stringify({ name: 'x'.repeat(1_100_000) }));
      expect(big.statusCode).toBe(413);
      expect(big.json().detail).toBe('the request body exceeds the size limit');
    });

    it.each([['1000'], ['0'], ['-1'], ['1.5'], ['abc'], ['1e400'], ['99999999999999999999999']])(
      'answers limit=%s with one message naming the allowed range',
      async (limit) => {
        const refused = await api.app.inject({ method: 'GET', url: `/v1/clusters?limit=${limit}`, headers: customer() });
        expect(refused.statusCode).toBe(400);
        expect(refused.json().errors).toEqual([{ field: 'limit', message: 'must be a whole number from 1 to 100' }]);
        expect(refused.json().detail).toBe('limit: must be a whole number from 1 to 100');
      },
    );

    it('still takes every limit in the range', async () => {
      for (const limit of ['1', '100'])
        expect((await api.app.inject({ method: 'GET', url: `/v1/clusters?limit=${limit}`, headers: customer() })).statusCode).toBe(200);
    });
  });

  describe('what the HTTP parser refuses before routing', () => {
    /** Writes raw bytes to the listening API and reads the whole answer (the server closes the connection). */
    const raw = (port: number, request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(request));
        let answer = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
        socket.on('close', () => resolve(answer)).on('error', reject);
      });
    const split = (answer: string) => {
      const [head, body] = answer.split('\r\n\r\n');
      return { statusLine: head!.split('\r\n')[0], head: head!.toLowerCase(), body: JSON.parse(body!) as Record<string, unknown> };
    };
    let port: number;

    beforeAll(async () => {
      await api.app.listen({ host: '127.0.0.1', port: 0 });
      port = Number(new URL(await api.app.getUrl()).port);
    });

    it("answers headers over 16 KiB with a 431 problem, not Fastify's own JSON", async () => {
      const answer = split(await raw(port, `GET /healthz?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
      expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(answer.head).toContain('content-type: application/problem+json');
      expect(answer.body).toMatchObject({ type: `${PROBLEMS}request-header-fields-too-large`, status: 431 });
      expect(answer.body.request_id).toMatch(/^req_/);
      expect(JSON.stringify(answer.body)).not.toContain('aaaa');
    });

    it('answers a request that is not HTTP with a 400 problem', async () => {
      const answer = split(await raw(port, 'NONSENSE\r\n\r\n'));
      expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(answer.head).toContain('content-type: application/problem+json');
      expect(answer.body).toMatchObject({ type: `${PROBLEMS}malformed-request`, status: 400 });
    });
  });
});
