import { EventsService } from '@capstan/events';
import { Database, ManualClock, newId, PrismaService } from '@capstan/platform';
import { seedOrganization, type SeededOrganization, startTestApi, type TestApi } from '@capstan/testing';
import { SlaReportsRepository } from '../reports/sla-reports.repository';
import { BurnRateAlerter } from './burn-rate-alerter';

const MINUTE = 60_000;
const NOW = new Date('2026-11-20T12:00:00Z');
const minutesAgo = (n: number) => new Date(NOW.getTime() - n * MINUTE);

describe('BurnRateAlerter against Postgres', () => {
  let api: TestApi;
  let prisma: PrismaService;
  let org: SeededOrganization;
  let clock: ManualClock;

  /** A monitor process's alerter: a new one stands for a restarted monitor or a second replica. */
  const alerter = () => {
    const db = api.app.get(Database, { strict: false });
    return new BurnRateAlerter(db, new SlaReportsRepository(db), api.app.get(EventsService, { strict: false }), clock);
  };

  /** A cluster watched for the last 3 days, up except for the given stretches. */
  async function clusterWith(downs: { from: number; minutes: number }[]): Promise<string> {
    const id = newId('cl');
    await prisma.cluster.create({
      data: {
        id,
        organizationId: org.organizationId,
        name: id.slice(-12),
        liveName: id.slice(-12),
        provider: 'rke2',
        region: 'nine-cz41',
        currentVersion: '1.35.2',
        desiredVersion: '1.35.2',
        status: 'running',
        createdAt: minutesAgo(5 * 1440),
      },
    });
    let start = minutesAgo(3 * 1440);
    const rows = [];
    for (const down of [...downs].sort((a, b) => b.from - a.from)) {
      rows.push({ clusterId: id, vantage: 'zrh', state: 'up' as const, startedAt: start, endedAt: minutesAgo(down.from) });
      rows.push({ clusterId: id, vantage: 'zrh', state: 'down' as const, startedAt: minutesAgo(down.from), endedAt: minutesAgo(down.from - down.minutes) });
      start = minutesAgo(down.from - down.minutes);
    }
    rows.push({ clusterId: id, vantage: 'zrh', state: 'up' as const, startedAt: start, endedAt: NOW });
    await prisma.availabilityInterval.createMany({ data: rows });
    return id;
  }

  const eventsOf = (clusterId: string) =>
    prisma.event.findMany({ where: { subject: `/v1/clusters/${clusterId}`, type: { startsWith: 'dev.capstan.sla.burn_rate.' } }, orderBy: { time: 'asc' } });

  beforeAll(async () => {
    api = await startTestApi();
    prisma = api.app.get(PrismaService);
    org = await seedOrganization(prisma, { name: 'alerted-ag' });
  }, 60_000); // a migrated database and the API on a loaded machine: more than jest's default 5 s

  afterAll(async () => {
    await api.close();
  });

  beforeEach(() => {
    clock = new ManualClock(NOW);
  });

  /** Appends a stretch to the cluster's timeline and moves the clock to its end. */
  async function then(clusterId: string, state: 'up' | 'down', minutes: number) {
    const start = clock.now();
    clock.advance(minutes * MINUTE);
    await prisma.availabilityInterval.create({ data: { clusterId, vantage: 'zrh', state, startedAt: start, endedAt: clock.now() } });
  }

  it('pages once for an outage, remembers it across a restart, and resolves it with an event', async () => {
    // Given a 10-minute outage that is still going on
    const id = await clusterWith([{ from: 10, minutes: 10 }]);

    // When the monitor evaluates, restarts and evaluates again
    expect((await alerter().evaluate()).filter((c) => c.clusterId === id)).toEqual([{ clusterId: id, severity: 'page' }]);
    expect((await alerter().evaluate()).filter((c) => c.clusterId === id)).toEqual([]);

    // Then one page, and its state is in Postgres
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['dev.capstan.sla.burn_rate.page']);
    expect(await prisma.slaAlert.findUnique({ where: { clusterId: id } })).toMatchObject({ severity: 'page', firingSince: NOW });

    // When it has been up for 10 minutes since (the pages' short windows are clean, and 10 minutes
    // is under every slower rule's factor)
    await then(id, 'up', 10);
    const changes = (await alerter().evaluate()).filter((c) => c.clusterId === id);

    // Then it resolves, once, with an event naming what was firing
    expect(changes).toEqual([{ clusterId: id, severity: 'resolved' }]);
    expect((await alerter().evaluate()).filter((c) => c.clusterId === id)).toEqual([]);
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['dev.capstan.sla.burn_rate.page', 'dev.capstan.sla.burn_rate.resolved']);
    expect(events[1].data).toMatchObject({ cluster_id: id, severity: 'page' });
    expect(await prisma.slaAlert.findUnique({ where: { clusterId: id } })).toMatchObject({ severity: null, firingSince: null });
  });

  it('raises a second outage after the first one resolved', async () => {
    const id = await clusterWith([{ from: 6, minutes: 6 }]);
    expect((await alerter().evaluate()).filter((c) => c.clusterId === id)).toEqual([{ clusterId: id, severity: 'page' }]);
    await then(id, 'up', 10);
    expect((await alerter().evaluate()).filter((c) => c.clusterId === id)).toEqual([{ clusterId: id, severity: 'resolved' }]);

    // Before, a page still "active" in one process's memory swallowed the second outage
    await then(id, 'down', 8);
    expect((await alerter().evaluate()).filter((c) => c.clusterId === id)).toEqual([{ clusterId: id, severity: 'page' }]);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual([
      'dev.capstan.sla.burn_rate.page',
      'dev.capstan.sla.burn_rate.resolved',
      'dev.capstan.sla.burn_rate.page',
    ]);
  });

  it('does not page on a 2-minute blip of a cluster watched for 10 minutes', async () => {
    const id = newId('cl');
    await prisma.cluster.create({
      data: {
        id,
        organizationId: org.organizationId,
        name: 'young',
        liveName: 'young',
        provider: 'rke2',
        region: 'nine-cz41',
        currentVersion: '1.35.2',
        desiredVersion: '1.35.2',
        status: 'running',
        createdAt: minutesAgo(15),
      },
    });
    await prisma.availabilityInterval.createMany({
      data: [
        { clusterId: id, vantage: 'zrh', state: 'up', startedAt: minutesAgo(10), endedAt: minutesAgo(2) },
        { clusterId: id, vantage: 'zrh', state: 'down', startedAt: minutesAgo(2), endedAt: NOW },
      ],
    });

    expect((await alerter().evaluate()).filter((c) => c.clusterId === id)).toEqual([]);
    expect(await eventsOf(id)).toEqual([]);
  });

  it("does not page on downtime during the customer's own upgrade, but does during a node-pool scale", async () => {
    const upgraded = await clusterWith([{ from: 20, minutes: 20 }]);
    const scaled = await clusterWith([{ from: 20, minutes: 20 }]);
    const operation = (clusterId: string, type: 'upgrade_cluster' | 'scale_node_pool') =>
      prisma.operation.create({
        data: {
          id: newId('op'),
          organizationId: org.organizationId,
          clusterId,
          type,
          status: 'running',
          targetType: 'cluster',
          targetId: clusterId,
          requestedByType: 'api_token',
          requestedById: org.tokenId,
          startedAt: minutesAgo(25),
        },
      });
    await operation(upgraded, 'upgrade_cluster');
    await operation(scaled, 'scale_node_pool');

    const changes = await alerter().evaluate();

    expect(changes.filter((c) => c.clusterId === upgraded)).toEqual([]);
    expect(changes.filter((c) => c.clusterId === scaled)).toEqual([{ clusterId: scaled, severity: 'page' }]);
  });

  it('raises one event when two replicas evaluate at once', async () => {
    const id = await clusterWith([{ from: 7, minutes: 7 }]);

    const [a, b] = await Promise.all([alerter().evaluate(), alerter().evaluate()]);

    expect([...a, ...b].filter((c) => c.clusterId === id)).toEqual([{ clusterId: id, severity: 'page' }]);
    expect(await eventsOf(id)).toHaveLength(1);
  });
});
