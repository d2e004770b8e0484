import { allRoutes, type RouteContract } from '@capstan/contracts';
import { Database, PrismaService } from '@capstan/platform';
import {
  clusterRequest,
  type OwnedObjects,
  pathFor,
  sampleBody,
  seedBackups,
  seedOrganization,
  seedStaff,
  seedToken,
  startTestApi,
  type TestApi,
} from '@capstan/testing';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { z } from 'zod';

/**
 * The served OpenAPI document against the API's real answers (docs/http-security.md, "The OpenAPI
 * document"): every route of the route table is called as a client generated from the document
 * would call it — a valid request, no token, a wrong token, another organisation's credential, a
 * bad body or query — and each answer must be one the document describes: a listed status, the
 * listed Content-Type, a body valid against the listed schema with no field the schema leaves
 * out, and no Capstan header the response does not document.
 */

interface MediaType {
  schema?: unknown;
}
interface DocumentedResponse {
  content?: Record<string, MediaType>;
  headers?: Record<string, unknown>;
}
interface Operation {
  responses: Record<string, DocumentedResponse>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { headers?: Record<string, unknown> };
}

/** The headers Capstan sets for a reason a client may act on: each must be documented where it is sent. */
const CAPSTAN_HEADERS = [
  'etag',
  'location',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'idempotent-replayed',
  'www-authenticate',
  'cache-control',
];

/**
 * A response schema of the document with its references inlined and every object closed
 * (`unevaluatedProperties: false` where it says nothing of other fields), so a field the API
 * sends that the schema does not name fails. The served document stays open, as clients must
 * tolerate fields added later; this test checks that today's fields are all written down. An
 * `allOf` (a schema extended with more fields) is closed as a whole, not part by part: each part
 * alone would refuse the other's fields.
 */
function closed(schema: unknown, document: OpenApiDocument, closeHere = true, depth = 0): unknown {
  if (depth > 64) throw new Error('a response schema nests deeper than 64 levels: a cycle?');
  if (Array.isArray(schema)) return schema.map((item) => closed(item, document, true, depth + 1));
  if (!schema || typeof schema !== 'object') return schema;
  const { $ref, ...rest } = schema as Record<string, unknown>;
  if (typeof $ref === 'string') {
    const target = $ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
    return closed({ ...(target as object), ...rest }, document, closeHere, depth + 1);
  }
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(rest)) {
    if (key === 'example' || key === 'examples') copy[key] = child;
    else if (key === 'allOf') copy[key] = (child as unknown[]).map((part) => closed(part, document, false, depth + 1));
    else if (key === 'properties')
      copy[key] = Object.fromEntries(Object.entries(child as object).map(([name, property]) => [name, closed(property, document, true, depth + 1)]));
    else copy[key] = closed(child, document, true, depth + 1);
  }
  const open = copy.additionalProperties !== undefined || copy.unevaluatedProperties !== undefined;
  if (closeHere && !open && ((copy.type === 'object' && copy.properties) || copy.allOf)) copy.unevaluatedProperties = false;
  return copy;
}

/** Ajv's errors, each once, naming the field a closed object does not document. */
function schemaErrors(validate: ValidateFunction): string {
  const messages = (validate.errors ?? []).map((error) => {
    const extra = (error.params as { unevaluatedProperty?: string }).unevaluatedProperty;
    return `${error.instancePath || '/'} ${extra ? `has undocumented field ${extra}` : error.message}`;
  });
  return [...new Set(messages)].join('; ');
}

const isoDateTime = z.iso.datetime({ offset: true });

describe('the OpenAPI document against the real answers, for every route', () => {
  let api: TestApi;
  let document: OpenApiDocument;
  let ajv: Ajv2020;
  let owner: OwnedObjects & { token: string };
  let intruderToken: string;
  let staffToken: string;
  /** Routes whose valid request was answered with a 2xx (checked against a success schema). */
  const succeeded = new Set<string>();

  beforeAll(async () => {
    // Failed authentications from one address are limited (docs/http-security.md): this suite makes
    // two per route on purpose, and wants each answered as a 401, not a 429.
    api = await startTestApi({ AUTH_FAILURES_PER_MINUTE: '100000', RATE_LIMIT_PER_MINUTE: '100000' });
    const prisma = api.app.get(PrismaService);
    const a = await seedOrganization(prisma, { name: 'conformance-owner' });
    const b = await seedOrganization(prisma, { name: 'conformance-intruder' });
    intruderToken = b.token;
    staffToken = (await seedStaff(prisma, 'admin')).token;
    const as = { authorization: `Bearer ${a.token}` };
    // A minor behind the latest, so the upgrade routes have somewhere to go.
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: as,
      payload: clusterRequest({ name: 'conformance', version: '1.35' }),
    });
    expect(created.statusCode).toBe(202);
    const { cluster, operation } = created.json();
    await settle();
    const webhook = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: as, payload: { url: 'https://hooks.example.com/conformance' } });
    expect(webhook.statusCode).toBe(201);
    const exclusion = await api.app.inject({
      method: 'POST',
      url: `/v1/clusters/${cluster.id}/maintenance-exclusions`,
      headers: as,
      payload: { name: 'freeze', scope: 'no_upgrades', starts_at: '2099-12-20T00:00:00.000Z', ends_at: '2099-12-22T00:00:00.000Z' },
    });
    expect(exclusion.statusCode).toBe(201);
    owner = {
      organizationId: a.organizationId,
      clusterId: cluster.id,
      nodePoolId: cluster.node_pools[0].id,
      operationId: operation.id,
      // A token of its own for revokeToken, so the suite's own credential stays valid.
      tokenId: (await seedToken(prisma, a.organizationId, ['read'])).tokenId,
      webhookId: webhook.json().id,
      exclusionId: exclusion.json().id,
      ...(await seedBackups(prisma, { organizationId: a.organizationId, clusterId: cluster.id })),
      token: a.token,
    };

    const served = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(served.statusCode).toBe(200);
    document = served.json();
    ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addFormat('date-time', (value: string) => isoDateTime.safeParse(value).success);
    ajv.addFormat('uri', (value: string) => URL.canParse(value));
  }, 60_000);

  afterAll(async () => {
    await api.close();
  });

  /**
   * What the worker would leave once every operation had run (this suite runs none): operations
   * succeeded, clusters and node pools running. Then the next write meets an idle, running cluster
   * and can succeed, rather than be refused as busy (a 409 the document lists, but no success seen).
   */
  async function settle() {
    const db = api.app.get(Database);
    const now = new Date();
    await db
      .updateTable('operations')
      .set({ status: 'succeeded', progress: 100, started_at: now, finished_at: now })
      .where('status', 'in', ['pending', 'running'])
      .execute();
    await db
      .updateTable('operation_steps')
      .set({ status: 'succeeded', started_at: now, finished_at: now })
      .where('status', 'in', ['pending', 'running'])
      .execute();
    const busy = ['provisioning', 'updating', 'upgrading', 'restoring'] as const;
    await db.updateTable('clusters').set({ status: 'running' }).where('status', 'in', busy).execute();
    await db
      .updateTable('node_pools')
      .set({ status: 'running' })
      .where(
        'status',
        'in',
        busy.filter((s) => s !== 'restoring'),
      )
      .execute();
  }

  const validators = new Map<string, ValidateFunction>();
  function validatorFor(path: string, method: string, status: string, type: string): ValidateFunction {
    const key = `${method} ${path} ${status} ${type}`;
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(closed(document.paths[path]![method]!.responses[status]!.content![type]!.schema, document) as object);
      validators.set(key, validate);
    }
    return validate;
  }

  /** What in one answer the document does not describe (empty when it conforms). */
  function mismatches(route: RouteContract, label: string, res: { statusCode: number; headers: Record<string, unknown>; body: string }): string[] {
    const method = route.method.toLowerCase();
    const responses = document.paths[route.path]?.[method]?.responses;
    const at = `${route.operationId} (${label}) answered ${res.statusCode}`;
    if (!responses) return [`${route.operationId}: not in the document`];
    const status = String(res.statusCode);
    const documented = responses[status] ?? responses.default;
    if (!documented) return [`${at}: status not documented (${Object.keys(responses).join(', ')})`];
    const found: string[] = [];
    const type = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const content = documented.content ?? {};
    if (Object.keys(content).length === 0) {
      if (res.body !== '') found.push(`${at}: a body (${type}) where the document says none`);
    } else {
      // A documented type may carry parameters (`text/plain; version=0.0.4`): the media type is what must match.
      const key = Object.keys(content).find((documentedType) => documentedType.split(';')[0]!.trim() === type);
      if (!key) found.push(`${at}: Content-Type ${type || '(none)'} not documented (${Object.keys(content).join(', ')})`);
      else if (type.endsWith('json')) {
        const validate = validatorFor(route.path, method, responses[status] ? status : 'default', key);
        if (!validate(JSON.parse(res.body))) found.push(`${at}: body fails the schema: ${schemaErrors(validate)} — ${res.body.slice(0, 300)}`);
      }
    }
    const headers = Object.keys(documented.headers ?? {}).map((name) => name.toLowerCase());
    for (const name of CAPSTAN_HEADERS) if (name in res.headers && !headers.includes(name)) found.push(`${at}: header ${name} not documented`);
    // And the other way: a header the document says this answer always carries is there.
    for (const [name, header] of Object.entries(documented.headers ?? {}))
      if ((header as { required?: boolean }).required && !(name.toLowerCase() in res.headers)) found.push(`${at}: required header ${name} missing`);
    return found;
  }

  /** What is wrong with an answer that should be a 400 problem naming `violation` (empty when it is one). */
  function refusal(
    route: RouteContract,
    res: { statusCode: number; headers: Record<string, unknown>; body: string },
    violation: { field: string; message: string },
  ) {
    const at = `${route.operationId} (${violation.field} ${violation.message}) answered ${res.statusCode}`;
    if (res.statusCode !== 400) return [`${at}, not 400: ${res.body.slice(0, 200)}`];
    if (!String(res.headers['content-type']).startsWith('application/problem+json')) return [`${at} as ${String(res.headers['content-type'])}`];
    const errors = (JSON.parse(res.body) as { errors?: { field: string; message: string }[] }).errors ?? [];
    return errors.some((e) => e.field === violation.field && e.message === violation.message) ? [] : [`${at} without naming it: ${res.body.slice(0, 200)}`];
  }

  const credentialFor = (route: RouteContract) => (route.access === 'public' ? undefined : route.access.startsWith('staff') ? staffToken : owner.token);

  const send = (
    route: RouteContract,
    options: { token?: string; url?: string; payload?: string; contentType?: string; idempotencyKey?: string; ifNoneMatch?: string } = {},
  ) =>
    api.app.inject({
      method: route.method,
      url: options.url ?? pathFor(route, owner),
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        ...(options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {}),
        ...(options.payload !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
      },
      ...(options.payload !== undefined ? { payload: options.payload } : {}),
    });

  /** The same path with its first id replaced by something no id looks like. */
  const malformedPath = (route: RouteContract) => pathFor(route, owner).replace(/\/[^/]+_[0-9a-z]{26}(?=\/|$)/, '/not-an-id');

  /**
   * Reads first, then customer writes, then staff writes, then deletes: each call meets the seed in
   * a state where it can succeed (a suspended organisation or a deleted cluster would turn every
   * later call into a 403 or 409).
   */
  const order = (route: RouteContract) =>
    route.operationId === 'deleteCluster' ? 4 : route.method === 'GET' ? 0 : route.method === 'DELETE' ? 3 : route.access.startsWith('staff') ? 2 : 1;
  const routes = [...allRoutes()].sort((x, y) => order(x) - order(y));

  it('covers the whole route table', () => {
    expect(routes.length).toBeGreaterThanOrEqual(90);
  });

  it.each(routes.map((r) => [r.operationId, r] as const))('%s answers only what the document says', async (_, route) => {
    const found: string[] = [];
    const body = route.body ? JSON.stringify(sampleBody(route)) : undefined;
    const token = credentialFor(route);
    const idempotencyKey = route.idempotent ? `conformance-${route.operationId}` : undefined;
    const valid = await send(route, { token, payload: body, idempotencyKey });
    found.push(...mismatches(route, 'valid request', valid));
    await settle();
    if (valid.statusCode >= 200 && valid.statusCode < 300) {
      succeeded.add(route.operationId);
      // A conditional read of what was just read: 304, as documented (docs/http-security.md).
      const etag = valid.headers.etag;
      if (route.method === 'GET' && typeof etag === 'string')
        found.push(...mismatches(route, 'If-None-Match', await send(route, { token, ifNoneMatch: etag })));
      // The stored answer, replayed for the same key and body (docs/idempotency.md).
      if (idempotencyKey) found.push(...mismatches(route, 'replay', await send(route, { token, payload: body, idempotencyKey })));
    }

    if (route.access !== 'public') {
      found.push(...mismatches(route, 'no token', await send(route, { payload: body })));
      // Shaped like the route's own kind of token, so it fails authentication rather than the audience check.
      const wrong = `${route.access.startsWith('staff') ? 'capstaff' : 'cap'}_${'x'.repeat(43)}`;
      found.push(...mismatches(route, 'wrong token', await send(route, { token: wrong, payload: body })));
      // A customer route with another organisation's ids: 404; a staff route with a customer token: 403.
      const other = route.access.startsWith('staff') ? owner.token : intruderToken;
      found.push(...mismatches(route, 'another tenant', await send(route, { token: other, payload: body })));
    }

    if (route.body) {
      const bad = JSON.stringify({ ...(sampleBody(route) as object), surprise_field: 1 });
      found.push(...mismatches(route, 'unknown body field', await send(route, { token, payload: bad })));
      found.push(...mismatches(route, 'not JSON', await send(route, { token, payload: 'name=x', contentType: 'text/plain' })));
    }
    // Every route refuses a query parameter it does not declare, whether or not it declares a query
    // (docs/input-rules.md, "Unknown fields"): 400, naming it, never a 2xx that ignored it.
    const unknownQuery = await send(route, { token, url: `${pathFor(route, owner)}?surprise=1`, payload: body });
    found.push(...mismatches(route, 'unknown query parameter', unknownQuery));
    found.push(...refusal(route, unknownQuery, { field: 'surprise', message: 'is not a known field' }));
    // Catalogue keys (a provider, a minor, an add-on name) are no ids: only a path with one has a malformed variant.
    const malformed = malformedPath(route);
    if (malformed !== pathFor(route, owner)) found.push(...mismatches(route, 'malformed id', await send(route, { token, url: malformed, payload: body })));

    expect(found).toEqual([]);
  });

  it('checked a success answer of most routes, not only their refusals', () => {
    // Some cannot succeed here (no fleet rollout exists, the seeded operation has finished, the
    // simulated cloud is not running: documented 404s, 409s and 503s), but most must have.
    expect(succeeded.size).toBeGreaterThanOrEqual(Math.floor(routes.length * 0.75));
  });
});
