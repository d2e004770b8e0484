import { startSlaMonitor } from '@capstan/sla-monitor';
import { seedOrganization, type Stack, startStack } from '@capstan/testing';
import { monitorConfig, runningCluster } from './monitor-support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two monitor deployments in two locations (docs/sla.md, "Vantage points"): the same database and
 * Redis, a different SLA_VANTAGE each. Every location probes every cluster and records under its
 * own name; reports combine them minute by minute.
 */
describe('SLA monitors at two vantage points', () => {
  let stack: Stack;
  let customer: string;
  let clusterId: string;

  beforeAll(async () => {
    stack = await startStack();
    customer = (await seedOrganization(stack.prisma)).token;
    clusterId = await runningCluster(stack, customer, 'two-views');
    // The views below cover the past hour; the cluster must have existed by then.
    await stack.prisma.cluster.update({ where: { id: clusterId }, data: { createdAt: new Date(Date.now() - 2 * 3_600_000) } });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const deployment = (vantage: string) => startSlaMonitor(monitorConfig(stack, { SLA_VANTAGE: vantage }));

  it('records each location under its own name, and counts a minute down only when both saw it down', async () => {
    // Given a deployment in Zurich and one in Frankfurt, watching for a few seconds
    const [zurich, frankfurt] = await Promise.all([deployment('zrh'), deployment('fra')]);
    await sleep(3_000);
    await Promise.all([zurich.close(), frankfurt.close()]);

    // Then both locations probed the cluster (locations never share clusters) and saw it up
    const rows = await stack.prisma.availabilityInterval.findMany({ where: { clusterId }, orderBy: { startedAt: 'asc' } });
    expect(new Set(rows.map((r) => r.vantage))).toEqual(new Set(['zrh', 'fra']));
    expect(rows.every((r) => r.state === 'up')).toBe(true);

    // When Frankfurt alone had seen the whole time as down (it lost its route to the cluster)
    const end = new Date(Math.max(...rows.map((r) => r.endedAt.getTime())));
    const month = end.toISOString().slice(0, 7);
    // Up to an hour of each location's view, within this month, so whole minutes are at stake
    const from = new Date(Math.max(end.getTime() - 3_600_000, Date.parse(`${month}-01T00:00:00Z`)));
    const minutes = Math.floor((end.getTime() - from.getTime()) / 60_000);
    const report = async () =>
      (await stack.api.inject({ method: 'GET', url: `/v1/clusters/${clusterId}/sla?month=${month}`, headers: { authorization: `Bearer ${customer}` } })).json();
    await stack.prisma.availabilityInterval.deleteMany({ where: { clusterId } });
    const hour = (vantage: string, state: 'up' | 'down') => ({ clusterId, vantage, state, startedAt: from, endedAt: end });
    await stack.prisma.availabilityInterval.createMany({ data: [hour('zrh', 'up'), hour('fra', 'down')] });
    // Then the cluster is not down: Zurich saw it up
    expect(await report()).toMatchObject({ down_minutes: 0, counted_downtime_minutes: 0 });

    // And when Zurich saw it down too, the minutes both saw down are downtime
    await stack.prisma.availabilityInterval.updateMany({ where: { clusterId, vantage: 'zrh' }, data: { state: 'down' } });
    const bothDown = await report();
    expect(bothDown.down_minutes).toBeGreaterThanOrEqual(minutes - 1);
    expect(bothDown.rules.down_minutes).toBe('docs/sla.md#minute-states');
  }, 60_000);
});
