import { centsToUnits, Money, monthRange, toCents } from '@capstan/domain';
import { newId, PrismaService } from '@capstan/platform';
import { seedOrganization, seedStaff, startTestApi, type SeededOrganization, type TestApi } from '@capstan/testing';
import { BillingMonths } from './billing-months';
import { FOCUS_1_0_COLUMNS } from './exports/focus';
import { parseCsvObjects } from './test/parse-csv';

const at = (iso: string) => new Date(iso);
const PROBLEMS = 'https://capstan.dev/problems/';
/** Seeded prices (libs/domain/src/billing/price-catalogue.ts): per hour. */
const PRICE = { rke2: '0.08', gke: '0.10', standard4: '0.164384', standard8: '0.328767', e2standard4: '0.184932' };
const cents = (quantityHours: Money | number, price: string) => toCents(new Money(quantityHours).times(price));
const hours = (seconds: number) => new Money(seconds).dividedBy(3600);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('billing API', () => {
  let api: TestApi;
  let prisma: PrismaService;
  let acme: SeededOrganization;
  let globex: SeededOrganization;
  let viewer: string;
  let operator: string;
  const ids = { alpha: '', poolA: '', poolB: '', gamma: '', poolG: '' };

  const get = (token: string, url: string, headers: Record<string, string> = {}) =>
    api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
  const post = (token: string, url: string, payload: unknown) =>
    api.app.inject({ method: 'POST', url, payload: payload as object, headers: { authorization: `Bearer ${token}` } });

  async function operation(organizationId: string, clusterId: string, type: string, targetId: string, finishedAt: string, params: object = {}) {
    await prisma.operation.create({
      data: {
        id: newId('op'),
        organizationId,
        clusterId,
        type: type as 'create_cluster',
        status: 'succeeded',
        targetType: type.includes('pool') ? 'node_pool' : 'cluster',
        targetId,
        params,
        requestedByType: 'api_token',
        requestedById: 'tok_seed',
        startedAt: at(finishedAt),
        finishedAt: at(finishedAt),
      },
    });
  }

  async function cluster(organizationId: string, name: string, provider: 'rke2' | 'gke', createdAt: string, deletedAt?: string) {
    const id = newId('cl');
    await prisma.cluster.create({
      data: {
        id,
        organizationId,
        name,
        liveName: deletedAt ? null : name,
        provider,
        region: provider === 'gke' ? 'europe-west6' : 'nine-cz41',
        currentVersion: '1.35.2',
        desiredVersion: '1.35.2',
        status: deletedAt ? 'deleted' : 'running',
        createdAt: at(createdAt),
        deletedAt: deletedAt ? at(deletedAt) : null,
      },
    });
    return id;
  }

  async function pool(organizationId: string, clusterId: string, machineType: string, nodeCount: number, createdAt: string, deletedAt?: string) {
    const id = newId('np');
    await prisma.nodePool.create({
      data: {
        id,
        clusterId,
        organizationId,
        name: `pool-${id.slice(-6)}`,
        liveName: deletedAt ? null : `pool-${id.slice(-6)}`,
        machineType,
        nodeCount,
        version: '1.35.2',
        status: deletedAt ? 'deleted' : 'running',
        createdAt: at(createdAt),
        deletedAt: deletedAt ? at(deletedAt) : null,
      },
    });
    return id;
  }

  beforeAll(async () => {
    api = await startTestApi();
    prisma = api.app.get(PrismaService);
    acme = await seedOrganization(prisma, { name: 'acme-ag' });
    globex = await seedOrganization(prisma, { name: 'globex-ag' });
    // A display name a spreadsheet would run as a formula: the CSV exports must keep it text.
    await prisma.organization.update({ where: { id: acme.organizationId }, data: { displayName: '=HYPERLINK("https://evil.example","pay here")' } });
    viewer = (await seedStaff(prisma, 'viewer')).token;
    operator = (await seedStaff(prisma, 'operator')).token;

    // alpha: created mid-November, scaled twice, a second pool added, deleted before the month's end.
    ids.alpha = await cluster(acme.organizationId, 'alpha', 'rke2', '2026-11-10T07:50:00Z', '2026-11-25T06:30:15Z');
    ids.poolA = await pool(acme.organizationId, ids.alpha, 'nine-standard-4', 2, '2026-11-10T07:50:00Z', '2026-11-25T06:30:15Z');
    ids.poolB = await pool(acme.organizationId, ids.alpha, 'nine-standard-8', 1, '2026-11-15T11:55:00Z', '2026-11-25T06:30:15Z');
    await operation(acme.organizationId, ids.alpha, 'create_cluster', ids.alpha, '2026-11-10T08:00:00Z');
    await operation(acme.organizationId, ids.alpha, 'scale_node_pool', ids.poolA, '2026-11-12T10:00:30Z', { previousPool: { nodeCount: 3 } });
    await operation(acme.organizationId, ids.alpha, 'create_node_pool', ids.poolB, '2026-11-15T12:00:00Z');
    await operation(acme.organizationId, ids.alpha, 'scale_node_pool', ids.poolA, '2026-11-20T00:00:00Z', { previousPool: { nodeCount: 5 } });

    // gamma: GKE (99.95%) all November with 3 nodes, down for two hours on the 14th: 10% credit.
    ids.gamma = await cluster(globex.organizationId, 'gamma', 'gke', '2026-09-01T00:00:00Z');
    ids.poolG = await pool(globex.organizationId, ids.gamma, 'e2-standard-4', 3, '2026-09-01T00:00:00Z');
    await operation(globex.organizationId, ids.gamma, 'create_cluster', ids.gamma, '2026-09-01T00:00:00Z');
    await prisma.availabilityInterval.createMany({
      data: [
        { clusterId: ids.gamma, vantage: 'zrh', state: 'up', startedAt: at('2026-09-01T00:00:00Z'), endedAt: at('2026-11-14T10:00:00Z') },
        { clusterId: ids.gamma, vantage: 'zrh', state: 'down', startedAt: at('2026-11-14T10:00:00Z'), endedAt: at('2026-11-14T12:00:00Z') },
        { clusterId: ids.gamma, vantage: 'zrh', state: 'up', startedAt: at('2026-11-14T12:00:00Z'), endedAt: at('2027-12-31T00:00:00Z') },
      ],
    });
  });

  afterAll(async () => {
    await api.close();
  });

  describe('November 2026, a closed month', () => {
    it('bills a cluster created mid-month, scaled twice and deleted before month end for exactly the node-seconds it ran per machine type', async () => {
      const res = await get(acme.token, '/v1/billing/usage?month=2026-11');
      expect(res.statusCode).toBe(200);
      const usage = res.json();
      // Running 2026-11-10T08:00:00 (creation succeeded) to 2026-11-25T06:30:15 (deleted): 1,290,615 s.
      // standard-4: 3 nodes × 180,030 s + 5 × 655,170 s + 2 × 455,415 s = 4,726,770 node-seconds (resizes count when they succeeded).
      // standard-8: 1 node from its pool's creation (12:00:00 on the 15th) = 844,215 node-seconds.
      expect(usage).toMatchObject({ month: '2026-11', final: true, as_of: '2026-12-01T00:00:00.000Z', projection: null, currency: 'CHF' });
      expect(usage.lines.map((l: Record<string, unknown>) => [l.item, l.sku, l.quantity, l.unit, l.unit_price, l.amount_cents])).toEqual([
        ['cluster_fee', 'rke2', hours(1_290_615).toDecimalPlaces(6).toFixed(), 'cluster-hour', PRICE.rke2, cents(hours(1_290_615), PRICE.rke2)],
        ['node', 'nine-standard-4', hours(4_726_770).toDecimalPlaces(6).toFixed(), 'node-hour', PRICE.standard4, cents(hours(4_726_770), PRICE.standard4)],
        ['node', 'nine-standard-8', hours(844_215).toDecimalPlaces(6).toFixed(), 'node-hour', PRICE.standard8, cents(hours(844_215), PRICE.standard8)],
      ]);
      expect(usage.lines[2]).toMatchObject({ charge_period_start: '2026-11-15T12:00:00.000Z', charge_period_end: '2026-11-25T06:30:15.000Z' });
      expect(usage.total_cents).toBe(sum(usage.lines.map((l: { amount_cents: number }) => l.amount_cents)));
      expect(usage.credits_cents).toBe(0);
    });

    it('credits a breached cluster its percentage of all of its charges, as a negative line', async () => {
      const usage = (await get(globex.token, '/v1/billing/usage?month=2026-11')).json();
      const fee = cents(720, PRICE.gke); // 30 days
      const nodes = cents(3 * 720, PRICE.e2standard4);
      expect(usage.lines.map((l: Record<string, unknown>) => [l.category, l.item, l.amount_cents])).toEqual([
        ['usage', 'cluster_fee', fee],
        ['usage', 'node', nodes],
        ['credit', 'sla_credit', -toCents(new Money(fee + nodes).dividedBy(100).times('0.1'))],
      ]);
      expect(usage.credits_cents).toBe(usage.lines[2].amount_cents);
      expect(usage.total_cents).toBe(fee + nodes + usage.lines[2].amount_cents);
    });

    it('shows real amounts in the credits report, which the SLA reports no longer carry', async () => {
      const credits = (await get(viewer, '/admin/v1/billing/credits?month=2026-11')).json();
      const charges = cents(720, PRICE.gke) + cents(3 * 720, PRICE.e2standard4);
      expect(credits.items).toEqual([
        expect.objectContaining({
          organization_id: globex.organizationId,
          cluster_id: ids.gamma,
          credit_percent: 10,
          charges_cents: charges,
          credit_amount_cents: toCents(new Money(charges).dividedBy(100).times('0.1')),
          currency: 'CHF',
          final: true,
        }),
      ]);
      expect(credits.items[0].credit_amount_cents).toBeGreaterThan(0);

      // and one organisation's credits are those rows of its own, the same amounts, in JSON and CSV alike
      const own = (await get(viewer, `/admin/v1/billing/credits?month=2026-11&organization_id=${globex.organizationId}`)).json();
      expect(own.items).toEqual(credits.items);
      const none = (await get(viewer, `/admin/v1/billing/credits?month=2026-11&organization_id=${acme.organizationId}`)).json();
      expect(none).toEqual({ month: '2026-11', items: [] });
      const noneCsv = await get(viewer, `/admin/v1/billing/credits?month=2026-11&organization_id=${acme.organizationId}`, { accept: 'text/csv' });
      expect(parseCsvObjects(noneCsv.body)).toEqual([]);
      const bad = await get(viewer, '/admin/v1/billing/credits?month=2026-11&organization_id=acme');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors).toEqual([expect.objectContaining({ field: 'organization_id' })]);
      const sla = (await get(globex.token, `/v1/clusters/${ids.gamma}/sla?month=2026-11`)).json();
      expect(sla.credit).toEqual({ percent: 10, availability_percent: expect.any(Number) });
    });

    it('exports invoices as CSV and FOCUS 1.0 that parse cleanly and sum to the JSON totals, with formulas escaped', async () => {
      const json = (await get(viewer, '/admin/v1/billing/invoices?month=2026-11')).json();
      expect(json.invoices.map((i: { organization_id: string }) => i.organization_id).sort()).toEqual([acme.organizationId, globex.organizationId].sort());
      expect(json.total_cents).toBe(sum(json.invoices.map((i: { total_cents: number }) => i.total_cents)));

      const csv = await get(viewer, '/admin/v1/billing/invoices?month=2026-11', { accept: 'text/csv' });
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      const rows = parseCsvObjects(csv.body);
      const lines = rows.filter((r) => r.category !== 'total');
      const totals = rows.filter((r) => r.category === 'total');
      expect(sum(lines.map((r) => Number(r.amount_cents)))).toBe(json.total_cents);
      expect(sum(lines.map((r) => toCents(new Money(r.amount!))))).toBe(json.total_cents);
      for (const invoice of json.invoices) {
        expect(totals.find((t) => t.organization_id === invoice.organization_id)?.amount_cents).toBe(String(invoice.total_cents));
      }
      const acmeRows = rows.filter((r) => r.organization_id === acme.organizationId);
      expect(new Set(acmeRows.map((r) => r.organization_name))).toEqual(new Set([`'=HYPERLINK("https://evil.example","pay here")`]));
      expect(lines.find((r) => r.category === 'credit')?.amount).toMatch(/^-\d+\.\d\d$/);

      const focus = await get(viewer, '/admin/v1/billing/focus?month=2026-11');
      expect(focus.statusCode).toBe(200);
      expect(focus.headers['content-type']).toBe('text/csv; charset=utf-8');
      const focusRows = parseCsvObjects(focus.body);
      expect(Object.keys(focusRows[0]!)).toEqual([...FOCUS_1_0_COLUMNS]);
      expect(focusRows).toHaveLength(lines.length);
      expect(sum(focusRows.map((r) => toCents(new Money(r.BilledCost!))))).toBe(json.total_cents);
      expect(sum(focusRows.map((r) => toCents(new Money(r.EffectiveCost!))))).toBe(json.total_cents);
      expect(new Set(focusRows.map((r) => r.ChargeCategory))).toEqual(new Set(['Usage', 'Credit']));
      expect(focusRows.find((r) => r.ChargeCategory === 'Credit')?.BilledCost).toBe(centsToUnits(json.credits_cents));
      expect(focusRows.every((r) => r.BillingPeriodStart === '2026-11-01T00:00:00.000Z' && r.BillingPeriodEnd === '2026-12-01T00:00:00.000Z')).toBe(true);
      expect(focusRows.filter((r) => r.BillingAccountId === acme.organizationId).every((r) => r.BillingAccountName!.startsWith("'="))).toBe(true);
    });

    it('freezes the month: recomputing gives the same figures to the cent, and later changes never rewrite it', async () => {
      const months = api.app.get(BillingMonths);
      const frozen = (await get(viewer, '/admin/v1/billing/invoices?month=2026-11')).json();
      expect(frozen.final).toBe(true);
      const recomputed = await months.compute('2026-11', monthRange('2026-11'), monthRange('2026-11').end);
      expect(sum(recomputed.map((l) => l.amountCents))).toBe(frozen.total_cents);
      expect(recomputed.map((l) => [l.clusterId, l.kind, l.quantity, l.amountCents])).toEqual(
        frozen.invoices.flatMap((i: { lines: Record<string, unknown>[] }) => i.lines.map((l) => [l.cluster_id, l.item, l.quantity, l.amount_cents])),
      );

      // When a fact of November changes afterwards (pool a said to have had 10 nodes before its first resize)
      await prisma.operation.updateMany({
        where: { targetId: ids.poolA, finishedAt: at('2026-11-12T10:00:30Z') },
        data: { params: { previousPool: { nodeCount: 10 } } },
      });
      expect(sum((await months.compute('2026-11', monthRange('2026-11'), monthRange('2026-11').end)).map((l) => l.amountCents))).not.toBe(frozen.total_cents);

      // Then November's invoice is served as frozen
      const again = (await get(viewer, '/admin/v1/billing/invoices?month=2026-11')).json();
      expect(again).toEqual(frozen);
      await prisma.operation.updateMany({
        where: { targetId: ids.poolA, finishedAt: at('2026-11-12T10:00:30Z') },
        data: { params: { previousPool: { nodeCount: 3 } } },
      });
    });
  });

  describe('the month in progress', () => {
    it('counts usage so far and projects to the month end', async () => {
      const months = api.app.get(BillingMonths);
      // As if it were 2026-11-16T00:00:00Z: gamma has run 15 of November's 30 days.
      const now = at('2026-11-16T00:00:00Z');
      const soFar = await months.invoice('2026-11', globex.organizationId, now);
      expect(soFar.final).toBe(false);
      expect(soFar.lines.filter((l) => l.category === 'usage').map((l) => [l.kind, l.quantity])).toEqual([
        ['cluster_fee', '360'],
        ['node', '1080'],
      ]);
      const projection = await months.projection('2026-11', globex.organizationId, now);
      expect(projection).toEqual({ chargesCents: cents(720, PRICE.gke) + cents(3 * 720, PRICE.e2standard4), through: at('2026-12-01T00:00:00Z') });
    });

    it('answers the current month over HTTP with usage as of now and a projection', async () => {
      const usage = (await get(globex.token, '/v1/billing/usage')).json();
      expect(usage.final).toBe(false);
      expect(usage.projection.charges_cents).toBeGreaterThanOrEqual(usage.charges_cents);
      expect(usage.projection.through).toBe(monthRange(usage.month).end.toISOString());
    });

    it('meters the same clusters from concurrent requests without conflict or double counting', async () => {
      const responses = await Promise.all(Array.from({ length: 4 }, () => get(globex.token, '/v1/billing/usage')));
      expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
      const rows = await prisma.usageInterval.findMany({ where: { clusterId: ids.gamma } });
      expect(rows.map((r) => r.kind).sort()).toEqual(['cluster_fee', 'node']);
    });

    it('refuses a month that has not begun', async () => {
      const res = await get(globex.token, '/v1/billing/usage?month=2999-01');
      expect(res.statusCode).toBe(422);
      expect(res.json().type).toBe(`${PROBLEMS}billing-month-in-future`);
    });
  });

  describe('the price catalogue', () => {
    it('is seeded from the machine types and readable by customers', async () => {
      const prices = (await get(acme.token, '/v1/prices?kind=node')).json().items;
      expect(prices.find((p: { sku: string }) => p.sku === 'nine-standard-4')).toMatchObject({
        unit: 'node-hour',
        unit_price: PRICE.standard4,
        currency: 'CHF',
        effective_from: '2026-01-01T00:00:00.000Z',
      });
    });

    it('splits the running month at the instant a staff price change takes effect, and audits it', async () => {
      const month = new Date().toISOString().slice(0, 7);
      const start = monthRange(month).start.getTime();
      const effective = new Date(Math.max(start + 1000, Date.now() - 60_000)).toISOString();
      const created = await post(operator, '/admin/v1/prices', {
        kind: 'node',
        sku: 'e2-standard-4',
        unit_price: '0.25',
        effective_from: effective,
        reason: 'new list price',
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ kind: 'node', sku: 'e2-standard-4', unit_price: '0.25', effective_from: effective, effective_until: null });

      const usage = (await get(globex.token, `/v1/billing/usage?month=${month}`)).json();
      const nodes = usage.lines.filter((l: { item: string }) => l.item === 'node');
      expect(nodes.map((l: Record<string, string>) => [l.unit_price, l.charge_period_start, l.charge_period_end])).toEqual([
        [PRICE.e2standard4, monthRange(month).start.toISOString(), effective],
        ['0.25', effective, usage.as_of],
      ]);

      const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'price.create', targetId: created.json().id } });
      expect(audit).toMatchObject({ actorType: 'staff_token', reason: 'new list price' });
      expect(audit.changes).toEqual({ [`node/e2-standard-4@${effective}`]: { before: PRICE.e2standard4, after: '0.25' } });

      const again = await post(operator, '/admin/v1/prices', {
        kind: 'node',
        sku: 'e2-standard-4',
        unit_price: '0.3',
        effective_from: effective,
        reason: 'twice',
      });
      expect(again.statusCode).toBe(409);
    });

    it('never rewrites a closed month, and refuses bad prices with a 4xx naming why', async () => {
      const closed = await post(operator, '/admin/v1/prices', {
        kind: 'node',
        sku: 'e2-standard-4',
        unit_price: '0.3',
        effective_from: '2026-11-20T00:00:00.000Z',
        reason: 'retroactive',
      });
      expect(closed.statusCode).toBe(422);
      expect(closed.json().type).toBe(`${PROBLEMS}price-in-closed-month`);
      const future = '2099-01-01T00:00:00.000Z';
      for (const [body, type] of [
        [{ kind: 'node', sku: 'no-such-type', unit_price: '1', effective_from: future, reason: 'typo' }, 'price-sku-unknown'],
        [{ kind: 'node', sku: 'e2-standard-4', unit_price: '1e3', effective_from: future, reason: 'exponent' }, 'price-invalid'],
        [{ kind: 'node', sku: 'e2-standard-4', unit_price: '-1', effective_from: future, reason: 'negative' }, 'price-invalid'],
        [{ kind: 'node', sku: 'e2-standard-4', unit_price: '0.0000000001', effective_from: future, reason: 'too fine' }, 'price-invalid'],
        [{ kind: 'node', sku: 'e2-standard-4', unit_price: '1', currency: 'EUR', effective_from: future, reason: 'euro' }, 'price-currency'],
      ] as const) {
        const res = await post(operator, '/admin/v1/prices', body);
        expect([res.statusCode, res.json().type]).toEqual([422, `${PROBLEMS}${type}`]);
      }
      expect(
        (await post(operator, '/admin/v1/prices', { kind: 'node', sku: 'e2-standard-4', unit_price: '1', effective_from: 'tomorrow', reason: 'x' })).statusCode,
      ).toBe(400);
      expect((await post(viewer, '/admin/v1/prices', { kind: 'addon', sku: 'x', unit_price: '1', effective_from: future, reason: 'viewer' })).statusCode).toBe(
        403,
      );
      expect(
        (await post(acme.token, '/admin/v1/prices', { kind: 'addon', sku: 'x', unit_price: '1', effective_from: future, reason: 'customer' })).statusCode,
      ).toBe(403);
    });
  });

  it('meters stored backups per GiB-month from completion until deletion (libs/backups feeds the sizes)', async () => {
    const initech = await seedOrganization(prisma, { name: 'initech-ag' });
    const id = await cluster(initech.organizationId, 'delta', 'rke2', '2026-10-01T00:00:00Z');
    await operation(initech.organizationId, id, 'create_cluster', id, '2026-10-01T00:00:00Z');
    const backup = (over: object) =>
      prisma.backup.create({
        data: {
          id: newId('bk'),
          clusterId: id,
          organizationId: initech.organizationId,
          kind: 'etcd_snapshot',
          region: 'nine-cz41',
          clusterVersion: '1.35.2',
          sizeBytes: 10n * 1024n ** 3n,
          completedAt: at('2026-10-11T00:00:00Z'),
          ...over,
        },
      });
    // 10 GiB stored for ten days, then deleted; and one that failed (no storage).
    await backup({ status: 'deleted', updatedAt: at('2026-10-21T00:00:00Z') });
    await backup({ status: 'failed', sizeBytes: null });
    const usage = (await get(initech.token, '/v1/billing/usage?month=2026-10')).json();
    const storage = usage.lines.filter((l: { item: string }) => l.item === 'backup_storage');
    expect(storage).toHaveLength(1);
    // 10 GiB × 10 of October's 31 days
    expect(Number(storage[0].quantity)).toBeCloseTo((10 * 10) / 31, 5);
    expect(storage[0]).toMatchObject({ charge_period_start: '2026-10-11T00:00:00.000Z', charge_period_end: '2026-10-21T00:00:00.000Z' });
  });

  it('keeps staff reports from customers', async () => {
    for (const url of ['/admin/v1/billing/invoices?month=2026-11', '/admin/v1/billing/focus?month=2026-11', '/admin/v1/billing/credits?month=2026-11']) {
      expect((await get(acme.token, url)).statusCode).toBe(403);
    }
  });
});
