import { allRoutes, type RouteContract } from '@capstan/contracts';
import { Database, PrismaService } from '@capstan/platform';
import {
  clusterRequest,
  databaseFingerprint,
  type InputSlot,
  inputSlots,
  type OwnedObjects,
  pathFor,
  percentEncode,
  sampleBody,
  seedBackups,
  seedOrganization,
  seedStaff,
  startTestApi,
  type TestApi,
} from '@capstan/testing';
import fc from 'fast-check';

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
      {
        label: 'a pool with both count and autoscaling',
        body: { ...base, node_pools: [{ ...pool, autoscaling: { min: 1, max: 3 } }] },
        field: 'node_pools.0.count',
      },
      {
        label: 'a pool with autoscaling min above max',
        body: { ...base, node_pools: [{ name: 'a', machine_type: 'nine-standard-2', autoscaling: { min: 5, max: 2 } }] },
        field: 'node_pools.0.autoscaling.min',
      },
      {
        label: 'a pool with max_surge and max_unavailable both 0',
        body: { ...base, node_pools: [{ ...pool, max_surge: 0, max_unavailable: 0 }] },
        field: 'node_pools.0.max_surge',
      },
      { label: 'a pool with an unknown field', body: { ...base, node_pools: [{ ...pool, gpu: true }] }, field: 'node_pools.0.gpu' },
      { label: 'no node pools', body: { ...base, node_pools: [] }, field: 'node_pools' },
      { label: 'an invalid label key', body: { ...base, labels: { 'bad key!': 'x' } }, field: 'labels' },
      { label: 'a version that is not a version', body: { ...base, version: 'latest' }, field: 'version' },
      {
        label: 'a maintenance window shorter than 4 hours',
        body: { ...base, maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA'], start_time: '02:00', duration_minutes: 60 } },
        field: 'maintenance_window.duration_minutes',
      },
      {
        label: 'a maintenance window in an unknown time zone',
        body: { ...base, maintenance_window: { time_zone: 'Mars/Olympus', days: ['SA'], start_time: '02:00', duration_minutes: 240 } },
        field: 'maintenance_window.time_zone',
      },
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
    // The fuzz below sends a thousand requests with one token: the per-token limit is not what it tests.
    api = await startTestApi({ RATE_LIMIT_PER_MINUTE: '1000000' });
    const prisma = api.app.get(PrismaService);
    const org = await seedOrganization(prisma);
    customerToken = org.token;
    staffToken = (await seedStaff(prisma, 'admin')).token;
    const created = await api.app.inject({ method: 'POST', url: '/v1/clusters', headers: { authorization: `Bearer ${org.token}` }, payload: clusterRequest() });
    const { cluster, operation } = created.json();
    const webhook = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: { authorization: `Bearer ${org.token}` },
      payload: { url: 'https://hooks.example.com/ci' },
    });
    objects = {
      organizationId: org.organizationId,
      clusterId: cluster.id,
      nodePoolId: cluster.node_pools[0].id,
      operationId: operation.id,
      tokenId: org.tokenId,
      webhookId: webhook.json().id,
      ...(await seedBackups(prisma, { organizationId: org.organizationId, clusterId: cluster.id })),
    };
    before = await databaseFingerprint(api.app.get(Database));
  }, 60_000);

  afterAll(async () => {
    await api.close();
  }, 30_000);

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

  it('declares a body on every POST, PUT and PATCH, so none takes fields it then ignores', () => {
    const undeclared = allRoutes().filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && !r.body);
    expect(undeclared.map((r) => r.operationId)).toEqual([]);
  });

  // Each would act on the sample operation if the field were ignored; their bodiless calls are in upgrade-execution.e2e.spec.ts.
  it.each(['resumeOperation', 'rollbackUpgrade', 'cancelOperation'])('%s refuses a body with a field it does not take', async (operationId) => {
    const route = allRoutes().find((r) => r.operationId === operationId)!;
    const res = await send(route, JSON.stringify({ surprise_field: 1 }));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors).toEqual([{ field: 'surprise_field', message: 'is not a known field' }]);
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
    if (badCase.body && typeof badCase.body === 'object' && Object.keys(badCase.body).length === 0)
      fields.push(...fields.filter((f) => f === 'body').map(() => badCase.field));
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
    expect(
      badQuery
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['colour', 'limit']);

    const badCursor = await api.app.inject({ method: 'GET', url: '/v1/clusters?cursor=garbage', headers: { authorization: `Bearer ${customerToken}` } });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().errors[0].field).toBe('cursor');

    // A well-formed cursor of another list (here: after a cluster id, offered to the operations) was answered with an empty page.
    const clusterCursor = Buffer.from(JSON.stringify({ after: objects.clusterId })).toString('base64url');
    const otherList = await api.app.inject({
      method: 'GET',
      url: `/v1/operations?cursor=${clusterCursor}`,
      headers: { authorization: `Bearer ${customerToken}` },
    });
    expect(otherList.statusCode).toBe(400);
    expect(otherList.json().errors).toEqual([{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
    const ownList = await api.app.inject({ method: 'GET', url: `/v1/clusters?cursor=${clusterCursor}`, headers: { authorization: `Bearer ${customerToken}` } });
    expect(ownList.statusCode).toBe(200);

    const badSelector = await api.app.inject({
      method: 'GET',
      url: '/v1/clusters?label_selector=env%20in%20(a)',
      headers: { authorization: `Bearer ${customerToken}` },
    });
    expect(badSelector.statusCode).toBe(400);
    expect(badSelector.json().errors[0].field).toBe('label_selector');
  });

  const customer = () => ({ authorization: `Bearer ${customerToken}` });
  const staff = () => ({ authorization: `Bearer ${staffToken}` });

  // A parameter no contract declares, on a route with a query contract or without one (where a
  // misspelt `?watch=` used to be a silent 200): a 400 naming it, before anything is read or written
  // (the database check at the end covers the writes).
  it.each(allRoutes().map((r) => [r.operationId, r] as const))('%s refuses an unknown query parameter with a 400 naming it', async (_, route) => {
    const res = await api.app.inject({
      method: route.method,
      url: `${pathFor(route, objects)}?surprise=1`,
      headers: { ...(route.access === 'public' ? {} : route.access.startsWith('staff') ? staff() : customer()), 'content-type': 'application/json' },
      ...(route.body ? { payload: JSON.stringify(sampleBody(route)) } : {}),
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ type: 'https://capstan.dev/problems/validation-failed', status: 400 });
    expect(res.json().errors).toContainEqual({ field: 'surprise', message: 'is not a known field' });
  });

  it('names an unknown query parameter together with the body fields a route refuses, all at once', async () => {
    const res = await api.app.inject({
      method: 'PATCH',
      url: `/v1/clusters/${objects.clusterId}?fields=name`,
      headers: customer(),
      payload: { auto_upgrade: 'yes' },
    });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['auto_upgrade', 'fields']);
  });

  it('says a repeated query parameter must be given once, and a left-out field is required', async () => {
    const repeated = await api.app.inject({ method: 'GET', url: '/v1/clusters?limit=1&limit=2', headers: customer() });
    expect(repeated.statusCode).toBe(400);
    expect(repeated.json().errors).toEqual([{ field: 'limit', message: 'must be given once' }]);
    const repeatedEnum = await api.app.inject({ method: 'GET', url: '/v1/operations?status=running&status=failed', headers: customer() });
    expect(repeatedEnum.json().errors).toEqual([{ field: 'status', message: 'must be given once' }]);

    const missing = await api.app.inject({
      method: 'POST',
      url: `/admin/v1/organizations/${objects.organizationId}/tokens`,
      headers: staff(),
      payload: { name: 'no-reason', scopes: ['read'] },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual([{ field: 'reason', message: 'is required' }]);
    // A value of the wrong type still says what was expected.
    const wrong = await api.app.inject({
      method: 'POST',
      url: `/admin/v1/organizations/${objects.organizationId}/tokens`,
      headers: staff(),
      payload: { name: 'wrong-reason', scopes: ['read'], reason: 5 },
    });
    expect(wrong.json().errors).toEqual([{ field: 'reason', message: expect.stringContaining('expected string') }]);
  });

  it("names the rule a label key breaks, without echoing the key (zod said only 'Invalid key in record')", async () => {
    const res = await api.app.inject({
      method: 'PATCH',
      url: `/v1/clusters/${objects.clusterId}`,
      headers: customer(),
      payload: { labels: { 'tëam<b>': 'a' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'labels', message: 'has a key that is not a valid label key' }]);
    expect(res.body).not.toContain('<b>');
  });

  it('refuses autoscaling bounds with min above max on a node pool update as a 400, as on a create', async () => {
    const res = await api.app.inject({
      method: 'PATCH',
      url: `/v1/clusters/${objects.clusterId}/node-pools/${objects.nodePoolId}`,
      headers: customer(),
      payload: { autoscaling: { min: 5, max: 2 } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors).toEqual([{ field: 'autoscaling.min', message: 'must not exceed autoscaling.max' }]);
  });
  const expectProblem = (res: { statusCode: number; headers: Record<string, unknown>; json(): { status: number } }, status: number) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().status).toBe(status);
  };
  const fieldsOf = (res: { json(): { errors?: { field: string }[] } }) => (res.json().errors ?? []).map((e) => e.field);

  describe('strings Postgres cannot store or that disguise text (finding 1, 9)', () => {
    const cases: [string, string, () => Record<string, string>, unknown, string][] = [
      ['a NUL in a token name', '/v1/tokens', customer, { name: 'a\u0000b' }, 'name'],
      ['a lone surrogate in a token name', '/v1/tokens', customer, { name: 'ci\ud800' }, 'name'],
      ['an RTL override in a token name', '/v1/tokens', customer, { name: 'evil\u202egnp.exe' }, 'name'],
      ['markup in a token name', '/v1/tokens', customer, { name: '<script>' }, 'name'],
      ['a NUL in a webhook description', '/v1/webhooks', customer, { url: 'https://hooks.example.com/x', description: 'a\u0000' }, 'description'],
      ['CR/LF in a webhook description', '/v1/webhooks', customer, { url: 'https://hooks.example.com/x', description: 'line\r\nInjected: yes' }, 'description'],
      [
        'a zero-width space in a display name',
        '/admin/v1/organizations',
        staff,
        { name: 'zw-org', display_name: 'Acme\u200b AG', residency: 'CH' },
        'display_name',
      ],
      ['a lone surrogate in an organisation name', '/admin/v1/organizations', staff, { name: 'org\udc00', display_name: 'Acme', residency: 'CH' }, 'name'],
      ['a residency that is no country', '/admin/v1/organizations', staff, { name: 'xx-org', display_name: 'Acme', residency: 'XX' }, 'residency'],
      ['a NUL in a label key', '/v1/clusters', customer, { ...clusterRequest(), labels: { 'a\u0000': 'b' } }, 'labels'],
    ];
    it.each(cases)('refuses %s with a 400 naming the field', async (_, url, auth, payload, field) => {
      const res = await api.app.inject({ method: 'POST', url, headers: { ...auth(), 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
      expectProblem(res, 400);
      expect(fieldsOf(res)).toContain(field);
    });

    it('refuses a NUL in a staff reason and a taint key of a cluster', async () => {
      const retry = await api.app.inject({
        method: 'POST',
        url: `/admin/v1/operations/${objects.operationId}/retry`,
        headers: staff(),
        payload: { reason: 'bad\u0000reason' },
      });
      expectProblem(retry, 400);
      expect(fieldsOf(retry)).toEqual(['reason']);
      const pool = { name: 'p', machine_type: 'nine-standard-2', count: 1, taints: [{ key: 'a\u0000b', value: 'x', effect: 'NoSchedule' }] };
      const cluster = await api.app.inject({ method: 'POST', url: '/v1/clusters', headers: customer(), payload: { ...clusterRequest(), node_pools: [pool] } });
      expectProblem(cluster, 400);
      expect(fieldsOf(cluster)).toContain('node_pools.0.taints.0.key');
    });

    it('refuses a NUL in a path parameter and a query parameter', async () => {
      expectProblem(await api.app.inject({ method: 'GET', url: '/v1/clusters/cl_%00', headers: customer() }), 400);
      const query = await api.app.inject({ method: 'GET', url: '/admin/v1/clusters?q=a%00b', headers: staff() });
      expectProblem(query, 400);
      expect(fieldsOf(query)).toEqual(['q']);
    });

    it('refuses JSON nested deeper than any contract', async () => {
      // Written by hand: JSON.stringify itself overflows the stack on this; JSON.parse does not.
      const deep = `{"name":${'['.repeat(100_000)}"x"${']'.repeat(100_000)}}`;
      const res = await send(
        allRoutes().find((r) => r.operationId === 'createToken')!,
        deep,
      );
      expectProblem(res, 400);
    });
  });

  describe('months out of range (finding 2)', () => {
    it.each(['/v1/sla', '/admin/v1/sla/breaches', '/admin/v1/billing/credits', '/v1/billing/usage', '/admin/v1/billing/invoices', '/admin/v1/billing/focus'])(
      '%s answers month=0000-01 with a 400 naming month',
      async (url) => {
        for (const month of ['0000-01', '1999-12', '2026-13', '10000-01']) {
          const res = await api.app.inject({ method: 'GET', url: `${url}?month=${month}`, headers: url.startsWith('/admin') ? staff() : customer() });
          expectProblem(res, 400);
          expect(fieldsOf(res)).toEqual(['month']);
        }
      },
    );
  });

  describe('taints in Kubernetes syntax (finding 3)', () => {
    it.each([
      ['../../x y', 'v'],
      ['-leading', 'v'],
      ['ok', 'spaces are not allowed'],
      ['ok', 'v'.repeat(64)],
    ])('refuses taint %j=%j with a 400', async (key, value) => {
      const pool = { name: 'p', machine_type: 'nine-standard-2', count: 1, taints: [{ key, value, effect: 'NoSchedule' }] };
      const res = await api.app.inject({ method: 'POST', url: '/v1/clusters', headers: customer(), payload: { ...clusterRequest(), node_pools: [pool] } });
      expectProblem(res, 400);
      expect(fieldsOf(res).some((f) => f.startsWith('node_pools.0.taints.0.'))).toBe(true);
    });
  });

  describe("the framework's own refusals (finding 5)", () => {
    it('answers a path parameter over 100 characters with a 414 problem that does not reflect it', async () => {
      const marker = `<img src=x onerror=alert(1)>${'a'.repeat(200)}`;
      const res = await api.app.inject({ method: 'GET', url: `/v1/clusters/${encodeURIComponent(marker)}`, headers: customer() });
      expectProblem(res, 414);
      expect(res.json().type).toBe('https://capstan.dev/problems/uri-too-long');
      expect(res.body).not.toContain('onerror');
      expect(res.body).not.toContain('aaaaaaaaaa');
    });

    it('answers a path that is not UTF-8 with a 400 problem', async () => {
      const res = await api.app.inject({ method: 'GET', url: '/v1/clusters/%C0%AF', headers: customer() });
      expectProblem(res, 400);
      expect(res.json().type).toBe('https://capstan.dev/problems/malformed-request');
      expect(res.body).not.toContain('%C0%AF');
    });

    it('answers an unknown route, a wrong method (405 with Allow), a body over 1 MiB and a wrong media type with problems', async () => {
      expectProblem(await api.app.inject({ method: 'GET', url: '/v1/no-such-thing', headers: customer() }), 404);
      const wrongMethod = await api.app.inject({ method: 'PUT', url: '/v1/clusters', headers: customer() });
      expectProblem(wrongMethod, 405);
      expect(wrongMethod.headers.allow).toBe('GET, HEAD, POST');
      expect(wrongMethod.json().type).toBe('https://capstan.dev/problems/method-not-allowed');
      const onAnId = await api.app.inject({ method: 'POST', url: `/v1/clusters/${objects.clusterId}`, headers: customer() });
      expectProblem(onAnId, 405);
      expect(onAnId.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
      const big = await api.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: { ...customer(), 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(1_100_000) }),
      });
      expectProblem(big, 413);
      const xml = await api.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: { ...customer(), 'content-type': 'application/xml' },
        payload: '<name/>',
      });
      expectProblem(xml, 415);
    });
  });

  describe('hostile values in every input of every route, generated from the route table', () => {
    /** Seeded so a failure reproduces; FUZZ_SEED explores other inputs. */
    const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
    const RUNS_PER_ROUTE = 24;
    const FORBIDDEN = [
      '\u0000',
      '\ud800',
      '\udfff',
      '\u0001',
      '\u0008',
      '\u001b',
      '\u007f',
      '\u0085',
      '\r\n',
      '\n',
      '\t',
      '\u202e',
      '\u2066',
      '\u200b',
      '\u200f',
      '\ufeff',
      '\u2028',
    ];
    const hostileString = fc.oneof(
      fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom(...FORBIDDEN), fc.string({ maxLength: 6 })).map(([a, c, b]) => a + c + b),
      fc.integer({ min: 10_240, max: 12_000 }).map((n) => 'a'.repeat(n)),
    );
    const hostileDate = fc.oneof(hostileString, fc.constantFrom('0000-01', '1999-12', '2026-00', '2026-13', '10000-01', '-001-01', '24:00', '99:99', '2026-1'));
    const hostileNumber = fc.constantFrom(1e300, -1e300, -1, 1.5, 2 ** 53 + 2, 1e-300, -0.5);
    const hostileQueryNumber = fc.constantFrom('1e999', '-1', '1.5', 'NaN', 'Infinity', '1e300', '', 'ten', '9'.repeat(400));
    const hostileKey = hostileString;

    const valueFor = (slot: InputSlot): fc.Arbitrary<unknown> => {
      if (slot.kind === 'key') return hostileKey;
      if (slot.kind === 'date') return hostileDate;
      if (slot.kind === 'number') return slot.in === 'query' ? hostileQueryNumber : hostileNumber;
      return hostileString;
    };

    const setAt = (body: unknown, path: (string | number)[], value: unknown, asKey: boolean): unknown => {
      if (path.length === 0) return asKey ? { ...(body as object), [value as string]: 'x' } : value;
      const [head, ...rest] = path;
      const copy = (Array.isArray(body) ? [...body] : { ...(body as object) }) as Record<string | number, unknown>;
      copy[head!] = setAt(copy[head!], rest, value, asKey);
      return copy;
    };

    const fuzzed = allRoutes()
      .filter((r) => r.access !== 'public')
      .map((r) => [r.operationId, r, inputSlots(r)] as const)
      .filter(([, , slots]) => slots.length > 0);

    it('covers every route that takes input, and every kind of input', () => {
      expect(fuzzed.length).toBeGreaterThanOrEqual(40);
      const kinds = new Set(fuzzed.flatMap(([, , slots]) => slots.map((s) => `${s.in}:${s.kind}`)));
      expect([...kinds].sort()).toEqual(['body:date', 'body:key', 'body:number', 'body:string', 'path:string', 'query:date', 'query:number', 'query:string']);
    });

    it.each(fuzzed)(
      '%s answers hostile input with a 4xx problem that reflects nothing',
      async (_, route, slots) => {
        const request = fc.constantFrom(...slots).chain((slot) => valueFor(slot).map((value) => ({ slot, value })));
        await fc.assert(
          fc.asyncProperty(request, async ({ slot, value }) => {
            let url = pathFor(route, objects);
            let body = sampleBody(route);
            if (slot.in === 'path')
              url = route.path.replace(/\{([^}]+)\}/g, (m, name: string) =>
                name === slot.name ? percentEncode(String(value)) : pathFor({ ...route, path: m }, objects),
              );
            if (slot.in === 'query') url += `?${slot.name}=${percentEncode(String(value))}`;
            if (slot.in === 'body') body = setAt(body, slot.path, value, slot.kind === 'key');
            const res = await api.app.inject({
              method: route.method,
              url,
              headers: { ...(route.access.startsWith('staff') ? staff() : customer()), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
              ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
            });
            expect([400, 404, 413, 414, 422, 428]).toContain(res.statusCode);
            expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
            expect(res.json().status).toBe(res.statusCode);
            // Nothing of a long hostile value comes back (a reflected path was finding 5).
            expect(res.body.length).toBeLessThan(4096);
          }),
          { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
        );
      },
      60_000,
    );
  });

  it('left the database exactly as it was', async () => {
    expect(await databaseFingerprint(api.app.get(Database))).toEqual(before);
  }, 30_000);
});
