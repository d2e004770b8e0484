import { allRoutes, type RouteContract } from '@capstan/contracts';
import { PrismaService } from '@capstan/platform';
import {
  clusterRequest,
  databaseFingerprint,
  type OwnedObjects,
  pathFor,
  sampleBody,
  seedOrganization,
  seedStaff,
  startTestApi,
  type TestApi,
} from '@capstan/testing';

type Body = Record<string, unknown>;
interface BadCase {
  label: string;
  body: unknown;
  /** The field the answer must name. */
  field: string;
}

/** The same value with another JSON type, so every field's type check is exercised. */
function wrongType(value: unknown): unknown {
  if (typeof value === 'string') return 12345;
  if (typeof value === 'number') return 'not-a-number';
  if (typeof value === 'boolean') return 'yes';
  if (Array.isArray(value)) return { not: 'an array' };
  return 'not-an-object';
}

/** Mutations of a route's valid sample body that its own schema rejects. */
function badCases(route: RouteContract): BadCase[] {
  const base = sampleBody(route) as Body;
  const cases: BadCase[] = [{ label: 'an unknown field', body: { ...base, surprise_field: 1 }, field: 'surprise_field' }];
  for (const [key, value] of Object.entries(base)) {
    const { [key]: _, ...without } = base;
    cases.push({ label: `${key} missing`, body: without, field: key });
    cases.push({ label: `${key} of the wrong type`, body: { ...base, [key]: wrongType(value) }, field: key });
    if (typeof value === 'string') {
      cases.push({ label: `${key} overlong`, body: { ...base, [key]: 'a'.repeat(5000) }, field: key });
      cases.push({ label: `${key} empty`, body: { ...base, [key]: '' }, field: key });
    }
    if (typeof value === 'number') {
      cases.push({ label: `${key} huge`, body: { ...base, [key]: 1e300 }, field: key });
      cases.push({ label: `${key} negative`, body: { ...base, [key]: -5 }, field: key });
      cases.push({ label: `${key} fractional`, body: { ...base, [key]: 1.5 }, field: key });
    }
  }
  if ('name' in base) {
    cases.push({ label: 'a name that is not a DNS label', body: { ...base, name: 'Prod_Cluster!' }, field: 'name' });
    cases.push({ label: 'a name of 64 characters', body: { ...base, name: `a${'b'.repeat(63)}` }, field: 'name' });
  }
  if (route.operationId === 'createCluster') {
    const pool = (base.node_pools as Body[])[0]!;
    cases.push(
      { label: 'a pool with a negative count', body: { ...base, node_pools: [{ ...pool, count: -1 }] }, field: 'node_pools.0.count' },
      { label: 'a pool with both count and autoscaling', body: { ...base, node_pools: [{ ...pool, autoscaling: { min: 1, max: 3 } }] }, field: 'node_pools.0.count' },
      { label: 'a pool with autoscaling min above max', body: { ...base, node_pools: [{ name: 'a', machine_type: 'nine-standard-2', autoscaling: { min: 5, max: 2 } }] }, field: 'node_pools.0.autoscaling.min' },
      { label: 'a pool with max_surge and max_unavailable both 0', body: { ...base, node_pools: [{ ...pool, max_surge: 0, max_unavailable: 0 }] }, field: 'node_pools.0.max_surge' },
      { label: 'a pool with an unknown field', body: { ...base, node_pools: [{ ...pool, gpu: true }] }, field: 'node_pools.0.gpu' },
      { label: 'no node pools', body: { ...base, node_pools: [] }, field: 'node_pools' },
      { label: 'an invalid label key', body: { ...base, labels: { 'bad key!': 'x' } }, field: 'labels' },
      { label: 'a version that is not a version', body: { ...base, version: 'latest' }, field: 'version' },
      { label: 'a maintenance window shorter than 4 hours', body: { ...base, maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA'], start_time: '02:00', duration_minutes: 60 } }, field: 'maintenance_window.duration_minutes' },
      { label: 'a maintenance window in an unknown time zone', body: { ...base, maintenance_window: { time_zone: 'Mars/Olympus', days: ['SA'], start_time: '02:00', duration_minutes: 240 } }, field: 'maintenance_window.time_zone' },
    );
  }
  // Only mutations the contract itself rejects: a valid mutation would change the database.
  return cases.filter((c) => !route.body!.safeParse(c.body).success);
}

describe('bad input, for every write body', () => {
  let api: TestApi;
  let objects: OwnedObjects;
  let customerToken: string;
  let staffToken: string;
  let before: Record<string, string>;
  const writeRoutes = allRoutes().filter((r) => r.body);

  beforeAll(async () => {
    api = await startTestApi();
    const prisma = api.app.get(PrismaService);
    const org = await seedOrganization(prisma);
    customerToken = org.token;
    staffToken = (await seedStaff(prisma, 'admin')).token;
    const created = await api.app.inject({ method: 'POST', url: '/v1/clusters', headers: { authorization: `Bearer ${org.token}` }, payload: clusterRequest() });
    const { cluster, operation } = created.json();
    const webhook = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: { authorization: `Bearer ${org.token}` }, payload: { url: 'https://hooks.example.com/ci' } });
    objects = { organizationId: org.organizationId, clusterId: cluster.id, nodePoolId: cluster.node_pools[0].id, operationId: operation.id, tokenId: org.tokenId, webhookId: webhook.json().id };
    before = await databaseFingerprint(prisma);
  });

  afterAll(async () => {
    await api.close();
  });

  const send = (route: RouteContract, payload: string, contentType = 'application/json') =>
    api.app.inject({
      method: route.method,
      url: pathFor(route, objects),
      headers: { authorization: `Bearer ${route.access.startsWith('staff') ? staffToken : customerToken}`, 'content-type': contentType },
      payload,
    });

  it('has write routes to check', () => {
    expect(writeRoutes.length).toBeGreaterThanOrEqual(10);
  });

  const table = writeRoutes.flatMap((route) => badCases(route).map((c) => [route.operationId, c.label, route, c] as const));

  it.each(table)('%s refuses %s with a 400 naming the field', async (_, __, route, badCase) => {
    const res = await send(route, JSON.stringify(badCase.body));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem.type).toBe('https://capstan.dev/problems/validation-failed');
    const fields: string[] = problem.errors.map((e: { field: string }) => e.field);
    // An update left with no field at all is wrong as a whole, and says so of the body.
    if (badCase.body && typeof badCase.body === 'object' && Object.keys(badCase.body).length === 0) fields.push(...fields.filter((f) => f === 'body').map(() => badCase.field));
    expect(fields.some((f) => f === badCase.field || f.startsWith(`${badCase.field}.`) || f.split(', ').includes(badCase.field))).toBe(true);
  });

  it.each(writeRoutes.map((r) => [r.operationId, r] as const))('%s refuses malformed JSON, non-JSON, arrays and empty bodies', async (_, route) => {
    const malformed = await send(route, '{"name": "x",');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().type).toBe('https://capstan.dev/problems/malformed-request');

    const text = await send(route, 'name=x', 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.headers['content-type']).toMatch(/^application\/problem\+json/);

    const form = await send(route, 'name=x', 'application/x-www-form-urlencoded');
    expect(form.statusCode).toBe(415);

    const array = await send(route, '[]');
    expect(array.statusCode).toBe(400);
    expect(array.json().errors[0].field).toBe('body');

    const empty = await send(route, '');
    expect(empty.statusCode).toBe(400);
  });

  it('answers a malformed path id and query with a 400 naming them', async () => {
    const badId = await api.app.inject({ method: 'GET', url: '/v1/clusters/not-an-id', headers: { authorization: `Bearer ${customerToken}` } });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors).toEqual([{ field: 'cluster_id', message: 'must be an id starting with cl_' }]);

    const badQuery = await api.app.inject({ method: 'GET', url: '/v1/clusters?limit=1000&colour=blue', headers: { authorization: `Bearer ${customerToken}` } });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['colour', 'limit']);

    const badCursor = await api.app.inject({ method: 'GET', url: '/v1/clusters?cursor=garbage', headers: { authorization: `Bearer ${customerToken}` } });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().errors[0].field).toBe('cursor');

    const badSelector = await api.app.inject({ method: 'GET', url: '/v1/clusters?label_selector=env%20in%20(a)', headers: { authorization: `Bearer ${customerToken}` } });
    expect(badSelector.statusCode).toBe(400);
    expect(badSelector.json().errors[0].field).toBe('label_selector');
  });

  it('left the database exactly as it was', async () => {
    expect(await databaseFingerprint(api.app.get(PrismaService))).toEqual(before);
  });
});
