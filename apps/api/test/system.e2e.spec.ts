import SwaggerParser from '@apidevtools/swagger-parser';
import { startTestApi, type TestApi } from '@capstan/testing';

describe('API system endpoints', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('answers liveness and readiness with both dependencies up', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });

  it('refuses a query parameter on the probes with a 400 naming it, as every route refuses an unknown field', async () => {
    for (const url of ['/healthz?verbose=1', '/readyz?x=1&x=2']) {
      const res = await api.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().errors[0].field).toBe(url.startsWith('/healthz') ? 'verbose' : 'x');
    }
    expect((await api.app.inject({ method: 'GET', url: '/readyz?' })).statusCode).toBe(200);
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await api.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(kept.headers['x-request-id']).toBe('trace-123');
    const replaced = await api.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } });
    expect(replaced.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ type: 'https://capstan.dev/problems/not-found', status: 404, instance: '/v1/nothing-here' });
    expect(res.json().request_id).toBe(res.headers['x-request-id']);
  });

  it('answers malformed JSON with a 400 problem and a non-JSON body with 415', async () => {
    const malformed = await api.app.inject({ method: 'POST', url: '/healthz', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ type: 'https://capstan.dev/problems/malformed-request', status: 400 });
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/healthz',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().type).toBe('https://capstan.dev/problems/payload-too-large');
  });

  it('serves Prometheus metrics including its own request timings', async () => {
    await api.app.inject({ method: 'GET', url: '/healthz' });
    const res = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/capstan_http_request_duration_seconds_count\{service="api",method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });

  it('publishes an OpenAPI 3.1 document that a third-party validator accepts, and docs', async () => {
    const document = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeDefined();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']));
    expect(document.paths['/readyz'].get.responses['503'].content['application/problem+json']).toBeDefined();
    const docs = await api.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger-ui');
  });
});
