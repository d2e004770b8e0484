import { AcceleratedClock, Metrics } from '@capstan/platform';
import { ApiServerHealthWatch } from '@capstan/sla';
import { startSlaMonitor } from '@capstan/sla-monitor';
import { eventually, seedOrganization, seedStaff, type Stack, startStack, waitForOperation } from '@capstan/testing';
import { monitorConfig, runningCluster } from './monitor-support';

/** 30 simulated seconds per real second: the 3 down minutes that degrade a cluster take 6 s to watch. */
const SPEED = 30;
const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cluster status from the SLA monitor', () => {
  let stack: Stack;
  let customer: string;
  let staff: string;
  let monitor: Awaited<ReturnType<typeof startSlaMonitor>> | undefined;
  let clock: AcceleratedClock;
  let down: string;
  let upgrading: string;
  let blip: string;
  let operated: string;

  beforeAll(async () => {
    stack = await startStack();
    customer = (await seedOrganization(stack.prisma)).token;
    staff = (await seedStaff(stack.prisma, 'operator')).token;
    down = await runningCluster(stack, customer, 'goes-down');
    upgrading = await runningCluster(stack, customer, 'down-while-upgrading');
    blip = await runningCluster(stack, customer, 'blips');
    operated = await runningCluster(stack, customer, 'operated-while-down');
    // Simulated time runs in the past hour; the clusters must have existed by then.
    await stack.prisma.cluster.updateMany({
      where: { id: { in: [down, upgrading, blip, operated] } },
      data: { createdAt: new Date(Date.now() - 2 * 3_600_000) },
    });
    clock = new AcceleratedClock(SPEED, new Date(Date.now() - 60 * MINUTE));
    monitor = await startSlaMonitor(monitorConfig(stack), { clock });
  }, 60_000);

  afterAll(async () => {
    await monitor?.close().catch(() => undefined);
    await stack?.stop();
  }, 60_000);

  const apiServer = async (clusterId: string, state: 'down' | 'up') => {
    const res = await stack.api.inject({
      method: 'POST',
      url: `/admin/v1/simulator/clusters/${clusterId}/api-server`,
      headers: { authorization: `Bearer ${staff}` },
      payload: { state, reason: 'cluster status test' },
    });
    expect(res.statusCode).toBe(200);
  };
  const cluster = async (clusterId: string) => {
    const res = await stack.api.inject({ method: 'GET', url: `/v1/clusters/${clusterId}`, headers: { authorization: `Bearer ${customer}` } });
    expect(res.statusCode).toBe(200);
    return res.json() as { status: string; status_reason: string | null; degraded_since: string | null; etag: string; node_pools: { id: string }[] };
  };
  const statusBecomes = (clusterId: string, status: string) => eventually(async () => (await cluster(clusterId)).status === status, 60_000, 200);
  const eventsOf = async (clusterId: string, type: string) =>
    (await stack.prisma.event.findMany({ where: { type }, orderBy: { id: 'asc' } })).filter(
      (e) => (e.data as { cluster_id?: string }).cluster_id === clusterId,
    );
  /** The longest stored down interval of a cluster, in simulated minutes. */
  const downMinutes = async (clusterId: string) => {
    const rows = await stack.prisma.availabilityInterval.findMany({ where: { clusterId, state: 'down' } });
    return Math.max(0, ...rows.map((r) => (r.endedAt.getTime() - r.startedAt.getTime()) / MINUTE));
  };

  it('a blip shorter than the threshold changes nothing', async () => {
    await sleep(1_000);
    const before = await cluster(blip);
    const downSent = clock.now();
    await apiServer(blip, 'down');
    await sleep(1_000);
    await apiServer(blip, 'up');
    const upDone = clock.now();
    // The premise: under two minutes down gives at most two down minutes (a down minute is half of one down).
    expect(upDone.getTime() - downSent.getTime()).toBeLessThan(2 * MINUTE);
    await eventually(async () => (await downMinutes(blip)) > 0, 30_000, 200);
    // Four simulated minutes later, with evaluations running all along and one more to be sure.
    const until = clock.now().getTime() + 4 * MINUTE;
    await eventually(async () => clock.now().getTime() > until, 60_000, 200);
    await monitor!.get(ApiServerHealthWatch).evaluate();
    const after = await cluster(blip);
    expect(after).toMatchObject({ status: 'running', status_reason: null, etag: before.etag });
    expect(await eventsOf(blip, 'dev.capstan.cluster.degraded')).toEqual([]);
  }, 90_000);

  it('down for three minutes -> degraded with a reason and an event; up again -> running; an upgrading cluster stays upgrading', async () => {
    // The upgrade's operation owns the status while it runs (the test stands in for it).
    await stack.prisma.cluster.update({ where: { id: upgrading }, data: { status: 'upgrading' } });
    const before = await cluster(down);
    expect(before.status).toBe('running');
    await apiServer(down, 'down');
    await apiServer(upgrading, 'down');

    await statusBecomes(down, 'degraded');
    const degraded = await cluster(down);
    expect(degraded.status_reason).toMatch(/^API server unreachable since \d{4}-\d\d-\d\dT\d\d:\d\dZ \(down [3-9] consecutive minutes\)$/);
    expect(degraded.etag).not.toBe(before.etag);
    const [event, ...more] = await eventsOf(down, 'dev.capstan.cluster.degraded');
    expect(more).toEqual([]);
    expect(event).toMatchObject({ source: `/v1/clusters/${down}`, data: { cluster_id: down, status: 'degraded', reason: degraded.status_reason } });
    // Another evaluation (as another replica's would) changes nothing and records nothing more.
    expect(await monitor!.get(ApiServerHealthWatch).evaluate()).toEqual([]);
    expect(await eventsOf(down, 'dev.capstan.cluster.degraded')).toHaveLength(1);

    // The upgrading cluster was down at least as long, and stays what its operation made it.
    await eventually(async () => (await downMinutes(upgrading)) >= 4, 60_000, 200);
    await monitor!.get(ApiServerHealthWatch).evaluate();
    expect(await cluster(upgrading)).toMatchObject({ status: 'upgrading', status_reason: null });
    expect(await eventsOf(upgrading, 'dev.capstan.cluster.degraded')).toEqual([]);
    // Once the upgrade is over and the API server is still down, the monitor does mark it.
    await stack.prisma.cluster.update({ where: { id: upgrading }, data: { status: 'running' } });
    await statusBecomes(upgrading, 'degraded');

    await apiServer(down, 'up');
    await apiServer(upgrading, 'up');
    await statusBecomes(down, 'running');
    await statusBecomes(upgrading, 'running');
    const recovered = await cluster(down);
    expect(recovered.status_reason).toBeNull();
    expect(recovered.etag).not.toBe(degraded.etag);
    expect(await eventsOf(down, 'dev.capstan.cluster.recovered')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ cluster_id: down, status: 'running' }) }),
    ]);
    expect(await eventsOf(upgrading, 'dev.capstan.cluster.recovered')).toHaveLength(1);
    const audit = await stack.prisma.auditEvent.findMany({ where: { targetId: down, actorId: 'sla-monitor' }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['cluster.degraded', 'cluster.recovered']);
  }, 180_000);

  it('an operation on a degraded cluster that is still down leaves it degraded with its reason, and no event; up again -> running, one recovered', async () => {
    const statusChanges = async (to: 'degraded' | 'running') => {
      const metric = await monitor!.get(Metrics).clusterStatusChanges.get();
      return metric.values.find((v) => v.labels.to === to)?.value ?? 0;
    };
    const degradedBefore = await statusChanges('degraded');
    const runningBefore = await statusChanges('running');
    await apiServer(operated, 'down');
    await statusBecomes(operated, 'degraded');
    const degraded = await cluster(operated);
    expect(degraded.status_reason).toMatch(/^API server unreachable since /);
    // The reason's minute and the view's timestamp are one fact.
    expect(degraded.degraded_since).toBe(
      `${degraded.status_reason!.slice('API server unreachable since '.length, 'API server unreachable since '.length + 16)}:00.000Z`,
    );
    expect(await statusChanges('degraded')).toBe(degradedBefore + 1);

    // A change Capstan keeps alone (an RKE2 cluster's labels): no operation, the status stays.
    const labels = await stack.api.inject({
      method: 'PATCH',
      url: `/v1/clusters/${operated}`,
      headers: { authorization: `Bearer ${customer}`, 'if-match': degraded.etag },
      payload: { labels: { team: 'payments' } },
    });
    expect(labels.statusCode).toBe(200);
    // The answer is the cluster itself (no operation to watch).
    expect(labels.json()).toMatchObject({ status: 'degraded', status_reason: degraded.status_reason, labels: { team: 'payments' } });

    // A change that runs an operation (scaling a pool) ends while the API server is still down.
    const scale = await stack.api.inject({
      method: 'PATCH',
      url: `/v1/clusters/${operated}/node-pools/${degraded.node_pools[0]!.id}`,
      headers: { authorization: `Bearer ${customer}` },
      payload: { count: 4 },
    });
    expect(scale.statusCode).toBe(202);
    await waitForOperation(stack.prisma, scale.json().operation.id, ['succeeded'], 60_000);
    // At once, not at the monitor's next threshold: the operation's end read the monitor's view.
    expect(await cluster(operated)).toMatchObject({ status: 'degraded', status_reason: degraded.status_reason, degraded_since: degraded.degraded_since });
    // Another look by the monitor (as any replica's) announces nothing: nothing changed for the customer.
    expect((await monitor!.get(ApiServerHealthWatch).evaluate()).filter((c) => c.clusterId === operated)).toEqual([]);
    expect(await eventsOf(operated, 'dev.capstan.cluster.degraded')).toHaveLength(1);
    expect(await eventsOf(operated, 'dev.capstan.cluster.recovered')).toEqual([]);
    expect(await statusChanges('degraded')).toBe(degradedBefore + 1);
    expect(await statusChanges('running')).toBe(runningBefore);

    await apiServer(operated, 'up');
    await statusBecomes(operated, 'running');
    expect(await cluster(operated)).toMatchObject({ status: 'running', status_reason: null, degraded_since: null });
    expect(await eventsOf(operated, 'dev.capstan.cluster.recovered')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ cluster_id: operated, status: 'running' }) }),
    ]);
    expect(await eventsOf(operated, 'dev.capstan.cluster.degraded')).toHaveLength(1);
    expect(await statusChanges('running')).toBe(runningBefore + 1);
  }, 180_000);
});
