import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { API_TAGS, problemSchema, type RouteAccess, type RouteContract } from '@capstan/contracts';
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
  503: 'A dependency (PostgreSQL, Redis, or the cloud the clusters run on), named in `detail`, is unreachable; retry after Retry-After seconds',
};

/** Statuses any route of this access level can answer, besides its own `errors`. */
function commonErrors(route: RouteContract): number[] {
  // Every route checks its input: one that declares no query refuses any parameter that is sent.
  const statuses = [400, 500];
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

/**
 * Response headers shared by many answers, described once under components.headers and referred
 * to: RateLimit-* alone would otherwise be repeated on nearly every response of the document.
 */
const SHARED_HEADERS = {
  'RateLimit-Limit': { description: 'Requests the credential may make in the current one-minute window (RATE_LIMIT_PER_MINUTE)', type: 'integer' },
  'RateLimit-Remaining': { description: 'Requests left in the current window', type: 'integer' },
  'RateLimit-Reset': { description: 'Seconds until the current window ends', type: 'integer' },
  'Retry-After': { description: 'Seconds to wait before trying again', type: 'integer' },
  'WWW-Authenticate': { description: 'Bearer realm="capstan", with error="invalid_token" when a token was presented (RFC 6750)', type: 'string' },
  'Cache-Control': { description: '`no-store`: the answer carries a secret (or a credential) that no cache may keep', type: 'string' },
} as const;
type SharedHeader = keyof typeof SHARED_HEADERS;
type HeaderObject = { description: string; required?: boolean; schema: { type: 'string' | 'integer' } } | { $ref: string };

/** A header of one answer; `required` when that answer always carries it (so generated clients may rely on it). */
const header = (description: string, required = false): HeaderObject => ({ description, ...(required ? { required } : {}), schema: { type: 'string' } });
const shared = (name: SharedHeader): HeaderObject => ({ $ref: `#/components/headers/${name}` });

/** Answers that carry Retry-After: rate limits (429), outages (503), an Idempotency-Key still in flight (409). */
function retryAfter(route: RouteContract, status: number): boolean {
  return status === 429 || status === 503 || (status === 409 && route.idempotent === true);
}

/**
 * The headers every answer of a route can carry, whatever its status (docs/http-security.md):
 * RateLimit-* once the caller is known (every status of an authenticated route but 401, which
 * comes before; a 429 for failed authentications has none, and headers in OpenAPI are optional),
 * WWW-Authenticate on a 401, Retry-After where the status calls for it, Cache-Control on every
 * answer of a route that hands out a secret (the header is set before the handler runs).
 */
function commonHeaders(route: RouteContract, status: number): Record<string, HeaderObject> {
  const headers: Record<string, HeaderObject> = {};
  if (route.access !== 'public' && status !== 401)
    for (const name of ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] as const) headers[name] = shared(name);
  if (status === 401) headers['WWW-Authenticate'] = shared('WWW-Authenticate');
  if (retryAfter(route, status)) headers['Retry-After'] = shared('Retry-After');
  if (route.oneTimeSecret) headers['Cache-Control'] = shared('Cache-Control');
  return headers;
}

/**
 * The headers a 2xx answer carries (docs/idempotency.md): ETag whenever the body has an `etag`
 * (createHttpApp writes it from the body), Idempotent-Replayed on a replay of an idempotent write,
 * and whatever the contract declares (Location on creates).
 */
function successHeaders(route: RouteContract, status: number, response: RouteContract['responses'][number]) {
  const headers: Record<string, HeaderObject> = {};
  if (status < 200 || status > 299) return headers;
  if (hasEtag(response))
    headers.ETag = header("The object's version, as in the body: send it as If-Match to update, If-None-Match to read only a change", true);
  if (route.idempotent) headers['Idempotent-Replayed'] = header('`true` when this is the stored answer to an earlier request with the same Idempotency-Key');
  // A contract declares the headers its answer always sends (Location on a create).
  for (const [name, description] of Object.entries(response.headers ?? {})) headers[name] = header(description, true);
  return headers;
}

/** A body with an `etag` field: createHttpApp sends it as the ETag header too. */
function hasEtag(response: RouteContract['responses'][number] | undefined): boolean {
  const shape = (response?.schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape !== undefined && 'etag' in shape;
}

/**
 * The operation's description: the contract's own, then who may call it, which the security
 * requirement alone does not say (it names the kind of credential, not the scope or role).
 */
function describeOperation(route: RouteContract): string | undefined {
  const who: Record<RouteAccess, string | undefined> = {
    public: undefined,
    'customer:read': "Needs an organisation API token with the `read` scope; it sees its own organisation's objects only (another organisation's is a 404).",
    'customer:write':
      "Needs an organisation API token with the `write` scope, of an organisation that is not suspended; it acts on its own organisation's objects only (another organisation's is a 404).",
    'staff:viewer': 'Staff only: any staff role (viewer, operator or admin).',
    'staff:operator': 'Staff only: the operator or admin role.',
    'staff:admin': 'Staff only: the admin role.',
  };
  const parts = [route.description, who[route.access]].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? parts.join('\n\n') : undefined;
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
  for (const [name, { description, type }] of Object.entries(SHARED_HEADERS)) registry.registerComponent('headers', name, { description, schema: { type } });

  for (const route of routes) {
    const responses: RouteConfig['responses'] = {};
    const withHeaders = (status: number, own: Record<string, HeaderObject>) => {
      const headers = { ...commonHeaders(route, status), ...own };
      return Object.keys(headers).length > 0 ? { headers } : {};
    };
    for (const [status, response] of Object.entries(route.responses)) {
      const content = response.schema
        ? { [response.contentType ?? 'application/json']: { schema: response.schema } }
        : response.contentType
          ? { [response.contentType]: { schema: { type: 'string' as const } } }
          : undefined;
      // Alternatives are whole documents in another format (e.g. CSV): described as text.
      for (const type of response.alternativeContentTypes ?? []) if (content) content[type] = { schema: { type: 'string' } };
      responses[status] = {
        description: response.description,
        ...(content ? { content } : {}),
        ...withHeaders(Number(status), successHeaders(route, Number(status), response)),
      };
    }
    // A GET of a versioned object with If-None-Match naming its ETag: 304 without a body.
    const conditionalRead = route.method === 'GET' && hasEtag(route.responses[200]);
    if (conditionalRead)
      responses['304'] = {
        description: 'Not Modified: the object still has the ETag sent in If-None-Match',
        ...withHeaders(304, { ETag: header("The object's version, unchanged", true) }),
      };
    for (const status of new Set([...commonErrors(route), ...(route.errors ?? [])])) {
      responses[String(status)] ??= {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/problem+json': { schema: problem } },
        ...withHeaders(status, {}),
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
      ...(conditionalRead
        ? [
            {
              name: 'If-None-Match',
              in: 'header' as const,
              required: false,
              schema: { type: 'string' as const },
              description: 'The ETag you last read; 304 without a body if the object has not changed since',
            },
          ]
        : []),
    ];
    registry.registerPath({
      method: route.method.toLowerCase() as RouteConfig['method'],
      path: route.path,
      operationId: route.operationId,
      summary: route.summary,
      description: describeOperation(route),
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

  // Every tag the routes use, in the order API_TAGS gives (the order /docs shows them in).
  const used = new Set(routes.flatMap((route) => route.tags));
  const undescribed = [...used].filter((tag) => !(tag in API_TAGS));
  if (undescribed.length > 0) throw new Error(`tags without a description in API_TAGS: ${undescribed.join(', ')}`);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      ...info,
      contact: { name: 'Capstan', url: 'https://capstan.dev' },
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl, description: 'This Capstan API' }],
    tags: Object.entries(API_TAGS)
      .filter(([name]) => used.has(name))
      .map(([name, description]) => ({ name, description })),
  });
}
