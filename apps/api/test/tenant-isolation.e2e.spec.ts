import { allRoutes, type RouteContract } from '@capstan/contracts';
import { PrismaService } from '@capstan/platform';
import { clusterRequest, seedBackups, type OwnedObjects, pathFor, sampleBody, seedOrganization, seedStaff, startTestApi, type TestApi } from '@capstan/testing';

/**
 * Generated from the route table: every route is called with a second organisation's credential
 * against the first organisation's objects. Customer routes must answer 404 (or, for lists, a page
 * without the first's data); staff routes must refuse a customer outright; nothing answers 200
 * with someone else's object, and no route is left out.
 */
describe('tenant isolation, for every route', () => {
  let api: TestApi;
  let owner: OwnedObjects & { token: string; clusterName: string };
  let intruder: { token: string; organizationId: string };
  const routes = () => allRoutes().filter((r) => r.access !== 'public');

  beforeAll(async () => {
    api = await startTestApi();
    const prisma = api.app.get(PrismaService);
    const a = await seedOrganization(prisma, { name: 'owner-ag' });
    const b = await seedOrganization(prisma, { name: 'intruder-ag' });
    intruder = { token: b.token, organizationId: b.organizationId };
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${a.token}` },
      payload: clusterRequest({ name: 'owners-secret-cluster' }),
    });
    expect(created.statusCode).toBe(202);
    const { cluster, operation } = created.json();
    const webhook = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: { authorization: `Bearer ${a.token}` },
      payload: { url: 'https://hooks.example.com/owner' },
    });
    expect(webhook.statusCode).toBe(201);
    owner = {
      organizationId: a.organizationId,
      clusterId: cluster.id,
      nodePoolId: cluster.node_pools[0].id,
      operationId: operation.id,
      tokenId: a.tokenId,
      webhookId: webhook.json().id,
      ...(await seedBackups(prisma, { organizationId: a.organizationId, clusterId: cluster.id })),
      token: a.token,
      clusterName: cluster.name,
    };
  });

  afterAll(async () => {
    await api.close();
  });

  const call = (route: RouteContract, token?: string) =>
    api.app.inject({
      method: route.method,
      url: pathFor(route, owner),
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(route.body ? { payload: sampleBody(route) as object } : {}),
    });

  /** What the answer says of the owner's objects beyond the ids the caller put in the URL itself. */
  const leaks = (route: RouteContract, body: string) => {
    const asked = pathFor(route, owner);
    return [owner.clusterId, owner.nodePoolId, owner.operationId, owner.tokenId, owner.webhookId, owner.scheduleId, owner.backupId, owner.clusterName].filter(
      (secret) => !asked.includes(secret) && body.includes(secret),
    );
  };

  it('covers a meaningful route table', () => {
    expect(routes().length).toBeGreaterThanOrEqual(25);
  });

  it.each(
    allRoutes()
      .filter((r) => r.access !== 'public')
      .map((r) => [r.operationId, r] as const),
  )('%s refuses a caller without a credential (401)', async (_, route) => {
    const res = await call(route);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it.each(
    allRoutes()
      .filter((r) => r.access.startsWith('customer:'))
      .map((r) => [r.operationId, r] as const),
  )("%s never shows another organisation's objects", async (_, route) => {
    const res = await call(route, intruder.token);
    expect(leaks(route, res.body)).toEqual([]);
    if (route.params) {
      expect(res.statusCode).toBe(404);
      expect(res.json().type).toBe('https://capstan.dev/problems/not-found');
    } else {
      expect(res.statusCode).toBeLessThan(500);
    }
  });

  it.each(
    allRoutes()
      .filter((r) => r.access.startsWith('staff:'))
      .map((r) => [r.operationId, r] as const),
  )('%s refuses a customer token (403)', async (_, route) => {
    const res = await call(route, owner.token);
    expect(res.statusCode).toBe(403);
    expect(leaks(route, res.body)).toEqual([]);
  });

  it("leaves the owner's objects untouched by the intruder's writes", async () => {
    const res = await api.app.inject({ method: 'GET', url: `/v1/clusters/${owner.clusterId}`, headers: { authorization: `Bearer ${owner.token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'provisioning', labels: {}, node_pools: [{ count: 3 }] });
    const prisma = api.app.get(PrismaService);
    expect(await prisma.auditEvent.count({ where: { organizationId: owner.organizationId, actorId: { not: owner.tokenId } } })).toBe(0);
    expect(await prisma.apiToken.count({ where: { id: owner.tokenId, revokedAt: null } })).toBe(1);
  });

  it('lets staff see any organisation, and treats staff as no customer', async () => {
    const staff = await seedStaff(api.app.get(PrismaService), 'viewer');
    const asStaff = await api.app.inject({
      method: 'GET',
      url: `/admin/v1/clusters?organization_id=${owner.organizationId}`,
      headers: { authorization: `Bearer ${staff.token}` },
    });
    expect(asStaff.statusCode).toBe(200);
    expect(asStaff.json().items.map((c: { id: string }) => c.id)).toEqual([owner.clusterId]);
    const onCustomerRoute = await api.app.inject({ method: 'GET', url: '/v1/clusters', headers: { authorization: `Bearer ${staff.token}` } });
    expect(onCustomerRoute.statusCode).toBe(403);
    expect(onCustomerRoute.json().type).toBe('https://capstan.dev/problems/customer-route');
  });
});
