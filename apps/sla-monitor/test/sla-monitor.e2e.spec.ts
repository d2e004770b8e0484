import { AcceleratedClock, type PrismaService } from '@capstan/platform';
import { BurnRateAlerter } from '@capstan/sla';
import { startSlaMonitor } from '@capstan/sla-monitor';
import { seedOrganization, seedStaff, type Stack, startStack } from '@capstan/testing';
import { monitorConfig, runningCluster } from './monitor-support';

/** 60 simulated seconds per real second: a 7-minute outage takes 7 s to watch. */
const SPEED = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function intervalsOf(prisma: PrismaService, clusterId: string) {
  return prisma.availabilityInterval.findMany({ where: { clusterId }, orderBy: { startedAt: 'asc' } });
}

const minutes = (a: Date, b: Date) => (b.getTime() - a.getTime()) / 60_000;

describe('SLA monitor against simulated clusters', () => {
  let stack: Stack;
  let customer: string;
  let staff: string;
  let down: { id: string };
  let healthy: { id: string };

  beforeAll(async () => {
    stack = await startStack();
    customer = (await seedOrganization(stack.prisma)).token;
    staff = (await seedStaff(stack.prisma, 'operator')).token;
    down = { id: await runningCluster(stack, customer, 'will-go-down') };
    healthy = { id: await runningCluster(stack, customer, 'stays-up') };
    // Simulated time below runs in the past hour; the clusters must have existed by then.
    await stack.prisma.cluster.updateMany({ where: { id: { in: [down.id, healthy.id] } }, data: { createdAt: new Date(Date.now() - 2 * 3_600_000) } });
  }, 60_000);

  /** Monitors the test started, closed here too, so a failed assertion cannot leave one running (and jest waiting). */
  const started: { close(): Promise<void> }[] = [];
  const monitorWith = async (clock: AcceleratedClock) => {
    const monitor = await startSlaMonitor(monitorConfig(stack), { clock });
    started.push(monitor);
    return monitor;
  };

  afterAll(async () => {
    for (const monitor of started) await monitor.close().catch(() => undefined);
    await stack?.stop();
  }, 60_000);

  const apiServer = (state: 'down' | 'up') =>
    stack.api.inject({
      method: 'POST',
      url: `/admin/v1/simulator/clusters/${down.id}/api-server`,
      headers: { authorization: `Bearer ${staff}` },
      payload: { state, reason: 'SLA monitor test' },
    });

  it('records a fault-injected outage as one down interval, the other cluster stays up, and a stopped monitor leaves a gap', async () => {
    // Simulated time starts an hour ago, so everything it records is already in the past for the
    // API's real clock, which computes the live month's report.
    const clock = new AcceleratedClock(SPEED, new Date(Date.now() - 60 * 60_000));
    let monitor = await monitorWith(clock);
    await sleep(2_000);
    // The simulated instants around each fault switch: under load a request can take a simulated
    // minute, so the outage is judged against when the switches happened, not against the sleeps.
    const downSent = clock.now();
    expect((await apiServer('down')).statusCode).toBe(200);
    const downDone = clock.now();
    await sleep(7_000);
    const upSent = clock.now();
    expect((await apiServer('up')).statusCode).toBe(200);
    const upDone = clock.now();
    await sleep(2_000);

    // A 7-minute outage burns a 99.5% budget far faster than 14.4x over the last hour: a page.
    const alerts = await monitor.get(BurnRateAlerter).evaluate();
    expect(alerts).toEqual([{ clusterId: down.id, severity: 'page' }]);
    const event = await stack.prisma.event.findFirstOrThrow({ where: { type: 'dev.capstan.sla.burn_rate.page' } });
    expect(event.data).toMatchObject({ cluster_id: down.id, severity: 'page' });

    // The monitor stops for ~3 simulated minutes, then comes back.
    await monitor.close();
    await sleep(3_000);
    monitor = await monitorWith(clock);
    await sleep(2_000);
    await monitor.close();

    const intervals = await intervalsOf(stack.prisma, down.id);
    // A monitor starved of CPU for longer than three probe intervals rightly starts a new interval
    // after the gap, so the states are judged as runs: up, down, up.
    const runs = intervals.reduce<{ state: string; startedAt: Date; endedAt: Date }[]>((list, i) => {
      const last = list[list.length - 1];
      if (last && last.state === i.state) last.endedAt = i.endedAt;
      else list.push({ state: i.state, startedAt: i.startedAt, endedAt: i.endedAt });
      return list;
    }, []);
    expect(runs.map((r) => r.state)).toEqual(['up', 'down', 'up']);
    const outage = runs[1]!;
    // Detection within a couple of probe intervals: the down interval is the time the API server was
    // down (about 7 minutes), give or take one simulated minute (10 probe intervals) of scheduling.
    expect(minutes(outage.startedAt, outage.endedAt)).toBeGreaterThan(minutes(downDone, upSent) - 1);
    expect(minutes(outage.startedAt, outage.endedAt)).toBeLessThan(minutes(downSent, upDone) + 1);
    // A compact history: a handful of rows, not one per probe (over a hundred were sent).
    expect(intervals.length).toBeLessThanOrEqual(10);
    // The monitor's absence is a gap between intervals (unknown), not uptime.
    const gaps = intervals.slice(1).map((i, k) => minutes(intervals[k]!.endedAt, i.startedAt));
    expect(Math.max(...gaps)).toBeGreaterThan(2);

    const other = await intervalsOf(stack.prisma, healthy.id);
    expect(other.every((i) => i.state === 'up')).toBe(true);
    expect(other.length).toBeGreaterThanOrEqual(2);
    expect(other.length).toBeLessThanOrEqual(10);

    // The customer's report shows the outage as a counted downtime period and the budget it used;
    // the monitor's absence shows as reduced coverage, not downtime.
    const month = outage.startedAt.toISOString().slice(0, 7);
    const report = (
      await stack.api.inject({ method: 'GET', url: `/v1/clusters/${down.id}/sla?month=${month}`, headers: { authorization: `Bearer ${customer}` } })
    ).json();
    const counted = report.downtime_periods ?? report.downtimePeriods;
    expect(counted.filter((p: { counted: boolean }) => p.counted)).toHaveLength(1);
    const budget = report.error_budget ?? report.errorBudget;
    const used = budget.used_minutes ?? budget.usedMinutes;
    expect(used).toBeGreaterThanOrEqual(Math.floor(minutes(downDone, upSent) - 1));
    expect(used).toBeLessThanOrEqual(Math.ceil(minutes(downSent, upDone) + 1));
    expect(report.breached).toBe(false);
    const healthyReport = (
      await stack.api.inject({ method: 'GET', url: `/v1/clusters/${healthy.id}/sla?month=${month}`, headers: { authorization: `Bearer ${customer}` } })
    ).json();
    expect(healthyReport.availability_percent ?? healthyReport.availabilityPercent).toBe(100);
  }, 60_000);
});
