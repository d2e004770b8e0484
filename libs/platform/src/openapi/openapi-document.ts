import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { problemSchema, type RouteContract } from '@capstan/contracts';
import type { ZodObject } from 'zod';

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed or fails validation; `errors` names each offending field',
  401: 'No valid credential',
  403: 'The credential may not do this (scope, role, or a suspended organisation)',
  404: 'No such object in your organisation',
  409: 'The object is in a state that does not allow this',
  412: 'If-Match does not match the current ETag',
  413: 'The request body is too large',
  414: 'A path segment is longer than 100 characters',
  415: 'The request body is not application/json',
  422: 'Valid, but against a rule (quota, residency, version catalogue, idempotency key reuse)',
  429: 'Rate limit exceeded; see RateLimit-* and Retry-After',
  500: 'Internal error; quote request_id',
  503: 'A dependency (PostgreSQL, Redis) is unreachable; retry after Retry-After seconds',
};

/** Statuses any route of this access level can answer, besides its own `errors`. */
function commonErrors(route: RouteContract): number[] {
  const statuses = [500];
  if (route.params || route.query || route.body) statuses.push(400);
  if (route.body) statuses.push(413, 415);
  // Everything behind a credential reads Postgres: while it is unreachable, 503 with Retry-After.
  if (route.access !== 'public') statuses.push(401, 403, 429, 503);
  if (route.params) statuses.push(404, 414);
  // IdempotencyInterceptor: the key still in flight (409), or reused with another body (422).
  if (route.idempotent) statuses.push(409, 422);
  // A conditional update: a stale If-Match is a 412. If-Match is optional, so never a 428.
  if (route.conditional) statuses.push(412);
  return statuses;
}

const header = (description: string) => ({ description, schema: { type: 'string' as const } });

/** Answers that carry Retry-After: rate limits (429), outages (503), an Idempotency-Key still in flight (409). */
function retryAfter(route: RouteContract, status: number): boolean {
  return status === 429 || status === 503 || (status === 409 && route.idempotent === true);
}

/**
 * The headers a 2xx answer carries (docs/idempotency.md): ETag whenever the body has an `etag`
 * (createHttpApp writes it from the body), Idempotent-Replayed on a replay of an idempotent write,
 * and whatever the contract declares (Location on creates).
 */
function successHeaders(route: RouteContract, status: number, response: RouteContract['responses'][number]) {
  const headers: Record<string, ReturnType<typeof header>> = {};
  if (status < 200 || status > 299) return headers;
  const shape = (response.schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  if (shape && 'etag' in shape)
    headers.ETag = header("The object's version, as in the body: send it as If-Match to update, If-None-Match to read only a change");
  if (route.idempotent) headers['Idempotent-Replayed'] = header('`true` when this is the stored answer to an earlier request with the same Idempotency-Key');
  for (const [name, description] of Object.entries(response.headers ?? {})) headers[name] = header(description);
  return headers;
}

/** Builds the OpenAPI 3.1 document from the route contracts: nothing is described twice. */
export function buildOpenApiDocument(routes: readonly RouteContract[], info: { title: string; version: string; description: string }, serverUrl: string) {
  const registry = new OpenAPIRegistry();
  const problem = registry.register('Problem', problemSchema);
  registry.registerComponent('securitySchemes', 'customerToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'An organisation API token (`cap_...`), created with POST /v1/tokens',
  });
  registry.registerComponent('securitySchemes', 'staffCredential', {
    type: 'http',
    scheme: 'bearer',
    description: 'A staff OIDC access token (JWT) or a staff API token (`capstaff_...`)',
  });

  for (const route of routes) {
    const responses: RouteConfig['responses'] = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const content = response.schema
        ? { [response.contentType ?? 'application/json']: { schema: response.schema } }
        : response.contentType
          ? { [response.contentType]: { schema: { type: 'string' as const } } }
          : undefined;
      // Alternatives are whole documents in another format (e.g. CSV): described as text.
      for (const type of response.alternativeContentTypes ?? []) if (content) content[type] = { schema: { type: 'string' } };
      const headers = successHeaders(route, Number(status), response);
      responses[status] = { description: response.description, ...(content ? { content } : {}), ...(Object.keys(headers).length > 0 ? { headers } : {}) };
    }
    for (const status of new Set([...commonErrors(route), ...(route.errors ?? [])])) {
      responses[String(status)] ??= {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/problem+json': { schema: problem } },
        ...(retryAfter(route, status) ? { headers: { 'Retry-After': header('Seconds to wait before trying again') } } : {}),
      };
    }
    const headers = [
      ...(route.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header' as const,
              required: false,
              schema: { type: 'string' as const, maxLength: 255 },
              description: 'Retries with the same key and body return the first answer',
            },
          ]
        : []),
      ...(route.conditional
        ? [
            {
              name: 'If-Match',
              in: 'header' as const,
              required: false,
              schema: { type: 'string' as const },
              description: 'The ETag you last read; 412 if the object changed since',
            },
          ]
        : []),
    ];
    registry.registerPath({
      method: route.method.toLowerCase() as RouteConfig['method'],
      path: route.path,
      operationId: route.operationId,
      summary: route.summary,
      description: route.description,
      tags: route.tags,
      security: route.access === 'public' ? [] : route.access.startsWith('staff') ? [{ staffCredential: [] }] : [{ customerToken: [] }],
      parameters: headers.length > 0 ? headers : undefined,
      request: {
        params: route.params as ZodObject | undefined,
        query: route.query as ZodObject | undefined,
        // A write that takes no input (noInputBody) accepts a request without a body.
        body: route.body ? { required: !route.body.safeParse(undefined).success, content: { 'application/json': { schema: route.body } } } : undefined,
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { ...info, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    servers: [{ url: serverUrl }],
  });
}
