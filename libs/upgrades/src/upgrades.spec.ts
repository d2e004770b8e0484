import { Database, newId } from '@capstan/platform';
import { seedOrganization, seedRunningCluster, startTestApi, type TestApi } from '@capstan/testing';
import { sql } from 'kysely';

/**
 * GET /v1/clusters/{id}/upgrades and /upgrade-plan on the real API and database, against the
 * seeded catalogue (docs/upgrades.md). The cluster is written straight to the tables at 1.34 with
 * two pools, a Europe/Zurich window and an exclusion, as a provisioned cluster would be. The rke2
 * catalogue is replaced by one whose dates are far from today, so the answers do not depend on
 * when the suite runs.
 */
describe('upgrade planning routes', () => {
  let api: TestApi;
  let db: Database;
  let owner: { organizationId: string; token: string };
  let intruder: { token: string };
  const clusterId = newId('cl');

  beforeAll(async () => {
    api = await startTestApi();
    db = api.app.get(Database);
    owner = await seedOrganization(db, { maxClusters: 10 });
    intruder = await seedOrganization(db, { maxClusters: 10 });
    const now = new Date();
    await db.deleteFrom('kubernetes_versions').where('provider', '=', 'rke2').execute();
    await db
      .insertInto('kubernetes_versions')
      .values(
        [33, 34, 35, 36, 37].map((m) => ({
          provider: 'rke2' as const,
          minor: `1.${m}`,
          latest_patch: `1.${m}.5`,
          patches: [`1.${m}.5`],
          released_at: new Date('2025-01-01'),
          end_of_support_at: new Date('2035-01-01'),
          sources: sql`'{"releasedAt":"test","endOfSupportAt":"test","latestPatch":"test"}'::jsonb`,
          updated_at: now,
        })),
      )
      .execute();
    await seedRunningCluster(
      db,
      {
        id: clusterId,
        organizationId: owner.organizationId,
        name: 'shop',
        version: '1.34.2',
        pools: [
          { name: 'default', maxSurge: 1, maxUnavailable: 0 },
          { name: 'batch', maxSurge: 0, maxUnavailable: 1 },
        ],
        window: { timeZone: 'Europe/Zurich', days: ['SA', 'SU'], startTime: '22:00', durationMinutes: 360 },
      },
      now,
    );
  });

  afterAll(async () => {
    await api.close();
  });

  const get = (url: string, token = owner.token) => api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('plans 1.34 to 1.36 as two hops, control plane first, each pool with its surge settings, with the next window', async () => {
    // when
    const res = await get(`/v1/clusters/${clusterId}/upgrade-plan?version=1.36`);
    // then
    expect(res.statusCode).toBe(200);
    const plan = res.json();
    expect(plan.hops.map((h: { from: string; to: string }) => `${h.from}->${h.to}`)).toEqual(['1.34.2->1.35.5', '1.35.5->1.36.5']);
    expect(
      plan.hops[0].steps.map((s: { kind: string; node_pool: { name: string; max_surge: number } | null }) =>
        s.node_pool ? `${s.kind}:${s.node_pool.name}:${s.node_pool.max_surge}` : s.kind,
      ),
    ).toEqual(['control_plane', 'node_pool:default:1', 'node_pool:batch:0']);
    expect(plan.hops.flatMap((h: { steps: { skew_after: { ok: boolean } }[] }) => h.steps.map((s) => s.skew_after.ok))).not.toContain(false);
    // honest about what it could not check
    expect(plan.removed_api_scan).toEqual({ ran: false, note: expect.stringContaining('no removed-API scan has run') });
    // the next Saturday or Sunday 22:00 in Zurich, 6 h long
    const starts = new Date(plan.next_window.starts_at);
    expect(new Date(plan.next_window.ends_at).getTime() - starts.getTime()).toBe(6 * 3_600_000);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Zurich', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(starts)).toBe('22:00');
  });

  it('refuses a downgrade with problem+json naming the rule', async () => {
    const res = await get(`/v1/clusters/${clusterId}/upgrade-plan?version=1.33`);
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ type: expect.stringContaining('version-downgrade'), rule: 'never downgrade' });
  });

  it('lists the versions the cluster may go to, nearest first, with hops and blockers', async () => {
    const res = await get(`/v1/clusters/${clusterId}/upgrades`);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { minor: string; hops: number; runnable: boolean; blockers: string[] }[];
    expect(items.map((i) => [i.minor, i.hops])).toEqual([
      ['1.34', 1],
      ['1.35', 1],
      ['1.36', 2],
      ['1.37', 3],
    ]);
    // 1.37 has no qualified add-ons yet
    expect(items.find((i) => i.minor === '1.37')).toMatchObject({ runnable: false, blockers: [expect.stringContaining('1.37')] });
  });

  it('blocks a minor upgrade during an active no_minor_upgrades exclusion', async () => {
    await db
      .insertInto('maintenance_exclusions')
      .values({
        id: newId('mx'),
        cluster_id: clusterId,
        name: 'black-friday',
        scope: 'no_minor_upgrades',
        starts_at: new Date(Date.now() - 3_600_000),
        ends_at: new Date(Date.now() + 86_400_000),
      })
      .execute();
    const plan = (await get(`/v1/clusters/${clusterId}/upgrade-plan?version=1.35`)).json();
    expect(plan.runnable).toBe(false);
    expect(plan.blockers.map((b: { kind: string }) => b.kind)).toEqual(['active_exclusion']);
  });

  it("answers 404 for another organisation's cluster", async () => {
    expect((await get(`/v1/clusters/${clusterId}/upgrade-plan`, intruder.token)).statusCode).toBe(404);
    expect((await get(`/v1/clusters/${clusterId}/upgrades`, intruder.token)).statusCode).toBe(404);
  });

  const post = (body: unknown, token = owner.token) =>
    api.app.inject({ method: 'POST', url: `/v1/clusters/${clusterId}/upgrade`, headers: { authorization: `Bearer ${token}` }, payload: body as object });

  it('refuses to start an upgrade its plan blocks (the active exclusion), a foreign cluster, and a bad body', async () => {
    const blocked = await post({ version: '1.35' });
    expect(blocked.statusCode).toBe(422);
    expect(blocked.headers['content-type']).toContain('application/problem+json');
    expect(blocked.json()).toMatchObject({ type: expect.stringContaining('upgrade-blocked'), blockers: [{ kind: 'active_exclusion' }] });
    expect((await post({ version: '1.35' }, intruder.token)).statusCode).toBe(404);
    expect((await post({ version: '1.35', start: 'whenever' })).statusCode).toBe(400);
    const row = await db.selectFrom('clusters').select(['status', 'desired_version']).where('id', '=', clusterId).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'running', desired_version: '1.34.2' });
  });

  it('starts a two-minor upgrade as two hops, control plane before the pools in each, and marks the cluster upgrading', async () => {
    await db.deleteFrom('maintenance_exclusions').where('cluster_id', '=', clusterId).execute();
    const res = await post({ version: '1.36' });
    expect(res.statusCode).toBe(202);
    const { operation } = res.json();
    expect(operation).toMatchObject({ type: 'upgrade_cluster', status: 'pending' });
    expect(operation.steps.map((s: { name: string }) => s.name)).toEqual([
      'preflight_removed_apis',
      'backup_before_hop:1.35.5',
      'upgrade_control_plane:1.35.5',
      'upgrade_node_pool:default:1.35.5',
      'upgrade_node_pool:batch:1.35.5',
      'backup_before_hop:1.36.5',
      'upgrade_control_plane:1.36.5',
      'upgrade_node_pool:default:1.36.5',
      'upgrade_node_pool:batch:1.36.5',
      'mark_upgraded',
    ]);
    const row = await db.selectFrom('clusters').select(['status', 'desired_version']).where('id', '=', clusterId).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'upgrading', desired_version: '1.36.5' });
    // one mutating operation per cluster
    expect((await post({ version: '1.36' })).statusCode).toBe(409);
  });
});
