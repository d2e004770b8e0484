import { newId, type Prisma, PrismaService } from '@capstan/platform';
import { seedOrganization, seedStaff, startTestApi, type SeededOrganization, type TestApi } from '@capstan/testing';
import { SlaReportsRepository } from './sla-reports.repository';
import { SlaReportsService } from './sla-reports.service';

const PROBLEMS = 'https://capstan.dev/problems/';
const at = (iso: string) => new Date(iso);
type State = 'up' | 'down';

describe('SLA reports API', () => {
  let api: TestApi;
  let prisma: PrismaService;
  let acme: SeededOrganization;
  let globex: SeededOrganization;
  let initech: SeededOrganization;
  let staffToken: string;
  const ids = { alpha: '', beta: '', gamma: '', gone: '', customerOp: '', suspendEvent: '', delta: '', epsilon: '', ghost: '' };

  const get = (token: string, url: string, headers: Record<string, string> = {}) =>
    api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });

  async function seedCluster(
    organizationId: string,
    name: string,
    provider: 'rke2' | 'gke',
    options: { currency?: string; createdAt: string; deletedAt?: string },
  ) {
    const id = newId('cl');
    await prisma.cluster.create({
      data: {
        id,
        organizationId,
        name,
        liveName: options.deletedAt ? null : name,
        provider,
        region: provider === 'gke' ? 'europe-west6' : 'nine-cz41',
        currentVersion: '1.35.2',
        desiredVersion: '1.35.2',
        status: options.deletedAt ? 'deleted' : 'running',
        currency: options.currency ?? 'CHF',
        createdAt: at(options.createdAt),
        deletedAt: options.deletedAt ? at(options.deletedAt) : null,
      },
    });
    return id;
  }

  /** Back-to-back intervals from `from`: each segment lasts until the next one's start; `null` is a monitor gap. */
  async function seedTimeline(clusterId: string, vantage: string, from: string, segments: [State | null, string][]) {
    let start = at(from);
    const rows = [];
    for (const [state, until] of segments) {
      if (state) rows.push({ clusterId, vantage, state, startedAt: start, endedAt: at(until) });
      start = at(until);
    }
    await prisma.availabilityInterval.createMany({ data: rows });
  }

  beforeAll(async () => {
    api = await startTestApi();
    prisma = api.app.get(PrismaService);
    acme = await seedOrganization(prisma, { name: 'acme-ag' });
    globex = await seedOrganization(prisma, { name: 'globex-ag' });
    staffToken = (await seedStaff(prisma, 'viewer')).token;

    // alpha (RKE2, 99.5%) in October 2026 (31 days, 44,640 minutes): a 30-minute outage on the 14th, a
    // 4-minute blip on the 20th, a 2-hour monitor gap on the 22nd, down 30 minutes while the organisation
    // was suspended on the 5th, and down 15 minutes during an upgrade the customer started on the 25th.
    ids.alpha = await seedCluster(acme.organizationId, 'alpha', 'rke2', { createdAt: '2026-09-01T00:00:00Z' });
    await seedTimeline(ids.alpha, 'zrh', '2026-10-01T00:00:00Z', [
      ['up', '2026-10-05T12:00:00Z'],
      ['down', '2026-10-05T12:30:00Z'],
      ['up', '2026-10-14T10:00:00Z'],
      ['down', '2026-10-14T10:30:00Z'],
      ['up', '2026-10-20T08:00:00Z'],
      ['down', '2026-10-20T08:04:00Z'],
      ['up', '2026-10-22T00:00:00Z'],
      [null, '2026-10-22T02:00:00Z'],
      ['up', '2026-10-25T09:00:00Z'],
      ['down', '2026-10-25T09:15:00Z'],
      ['up', '2026-11-01T00:00:00Z'],
    ]);
    // A second vantage point agrees about the outage, so it stays down.
    await seedTimeline(ids.alpha, 'fra', '2026-10-14T09:00:00Z', [
      ['up', '2026-10-14T10:00:00Z'],
      ['down', '2026-10-14T10:30:00Z'],
      ['up', '2026-10-14T11:00:00Z'],
    ]);
    ids.customerOp = newId('op');
    const operation = {
      organizationId: acme.organizationId,
      clusterId: ids.alpha,
      type: 'upgrade_cluster' as const,
      status: 'succeeded' as const,
      targetType: 'cluster',
      targetId: ids.alpha,
    };
    await prisma.operation.create({
      data: {
        ...operation,
        id: ids.customerOp,
        requestedByType: 'api_token',
        requestedById: acme.tokenId,
        startedAt: at('2026-10-25T09:00:00Z'),
        finishedAt: at('2026-10-25T09:20:00Z'),
      },
    });
    // Staff ran something across the outage: that is not the customer's doing, so it excuses nothing.
    await prisma.operation.create({
      data: {
        ...operation,
        id: newId('op'),
        requestedByType: 'staff_user',
        requestedById: 'stf_x',
        startedAt: at('2026-10-14T09:55:00Z'),
        finishedAt: at('2026-10-14T10:40:00Z'),
      },
    });
    ids.suspendEvent = newId('aud');
    const audit = {
      organizationId: acme.organizationId,
      actorType: 'staff_user' as const,
      actorId: 'stf_x',
      targetType: 'organization',
      targetId: acme.organizationId,
    };
    await prisma.auditEvent.create({ data: { ...audit, id: ids.suspendEvent, action: 'organization.suspend', createdAt: at('2026-10-05T11:00:00Z') } });
    await prisma.auditEvent.create({ data: { ...audit, id: newId('aud'), action: 'organization.resume', createdAt: at('2026-10-05T14:00:00Z') } });

    // beta (GKE) was created on 10 October and has been up since.
    ids.beta = await seedCluster(acme.organizationId, 'beta', 'gke', { createdAt: '2026-10-10T00:00:00Z' });
    await seedTimeline(ids.beta, 'zrh', '2026-10-10T00:00:00Z', [['up', '2026-11-01T00:00:00Z']]);
    // gone was deleted before October.
    ids.gone = await seedCluster(acme.organizationId, 'gone', 'rke2', { createdAt: '2026-08-01T00:00:00Z', deletedAt: '2026-09-15T00:00:00Z' });

    // gamma (GKE, 99.95%: 22.32 minutes in October) belongs to another organisation and was down an hour.
    ids.gamma = await seedCluster(globex.organizationId, 'gamma', 'gke', { currency: 'EUR', createdAt: '2026-09-01T00:00:00Z' });
    await seedTimeline(ids.gamma, 'zrh', '2026-10-01T00:00:00Z', [
      ['up', '2026-10-10T06:00:00Z'],
      ['down', '2026-10-10T07:00:00Z'],
      ['up', '2026-11-01T00:00:00Z'],
    ]);
  }, 60_000); // a migrated database and the API on a loaded machine: more than jest's default 5 s

  afterAll(async () => {
    await api.close();
  });

  describe('outages the count used to miss (issue 14)', () => {
    beforeAll(async () => {
      initech = await seedOrganization(prisma, { name: 'initech-ag' });
      // delta: down 23:57 on 30 September to 00:02 on 1 October (3 + 2 minutes), and on 10 October
      // down 3 minutes, a minute without data (the monitor restarting), down 3 more.
      ids.delta = await seedCluster(initech.organizationId, 'delta', 'rke2', { createdAt: '2026-08-01T00:00:00Z' });
      await seedTimeline(ids.delta, 'zrh', '2026-09-01T00:00:00Z', [
        ['up', '2026-09-30T23:57:00Z'],
        ['down', '2026-10-01T00:02:00Z'],
        ['up', '2026-10-10T10:00:00Z'],
        ['down', '2026-10-10T10:03:00Z'],
        [null, '2026-10-10T10:04:00Z'],
        ['down', '2026-10-10T10:07:00Z'],
        ['up', '2026-11-01T00:00:00Z'],
      ]);
      // epsilon: down 20 minutes on 7 October while the customer scaled a node pool, which cannot
      // take the API server down, so it excuses nothing.
      ids.epsilon = await seedCluster(initech.organizationId, 'epsilon', 'rke2', { createdAt: '2026-08-01T00:00:00Z' });
      await seedTimeline(ids.epsilon, 'zrh', '2026-10-01T00:00:00Z', [
        ['up', '2026-10-07T10:00:00Z'],
        ['down', '2026-10-07T10:20:00Z'],
        ['up', '2026-11-01T00:00:00Z'],
      ]);
      await prisma.operation.create({
        data: {
          id: newId('op'),
          organizationId: initech.organizationId,
          clusterId: ids.epsilon,
          type: 'scale_node_pool',
          status: 'succeeded',
          targetType: 'node_pool',
          targetId: 'np_x',
          requestedByType: 'api_token',
          requestedById: initech.tokenId,
          startedAt: at('2026-10-07T09:55:00Z'),
          finishedAt: at('2026-10-07T10:30:00Z'),
        },
      });
      // ghost: its creation failed on 3 October; it never served a request.
      ids.ghost = await seedCluster(initech.organizationId, 'ghost', 'rke2', { createdAt: '2026-10-03T00:00:00Z' });
      await prisma.cluster.update({ where: { id: ids.ghost }, data: { status: 'error' } });
      await prisma.operation.create({
        data: {
          id: newId('op'),
          organizationId: initech.organizationId,
          clusterId: ids.ghost,
          type: 'create_cluster',
          status: 'failed',
          targetType: 'cluster',
          targetId: ids.ghost,
          requestedByType: 'api_token',
          requestedById: initech.tokenId,
          startedAt: at('2026-10-03T00:00:01Z'),
          finishedAt: at('2026-10-03T00:10:00Z'),
        },
      });
    }, 30_000);

    it('counts an outage across a month boundary in both months, each its own minutes', async () => {
      const september = (await get(initech.token, `/v1/clusters/${ids.delta}/sla?month=2026-09`)).json();
      const october = (await get(initech.token, `/v1/clusters/${ids.delta}/sla?month=2026-10`)).json();

      // Before: 3 + 2 minutes, neither reaching 5, counted in neither month
      expect(september.counted_downtime_minutes).toBe(3);
      expect(september.downtime_periods).toEqual([
        expect.objectContaining({ start: '2026-09-30T23:57:00.000Z', end: '2026-10-01T00:02:00.000Z', minutes: 5, counted: true, counted_minutes_in_month: 3 }),
      ]);
      expect(october.downtime_periods[0]).toEqual(
        expect.objectContaining({ start: '2026-09-30T23:57:00.000Z', minutes: 5, counted: true, counted_minutes_in_month: 2 }),
      );
    });

    it('does not let a minute without data split an outage', async () => {
      const october = (await get(initech.token, `/v1/clusters/${ids.delta}/sla?month=2026-10`)).json();

      // 2 minutes from the boundary outage, 6 from 10 October (before: two 3-minute blips, 0 counted)
      expect(october).toMatchObject({ counted_downtime_minutes: 8, unknown_minutes: 1, trustworthy: true });
      expect(october.downtime_periods[1]).toEqual(
        expect.objectContaining({
          start: '2026-10-10T10:00:00.000Z',
          end: '2026-10-10T10:07:00.000Z',
          minutes: 7,
          down_minutes: 6,
          unknown_minutes: 1,
          counted: true,
          counted_minutes_in_month: 6,
        }),
      );
      expect(october.days[9]).toMatchObject({ date: '2026-10-10', counted_downtime_minutes: 6, availability_percent: 99.5833 }); // 1 − 6/1,440
    });

    it('does not excuse downtime during work that cannot affect the control plane (a node-pool scale)', async () => {
      const report = (await get(initech.token, `/v1/clusters/${ids.epsilon}/sla?month=2026-10`)).json();

      expect(report).toMatchObject({ counted_downtime_minutes: 20, excluded_minutes: 0, exclusions: [] });
    });

    it('does not list a cluster that never ran, and answers 422 for its report', async () => {
      const list = (await get(initech.token, '/v1/sla?month=2026-10')).json();
      expect(list.items.map((r: { cluster_name: string }) => r.cluster_name)).toEqual(['delta', 'epsilon']);

      const res = await get(initech.token, `/v1/clusters/${ids.ghost}/sla?month=2026-10`);
      expect(res.statusCode).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().type).toBe(`${PROBLEMS}cluster-never-ran`);
    });
  });

  describe('a cluster report for a past month', () => {
    it('counts a 30-minute outage against the budget and lists a 4-minute blip without counting it', async () => {
      const res = await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=2026-10`);

      expect(res.statusCode).toBe(200);
      const report = res.json();
      expect(report).toMatchObject({
        cluster_id: ids.alpha,
        month: '2026-10',
        provider: 'rke2',
        sla_version: '2026-11',
        target_percent: 99.5,
        final: true,
        minutes_in_month: 44_640,
        counted_downtime_minutes: 30,
        down_minutes: 34,
        availability_percent: 99.9327, // 100 × (1 − 30 / 44,640), rounded down
        error_budget: { total_minutes: 223.2, used_minutes: 30, remaining_minutes: 193.2 },
        breached: false,
        credit: { percent: 0 },
      });
      const period = { down_minutes: 0, unknown_minutes: 0, counted_minutes_in_month: 0, excluded_minutes_in_month: 0 };
      expect(report.downtime_periods).toEqual([
        // down while suspended: a real outage, its minutes excused by the suspension
        {
          ...period,
          start: '2026-10-05T12:00:00.000Z',
          end: '2026-10-05T12:30:00.000Z',
          minutes: 30,
          down_minutes: 30,
          counted: true,
          excluded_minutes_in_month: 30,
        },
        {
          ...period,
          start: '2026-10-14T10:00:00.000Z',
          end: '2026-10-14T10:30:00.000Z',
          minutes: 30,
          down_minutes: 30,
          counted: true,
          counted_minutes_in_month: 30,
        },
        { ...period, start: '2026-10-20T08:00:00.000Z', end: '2026-10-20T08:04:00.000Z', minutes: 4, down_minutes: 4, counted: false },
        {
          ...period,
          start: '2026-10-25T09:00:00.000Z',
          end: '2026-10-25T09:15:00.000Z',
          minutes: 15,
          down_minutes: 15,
          counted: true,
          excluded_minutes_in_month: 15,
        },
      ]);
      expect(report).toMatchObject({ trustworthy: true, min_coverage_percent: 99.5 });
      expect(report.rules).toMatchObject({ counted_downtime_minutes: 'docs/sla.md#downtime-periods', availability_percent: 'docs/sla.md#availability' });
      expect(report.days).toHaveLength(31);
      expect(report.days[13]).toMatchObject({ date: '2026-10-14', counted_downtime_minutes: 30, down_minutes: 30, unknown_minutes: 0 });
      expect(report.days[19]).toMatchObject({ date: '2026-10-20', counted_downtime_minutes: 0, down_minutes: 4, availability_percent: 100 });
    });

    it("excludes the customer's own upgrade and the suspension, each with its reference, but not staff's operation", async () => {
      const report = (await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=2026-10`)).json();

      expect(report.exclusions).toEqual([
        {
          start: '2026-10-05T11:00:00.000Z',
          end: '2026-10-05T14:00:00.000Z',
          reason: 'organization_suspended',
          reference: ids.suspendEvent,
          excluded_from: '2026-10-05T11:00:00.000Z',
          excluded_until: '2026-10-05T14:00:00.000Z',
          minutes: 180,
          down_minutes: 30,
        },
        {
          start: '2026-10-25T09:00:00.000Z',
          end: '2026-10-25T09:20:00.000Z',
          reason: 'customer_initiated',
          reference: ids.customerOp,
          excluded_from: '2026-10-25T09:00:00.000Z',
          excluded_until: '2026-10-25T09:20:00.000Z',
          minutes: 20,
          down_minutes: 15,
        },
      ]);
      expect(report.excluded_minutes).toBe(200);
      expect(report.days[24]).toMatchObject({ date: '2026-10-25', excluded_minutes: 20, down_minutes: 0 });
    });

    it('shows a monitor gap as unknown minutes and reduced coverage, not as downtime', async () => {
      const report = (await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=2026-10`)).json();

      expect(report.unknown_minutes).toBe(120);
      expect(report.days[21]).toMatchObject({ date: '2026-10-22', unknown_minutes: 120, down_minutes: 0, counted_downtime_minutes: 0 });
      expect(report.measured_minutes).toBe(44_640 - 200 - 120);
      expect(report.coverage_percent).toBe(99.7299); // 44,320 measured of 44,440 not excluded
      expect(report.up_minutes + report.down_minutes + report.unknown_minutes + report.excluded_minutes + report.future_minutes).toBe(44_640);
    });

    it('shows a cluster that was up whenever it existed at 100%, its minutes before creation excluded', async () => {
      const report = (await get(acme.token, `/v1/clusters/${ids.beta}/sla?month=2026-10`)).json();

      expect(report).toMatchObject({
        provider: 'gke',
        target_percent: 99.95,
        availability_percent: 100,
        counted_downtime_minutes: 0,
        unknown_minutes: 0,
        coverage_percent: 100,
        breached: false,
      });
      expect(report.exclusions).toEqual([
        expect.objectContaining({
          reason: 'customer_initiated',
          reference: 'cluster-not-present',
          start: '2026-10-01T00:00:00.000Z',
          end: '2026-10-10T00:00:00.000Z',
          minutes: 9 * 1440,
        }),
      ]);
    });

    it('credits a breach from its tier: GKE down an hour is 99.8655%, 10% of the charges', async () => {
      const report = (await get(globex.token, `/v1/clusters/${ids.gamma}/sla?month=2026-10`)).json();

      expect(report).toMatchObject({
        availability_percent: 99.8655,
        counted_downtime_minutes: 60,
        error_budget: { total_minutes: 22.32, used_minutes: 60, remaining_minutes: -37.68 },
        breached: true,
        credit: { percent: 10 },
      });
    });
  });

  describe('refusals', () => {
    it("answers 404 for another organisation's cluster, whatever the month", async () => {
      for (const url of [`/v1/clusters/${ids.alpha}/sla?month=2026-10`, `/v1/clusters/${ids.alpha}/sla`]) {
        const res = await get(globex.token, url);
        expect(res.statusCode).toBe(404);
        expect(res.json().type).toBe(`${PROBLEMS}not-found`);
        expect(res.body).not.toContain('alpha');
      }
    });

    it('answers 400 naming month for a month that is not YYYY-MM', async () => {
      for (const month of ['2026-13', '2026-1', 'october', '2026-10-01']) {
        const res = await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=${month}`);
        expect(res.statusCode).toBe(400);
        expect(res.json().errors).toEqual([{ field: 'month', message: expect.any(String) }]);
      }
      expect((await get(acme.token, '/v1/sla?month=26-10')).json().errors[0].field).toBe('month');
    });

    it('answers 422 for a month that has not begun, and for one in which the cluster did not exist', async () => {
      const future = await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=2099-01`);
      expect(future.statusCode).toBe(422);
      expect(future.json().type).toBe(`${PROBLEMS}sla-month-in-future`);
      expect((await get(acme.token, '/v1/sla?month=2099-01')).statusCode).toBe(422);

      const beforeItExisted = await get(acme.token, `/v1/clusters/${ids.beta}/sla?month=2026-09`);
      expect(beforeItExisted.statusCode).toBe(422);
      expect(beforeItExisted.json().type).toBe(`${PROBLEMS}cluster-not-present-in-month`);
    });
  });

  describe('the monthly summary list', () => {
    it("lists one row per cluster that existed in the month, by page, and only the caller's", async () => {
      const first = await get(acme.token, '/v1/sla?month=2026-10&limit=1');
      expect(first.statusCode).toBe(200);
      expect(first.json().next_cursor).toEqual(expect.any(String));
      const second = await get(acme.token, `/v1/sla?month=2026-10&limit=1&cursor=${first.json().next_cursor}`);
      expect(second.json().next_cursor).toBeNull();

      const rows = [...first.json().items, ...second.json().items];
      expect(rows.map((r: { cluster_name: string }) => r.cluster_name)).toEqual(['alpha', 'beta']); // not gone (deleted in September)
      expect(rows[0]).toEqual({
        cluster_id: ids.alpha,
        cluster_name: 'alpha',
        provider: 'rke2',
        month: '2026-10',
        sla_version: '2026-11',
        target_percent: 99.5,
        final: true,
        availability_percent: 99.9327,
        coverage_percent: 99.7299,
        trustworthy: true,
        counted_downtime_minutes: 30,
        error_budget: { total_minutes: 223.2, used_minutes: 30, remaining_minutes: 193.2 },
        breached: false,
        credit: { percent: 0 },
      });

      const theirs = (await get(globex.token, '/v1/sla?month=2026-10')).json();
      expect(theirs.items.map((r: { cluster_id: string }) => r.cluster_id)).toEqual([ids.gamma]);
    });
  });

  describe('the current month', () => {
    it('is computed live, with the rest of the month still to come, and not frozen', async () => {
      const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
      const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      const minutesAgo = (n: number) => new Date(now.getTime() - n * 60_000).toISOString();
      await seedTimeline(ids.alpha, 'zrh', monthStart.toISOString(), [
        ['up', minutesAgo(40)],
        ['down', minutesAgo(10)],
        ['up', now.toISOString()],
      ]);

      const res = await get(acme.token, `/v1/clusters/${ids.alpha}/sla`);

      expect(res.statusCode).toBe(200);
      const report = res.json();
      expect(report.month).toBe(now.toISOString().slice(0, 7));
      expect(report).toMatchObject({ final: false, counted_downtime_minutes: 30, error_budget: { used_minutes: 30 } });
      expect(report.downtime_periods).toEqual([
        expect.objectContaining({ start: minutesAgo(40), end: minutesAgo(10), minutes: 30, counted: true, counted_minutes_in_month: 30 }),
      ]);
      expect(report.future_minutes).toBeGreaterThan(0);
      expect(await prisma.slaReport.count({ where: { clusterId: ids.alpha, month: report.month } })).toBe(0);
    });
  });

  describe('staff', () => {
    it('lists only breached clusters, across organisations', async () => {
      const res = await get(staffToken, '/admin/v1/sla/breaches?month=2026-10');

      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        items: [
          expect.objectContaining({
            organization_id: globex.organizationId,
            cluster_id: ids.gamma,
            cluster_name: 'gamma',
            breached: true,
            availability_percent: 99.8655,
          }),
        ],
        next_cursor: null,
      });
      expect((await get(staffToken, `/admin/v1/sla/breaches?month=2026-10&organization_id=${acme.organizationId}`)).json().items).toEqual([]);
      expect((await get(acme.token, '/admin/v1/sla/breaches?month=2026-10')).statusCode).toBe(403);
    });
  });

  describe('freezing a past month', () => {
    it('stores the month once, recomputes to the same numbers, and serves them even after the inputs change', async () => {
      // Given October was asked for above, so it is stored as final
      const stored = await prisma.slaReport.findUniqueOrThrow({ where: { clusterId_month: { clusterId: ids.alpha, month: '2026-10' } } });
      expect(stored).toMatchObject({
        final: true,
        organizationId: acme.organizationId,
        slaVersion: '2026-11',
        downtimeMinutes: 30,
        excludedMinutes: 200,
        unknownMinutes: 120,
        breached: false,
        creditPercent: 0,
      });
      expect(stored.availability.toNumber()).toBe(99.9327);
      const service = api.app.get(SlaReportsService);
      const cluster = await api.app.get(SlaReportsRepository).cluster(undefined, ids.alpha);
      const storedReport = stored.details as Record<string, unknown>;
      expect(JSON.parse(JSON.stringify(await service.compute(cluster, '2026-10', new Date())))).toEqual(storedReport);
      const before = (await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=2026-10`)).json();

      // When the monitor's October data is rewritten to say it was up all month
      await prisma.availabilityInterval.deleteMany({ where: { clusterId: ids.alpha, startedAt: { lt: at('2026-11-01T00:00:00Z') } } });
      await seedTimeline(ids.alpha, 'zrh', '2026-10-01T00:00:00Z', [['up', '2026-11-01T00:00:00Z']]);
      expect((await service.compute(cluster, '2026-10', new Date())).countedDowntimeMinutes).toBe(0);

      // Then the report, the list and the service still give the frozen numbers
      const after = await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=2026-10`);
      expect(after.json()).toEqual(before);
      expect(after.json()).toMatchObject({
        counted_downtime_minutes: 30,
        availability_percent: 99.9327,
        final: true,
        computed_at: stored.computedAt.toISOString(),
      });
      expect((await get(acme.token, '/v1/sla?month=2026-10')).json().items[0].counted_downtime_minutes).toBe(30);
      expect((await service.report(ids.alpha, '2026-10', new Date())).report.countedDowntimeMinutes).toBe(30);
      expect(await prisma.slaReport.count({ where: { clusterId: ids.alpha } })).toBe(1);
    });

    it('serves a report frozen before reports cited their rules, with the values those fields had', async () => {
      // Given October's frozen details rewritten in the earlier format
      const stored = await prisma.slaReport.findUniqueOrThrow({ where: { clusterId_month: { clusterId: ids.alpha, month: '2026-10' } } });
      const {
        rules: _rules,
        trustworthy: _trustworthy,
        minCoveragePercent: _min,
        downtimePeriods,
        ...rest
      } = stored.details as Record<string, unknown> & { downtimePeriods: Record<string, unknown>[] };
      const legacy = { ...rest, downtimePeriods: downtimePeriods.map((p) => ({ start: p.start, end: p.end, minutes: p.minutes, counted: p.counted })) };
      await prisma.slaReport.update({
        where: { clusterId_month: { clusterId: ids.alpha, month: '2026-10' } },
        data: { details: legacy as Prisma.InputJsonObject },
      });

      const res = await get(acme.token, `/v1/clusters/${ids.alpha}/sla?month=2026-10`);

      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        counted_downtime_minutes: 30,
        trustworthy: true,
        min_coverage_percent: 99.5,
        rules: { availability_percent: 'docs/sla.md#availability' },
      });
      expect(res.json().downtime_periods[1]).toEqual(expect.objectContaining({ minutes: 30, down_minutes: 30, counted_minutes_in_month: 30 }));
    });
  });
});
