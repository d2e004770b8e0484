import { allRoutes } from '@capstan/contracts';
import { buildOpenApiDocument } from './openapi-document';
// Every contract registers its routes when loaded: load them all, as the API does.
import '@capstan/contracts';

type Responses = Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;

describe('response headers and alternative formats in the OpenAPI document', () => {
  const document = buildOpenApiDocument(allRoutes(), { title: 'Capstan API', version: '0.0.0-test', description: 'headers' }, 'http://127.0.0.1:8080');
  const responses = (path: string, method: string) => (document.paths as Record<string, Record<string, { responses: Responses }>>)[path]![method]!.responses;
  const headerNames = (path: string, method: string, status: string) => Object.keys(responses(path, method)[status]?.headers ?? {}).sort();

  it('an idempotent create: Location and Idempotent-Replayed; its 409 (key in flight), 429 and 503: Retry-After', () => {
    expect(headerNames('/v1/clusters', 'post', '202')).toEqual(['Idempotent-Replayed', 'Location']);
    for (const status of ['409', '429', '503']) expect(headerNames('/v1/clusters', 'post', status)).toEqual(['Retry-After']);
    expect(headerNames('/v1/clusters', 'post', '422')).toEqual([]);
  });

  it('a body with an etag: ETag on the answer, and only there', () => {
    expect(headerNames('/v1/clusters/{cluster_id}', 'get', '200')).toEqual(['ETag']);
    // A PATCH is idempotent since it may start an operation (a GKE cluster's settings): replays say so.
    expect(headerNames('/v1/clusters/{cluster_id}', 'patch', '200')).toEqual(['ETag', 'Idempotent-Replayed']);
    expect(headerNames('/v1/clusters', 'get', '200')).toEqual([]);
  });

  it('the credits report: JSON or CSV', () => {
    expect(Object.keys(responses('/admin/v1/billing/credits', 'get')['200']!.content!)).toEqual(['application/json', 'text/csv']);
  });
});
