import { Clock } from '@capstan/platform';
import { startSlaMonitor } from '@capstan/sla-monitor';
import { seedOrganization, seedStaff, type Stack, startStack } from '@capstan/testing';
import { monitorConfig, runningCluster } from './monitor-support';

/**
 * Issue 14's outages that escaped the count, watched end to end through the API with the clock
 * every process shares running 60 times real time (CLOCK_SPEED, CLOCK_ORIGIN; docs/sla.md): an
 * outage across a month boundary, and a monitor restart in the middle of an outage.
 */
const SPEED = 60;
const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first instant of the month after the current real one: the boundary simulated time will cross. */
function nextMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

describe('SLA reports through the API with a faster clock', () => {
  // Simulated time starts 20 minutes before the boundary: simulated(t) = origin + (t − origin) × SPEED.
  const boundary = nextMonthStart(new Date());
  const startAt = new Date(boundary.getTime() - 20 * MINUTE);
  // That leaves 15 real seconds for the stack and two clusters to come up before the test's first
  // look at the clock (they take ~1.5 s, ~3 s beside two CPU burners); every second more is idle.
  const realNow = Date.now();
  const origin = new Date(Math.round((realNow * SPEED - startAt.getTime()) / (SPEED - 1)));
  const clockEnv = { CLOCK_SPEED: String(SPEED), CLOCK_ORIGIN: origin.toISOString() };

  let stack: Stack;
  let customer: string;
  let staff: string;
  let clock: Clock;
  let acrossMonths: string;
  let gapInside: string;

  const at = (minutesFromBoundary: number) => new Date(boundary.getTime() + minutesFromBoundary * MINUTE);
  /** Sleeps until the shared clock reads `instant`. */
  const until = async (instant: Date) => {
    const left = instant.getTime() - clock.now().getTime();
    if (left > 0) await sleep(left / SPEED);
  };
  const apiServer = async (clusterId: string, state: 'down' | 'up') => {
    const res = await stack.api.inject({
      method: 'POST',
      url: `/admin/v1/simulator/clusters/${clusterId}/api-server`,
      headers: { authorization: `Bearer ${staff}` },
      payload: { state, reason: 'SLA truth test' },
    });
    expect(res.statusCode).toBe(200);
  };
  const report = async (clusterId: string, month: string) => {
    const res = await stack.api.inject({
      method: 'GET',
      url: `/v1/clusters/${clusterId}/sla?month=${month}`,
      headers: { authorization: `Bearer ${customer}` },
    });
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    stack = await startStack({ env: clockEnv });
    clock = stack.api.get(Clock);
    customer = (await seedOrganization(stack.prisma)).token;
    staff = (await seedStaff(stack.prisma, 'operator')).token;
    [acrossMonths, gapInside] = await Promise.all([runningCluster(stack, customer, 'across-months'), runningCluster(stack, customer, 'gap-inside')]);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('counts an outage across the month boundary in both months, and one with a monitor restart inside it', async () => {
    // The API, the worker and this monitor all read the same simulated time, still before the outage
    expect(clock.now().getTime()).toBeLessThan(at(-5).getTime());
    let monitor = await startSlaMonitor(monitorConfig(stack));
    expect(Math.abs(monitor.get(Clock).now().getTime() - clock.now().getTime())).toBeLessThan(MINUTE / 2);

    // across-months is down from 4 minutes before midnight to 4 after (before: 4 + 4, neither part
    // reaching 5 minutes, counted in neither month)
    await until(at(-4));
    await apiServer(acrossMonths, 'down');
    await until(at(4));
    await apiServer(acrossMonths, 'up');

    // gap-inside is down for 7 minutes, and the monitor is away for 2 of them (before: split in two
    // runs of 2-3 minutes, 0 counted)
    await until(at(5));
    await apiServer(gapInside, 'down');
    await until(at(7));
    await monitor.close();
    await until(at(9));
    monitor = await startSlaMonitor(monitorConfig(stack));
    await until(at(12));
    await apiServer(gapInside, 'up');
    await until(at(14));
    await monitor.close();

    const newMonth = boundary.toISOString().slice(0, 7);
    const oldMonth = at(-1).toISOString().slice(0, 7);
    const before = await report(acrossMonths, oldMonth);
    const after = await report(acrossMonths, newMonth);
    const period = (r: { downtime_periods: { counted: boolean; start: string; end: string }[] }) =>
      r.downtime_periods.find((p) => p.start < boundary.toISOString() && p.end > boundary.toISOString());
    // One period across midnight, judged whole, each month charged its own minutes
    expect(period(before)).toMatchObject({ counted: true });
    expect(period(after)).toMatchObject({ counted: true, start: period(before)!.start, end: period(before)!.end });
    expect(before.counted_downtime_minutes).toBeGreaterThanOrEqual(3);
    expect(after.counted_downtime_minutes).toBeGreaterThanOrEqual(3);
    expect(before.counted_downtime_minutes + after.counted_downtime_minutes).toBeGreaterThanOrEqual(7);
    expect(before.rules.counted_downtime_minutes).toBe('docs/sla.md#downtime-periods');

    const gap = await report(gapInside, newMonth);
    const outage = gap.downtime_periods.find((p: { counted: boolean }) => p.counted);
    // One period through the minutes the monitor missed; those minutes are unknown, not downtime
    expect(outage).toMatchObject({ counted: true });
    expect(outage.unknown_minutes).toBeGreaterThanOrEqual(1);
    expect(outage.minutes).toBeGreaterThanOrEqual(6);
    expect(gap.counted_downtime_minutes).toBe(outage.counted_minutes_in_month);
    expect(gap.counted_downtime_minutes).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
