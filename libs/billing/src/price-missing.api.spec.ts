import { newId, PrismaService } from '@capstan/platform';
import { seedOrganization, seedStaff, startTestApi, type SeededOrganization, type TestApi } from '@capstan/testing';
import { Logger } from '@nestjs/common';

const PROBLEMS = 'https://capstan.dev/problems/';
/** A machine type no price of the catalogue covers, as one added to the catalogue without its price would be. */
const UNPRICED = 'nine-unpriced-2';

/**
 * Usage without a price (docs/billing.md, "Price catalogue"): the customer cannot fix it, so they
 * read that it is not configured yet and that staff were told (a log line at error level); staff
 * read which route adds it. Another organisation's usage is unaffected.
 */
describe('usage that no price covers', () => {
  let api: TestApi;
  let prisma: PrismaService;
  let acme: SeededOrganization;
  let globex: SeededOrganization;
  let viewer: string;
  let clusterId: string;

  const get = (token: string, url: string) => api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    api = await startTestApi();
    prisma = api.app.get(PrismaService);
    acme = await seedOrganization(prisma, { name: 'acme-ag' });
    globex = await seedOrganization(prisma, { name: 'globex-ag' });
    viewer = (await seedStaff(prisma, 'viewer')).token;

    // A cluster running for the last two hours with one pool of the unpriced machine type.
    const since = new Date(Date.now() - 2 * 3_600_000);
    clusterId = newId('cl');
    await prisma.cluster.create({
      data: {
        id: clusterId,
        organizationId: acme.organizationId,
        name: 'shop',
        liveName: 'shop',
        provider: 'rke2',
        region: 'nine-cz41',
        currentVersion: '1.35.2',
        desiredVersion: '1.35.2',
        status: 'running',
        createdAt: since,
      },
    });
    const poolId = newId('np');
    await prisma.nodePool.create({
      data: {
        id: poolId,
        clusterId,
        organizationId: acme.organizationId,
        name: 'apps',
        liveName: 'apps',
        machineType: UNPRICED,
        nodeCount: 2,
        version: '1.35.2',
        status: 'running',
        createdAt: since,
      },
    });
    await prisma.operation.create({
      data: {
        id: newId('op'),
        organizationId: acme.organizationId,
        clusterId,
        type: 'create_cluster',
        status: 'succeeded',
        targetType: 'cluster',
        targetId: clusterId,
        params: {},
        requestedByType: 'api_token',
        requestedById: 'tok_seed',
        startedAt: since,
        finishedAt: since,
      },
    });
  }, 60_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await api?.close();
  });

  it("tells the customer the price is not configured yet and that staff know, naming no staff route; staff's log has it", async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const usage = await get(acme.token, '/v1/billing/usage');
      expect(usage.statusCode).toBe(422);
      const problem = usage.json();
      expect(problem).toMatchObject({ type: `${PROBLEMS}price-missing`, status: 422, kind: 'node', sku: UNPRICED });
      expect(problem.detail).toContain(`node ${UNPRICED} is not configured yet`);
      expect(problem.detail).toContain('have been told');
      expect(usage.body).not.toContain('/admin/');

      const forStaff = logged.mock.calls.filter(([, message]) => String(message).includes('cannot be priced'));
      expect(forStaff).toHaveLength(1);
      expect(forStaff[0]![0]).toMatchObject({ organizationId: acme.organizationId, kind: 'node', sku: UNPRICED, clusterId });
      expect(forStaff[0]![1]).toContain('POST /admin/v1/prices');
    } finally {
      logged.mockRestore();
    }
  });

  it('leaves the usage of another organisation alone', async () => {
    const usage = await get(globex.token, '/v1/billing/usage');
    expect(usage.statusCode).toBe(200);
  });

  it('tells staff which cluster needs the price and the route that adds it, on invoices, exports and credits', async () => {
    for (const url of [
      '/admin/v1/billing/invoices',
      `/admin/v1/billing/invoices?organization_id=${acme.organizationId}`,
      '/admin/v1/billing/focus',
      '/admin/v1/billing/credits',
    ]) {
      const refused = await get(viewer, url);
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ type: `${PROBLEMS}price-missing`, kind: 'node', sku: UNPRICED, cluster_id: clusterId });
      expect(refused.json().detail).toContain('add one with POST /admin/v1/prices');
    }
  });
});
