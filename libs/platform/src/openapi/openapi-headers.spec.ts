import { allRoutes } from '@capstan/contracts';
import { buildOpenApiDocument } from './openapi-document';
// Every contract registers its routes when loaded: load them all, as the API does.
import '@capstan/contracts';

type Responses = Record<string, { headers?: Record<string, { required?: boolean; $ref?: string }>; content?: Record<string, unknown> }>;
type Parameters = { name: string; in: string }[];

describe('response headers and alternative formats in the OpenAPI document', () => {
  const document = buildOpenApiDocument(allRoutes(), { title: 'Capstan API', version: '0.0.0-test', description: 'headers' }, 'http://127.0.0.1:8080');
  const operation = (path: string, method: string) =>
    (document.paths as Record<string, Record<string, { responses: Responses; parameters?: Parameters }>>)[path]![method]!;
  const responses = (path: string, method: string) => operation(path, method).responses;
  const headerNames = (path: string, method: string, status: string) => Object.keys(responses(path, method)[status]?.headers ?? {}).sort();
  const RATE_LIMIT = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

  it('an idempotent create: Location (always) and Idempotent-Replayed; its 409 (key in flight), 429 and 503: Retry-After', () => {
    expect(headerNames('/v1/clusters', 'post', '202')).toEqual(['Idempotent-Replayed', 'Location', ...RATE_LIMIT]);
    expect(responses('/v1/clusters', 'post')['202']!.headers!.Location!.required).toBe(true);
    for (const status of ['409', '429', '503']) expect(headerNames('/v1/clusters', 'post', status)).toEqual([...RATE_LIMIT, 'Retry-After']);
    expect(headerNames('/v1/clusters', 'post', '422')).toEqual(RATE_LIMIT);
  });

  it('RateLimit-* on every answer of an authenticated route but its 401, which carries WWW-Authenticate; none on public routes', () => {
    expect(headerNames('/v1/clusters', 'get', '401')).toEqual(['WWW-Authenticate']);
    expect(headerNames('/v1/clusters', 'get', '404')).toEqual([]);
    expect(headerNames('/v1/clusters/{cluster_id}', 'get', '404')).toEqual(RATE_LIMIT);
    expect(headerNames('/healthz', 'get', '200')).toEqual([]);
    // Described once, referred to everywhere.
    expect(responses('/v1/clusters', 'get')['200']!.headers!['RateLimit-Limit']).toEqual({ $ref: '#/components/headers/RateLimit-Limit' });
    expect(Object.keys(document.components?.headers ?? {}).sort()).toEqual(
      ['Cache-Control', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'WWW-Authenticate'].sort(),
    );
  });

  it('a body with an etag: ETag on the answer, and only there; a GET of one also answers 304 to If-None-Match', () => {
    expect(headerNames('/v1/clusters/{cluster_id}', 'get', '200')).toEqual(['ETag', ...RATE_LIMIT]);
    expect(headerNames('/v1/clusters/{cluster_id}', 'get', '304')).toEqual(['ETag', ...RATE_LIMIT]);
    expect(operation('/v1/clusters/{cluster_id}', 'get').parameters?.map((p) => p.name)).toContain('If-None-Match');
    // A PATCH is idempotent since it may start an operation (a GKE cluster's settings): replays say so.
    expect(headerNames('/v1/clusters/{cluster_id}', 'patch', '200')).toEqual(['ETag', 'Idempotent-Replayed', ...RATE_LIMIT]);
    expect(headerNames('/v1/clusters', 'get', '200')).toEqual(RATE_LIMIT);
    expect(responses('/v1/clusters', 'get')['304']).toBeUndefined();
  });

  it('a route that hands out a secret: Cache-Control on every answer', () => {
    for (const status of ['201', '400', '422']) expect(headerNames('/v1/tokens', 'post', status)).toContain('Cache-Control');
  });

  it('the credits report: JSON or CSV', () => {
    expect(Object.keys(responses('/admin/v1/billing/credits', 'get')['200']!.content!)).toEqual(['application/json', 'text/csv']);
  });
});
