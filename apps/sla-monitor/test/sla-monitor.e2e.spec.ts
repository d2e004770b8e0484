import { AcceleratedClock, type PrismaService } from '@capstan/platform';
import { startSlaMonitor } from '@capstan/sla-monitor';
import { clusterRequest, seedOrganization, seedStaff, type Stack, startStack, testConfig, waitForOperation } from '@capstan/testing';

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
    const create = async (name: string) => {
      const res = await stack.api.inject({ method: 'POST', url: '/v1/clusters', headers: { authorization: `Bearer ${customer}` }, payload: clusterRequest({ name }) });
      await waitForOperation(stack.prisma, res.json().operation.id);
      return { id: res.json().cluster.id as string };
    };
    down = await create('will-go-down');
    healthy = await create('stays-up');
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const monitorConfig = () =>
    testConfig(stack.config.database.url, { ...stack.env, REDIS_URL: stack.config.redis.url, REDIS_PREFIX: stack.config.redis.prefix, SLA_MONITOR_PORT: '0', SLA_PROBE_INTERVAL_MS: '100', SLA_FLUSH_INTERVAL_MS: '100' });

  const apiServer = (state: 'down' | 'up') =>
    stack.api.inject({
      method: 'POST',
      url: `/admin/v1/simulator/clusters/${down.id}/api-server`,
      headers: { authorization: `Bearer ${staff}` },
      payload: { state, reason: 'SLA monitor test' },
    });

  it('records a fault-injected outage as one down interval, the other cluster stays up, and a stopped monitor leaves a gap', async () => {
    const clock = new AcceleratedClock(SPEED);
    let monitor = await startSlaMonitor(monitorConfig(), { clock });
    await sleep(2_000);
    expect((await apiServer('down')).statusCode).toBe(200);
    await sleep(7_000);
    expect((await apiServer('up')).statusCode).toBe(200);
    await sleep(2_000);

    // The monitor stops for ~3 simulated minutes, then comes back.
    await monitor.close();
    await sleep(3_000);
    monitor = await startSlaMonitor(monitorConfig(), { clock });
    await sleep(2_000);
    await monitor.close();

    const intervals = await intervalsOf(stack.prisma, down.id);
    const states = intervals.map((i) => i.state);
    expect(states.slice(0, 3)).toEqual(['up', 'down', 'up']);
    const outage = intervals[1]!;
    // Detection within a couple of probe intervals: the down interval is about the 7 minutes.
    expect(minutes(outage.startedAt, outage.endedAt)).toBeGreaterThan(6);
    expect(minutes(outage.startedAt, outage.endedAt)).toBeLessThan(8.5);
    // A compact history: a handful of rows, not one per probe.
    expect(intervals.length).toBeLessThanOrEqual(5);
    // The monitor's absence is a gap between intervals (unknown), not uptime.
    const gap = minutes(intervals[2]!.endedAt, intervals[3]!.startedAt);
    expect(gap).toBeGreaterThan(2);

    const other = await intervalsOf(stack.prisma, healthy.id);
    expect(other.every((i) => i.state === 'up')).toBe(true);
    expect(other.length).toBe(2);
  }, 60_000);
});
