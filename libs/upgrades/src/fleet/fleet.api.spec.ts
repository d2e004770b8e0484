import { type MaintenanceWindowSpec, MIN_WINDOW_LEFT_FOR_A_STEP_MS, windowGate } from '@capstan/domain';
import { Database, newId } from '@capstan/platform';
import { seedFleetCatalogue, seedOrganization, seedRunningCluster, seedStaff, startTestApi, type TestApi } from '@capstan/testing';

/**
 * The fleet's HTTP side on the real API and database: `start: next_window`, staff's rollout
 * routes (audited), advisories for customers and staff, and the security override's rules.
 */
describe('fleet routes', () => {
  let api: TestApi;
  let db: Database;
  let owner: { organizationId: string; token: string };
  let intruder: { organizationId: string; token: string };
  let staff: { token: string };
  const withWindow = newId('cl');
  const withoutWindow = newId('cl');
  const window: MaintenanceWindowSpec = { timeZone: 'Europe/Zurich', days: ['WE'], startTime: '03:00', durationMinutes: 240 };

  beforeAll(async () => {
    api = await startTestApi();
    db = api.app.get(Database);
    owner = await seedOrganization(db, { maxClusters: 10 });
    intruder = await seedOrganization(db, { maxClusters: 10 });
    staff = await seedStaff(db, 'operator');
    const now = new Date();
    await seedFleetCatalogue(db, now);
    const cluster = { organizationId: owner.organizationId, version: '1.35.1' };
    await seedRunningCluster(db, { ...cluster, id: withWindow, name: 'windowed', window }, now);
    await seedRunningCluster(db, { ...cluster, id: withoutWindow, name: 'unwindowed' }, now);
  }, 120_000);

  afterAll(async () => {
    await api?.close();
  });

  const call = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
    api.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  it('refuses start: next_window without a maintenance window, naming the rule', async () => {
    const res = await call('POST', `/v1/clusters/${withoutWindow}/upgrade`, owner.token, { version: '1.35', start: 'next_window' });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ type: expect.stringContaining('no-maintenance-window'), rule: 'next_window needs a maintenance window' });
  });

  it('creates a next_window upgrade pending until the next occurrence of the window, with the window kept for the steps', async () => {
    const before = new Date();
    const res = await call('POST', `/v1/clusters/${withWindow}/upgrade`, owner.token, { version: '1.35', start: 'next_window' });
    expect(res.statusCode).toBe(202);
    const { operation } = res.json();
    expect(operation).toMatchObject({ type: 'upgrade_cluster', status: 'pending' });
    const row = await db.selectFrom('operations').select(['wake_at', 'params', 'status']).where('id', '=', operation.id).executeTakeFirstOrThrow();
    expect(row.params).toMatchObject({ start: 'next_window', window: { timeZone: 'Europe/Zurich', days: ['WE'], startTime: '03:00' } });
    const gate = windowGate(window, before, MIN_WINDOW_LEFT_FOR_A_STEP_MS);
    // (a run of this test inside the window itself starts at once)
    if (gate && !gate.open) expect(row.wake_at).toEqual(gate.opensAt);
    else expect(row.wake_at).toBeNull();
    const audit = await db
      .selectFrom('audit_events')
      .select(['action', 'changes'])
      .where('target_id', '=', withWindow)
      .where('action', '=', 'cluster.upgrade')
      .executeTakeFirstOrThrow();
    expect(audit.changes).toMatchObject(row.wake_at ? { not_before: { after: row.wake_at.toISOString() } } : {});
  });

  it('lists rollouts for staff with their waves, and pauses, resumes and halts them, each audited', async () => {
    const rolloutId = newId('ro');
    const now = new Date();
    await db
      .insertInto('upgrade_rollouts')
      .values({ id: rolloutId, trigger: 'test', catalogue_fingerprint: 'x', max_failure_rate: 0.1, updated_at: now })
      .execute();
    await db
      .insertInto('rollout_clusters')
      .values({
        rollout_id: rolloutId,
        cluster_id: withoutWindow,
        organization_id: owner.organizationId,
        wave: 0,
        tier: 'production',
        from_version: '1.35.1',
        target_version: '1.35.5',
        need_reason: 'patch',
        planned_start: new Date(now.getTime() + 3 * 86_400_000),
        planned_end: new Date(now.getTime() + 3 * 86_400_000 + 4 * 3_600_000),
        announced_at: now,
        updated_at: now,
      })
      .execute();
    const list = await call('GET', '/admin/v1/rollouts?state=active', staff.token);
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toContainEqual(expect.objectContaining({ id: rolloutId, state: 'active', clusters: { planned: 1 } }));
    const one = (await call('GET', `/admin/v1/rollouts/${rolloutId}`, staff.token)).json();
    expect(one.waves).toEqual([
      expect.objectContaining({
        index: 0,
        tier: 'production',
        state: 'current',
        clusters: [expect.objectContaining({ cluster_id: withoutWindow, state: 'planned' })],
      }),
    ]);
    expect((await call('POST', `/admin/v1/rollouts/${rolloutId}/pause`, staff.token, { reason: 'holiday freeze' })).json()).toMatchObject({ state: 'paused' });
    expect((await call('POST', `/admin/v1/rollouts/${rolloutId}/pause`, staff.token, { reason: 'again' })).statusCode).toBe(409);
    expect((await call('POST', `/admin/v1/rollouts/${rolloutId}/resume`, staff.token, { reason: 'freeze over' })).json()).toMatchObject({ state: 'active' });
    const halted = (await call('POST', `/admin/v1/rollouts/${rolloutId}/halt`, staff.token, { reason: 'bad patch' })).json();
    expect(halted).toMatchObject({ state: 'halted', reason: 'staff: bad patch', clusters: { skipped: 1 } });
    const actions = await db.selectFrom('audit_events').select(['action', 'reason']).where('target_id', '=', rolloutId).orderBy('id').execute();
    expect(actions).toEqual([
      { action: 'rollout.pause', reason: 'holiday freeze' },
      { action: 'rollout.resume', reason: 'freeze over' },
      { action: 'rollout.halt', reason: 'bad patch' },
    ]);
    // customers have no access; an unknown rollout is 404
    expect((await call('GET', '/admin/v1/rollouts', owner.token)).statusCode).toBe(403);
    expect((await call('GET', `/admin/v1/rollouts/${newId('ro')}`, staff.token)).statusCode).toBe(404);
  });

  it('shows advisories: staff see the seeded ones with their sources, a customer only those of its own clusters', async () => {
    const fleet = (await call('GET', '/admin/v1/advisories', staff.token)).json();
    expect(fleet.items.map((a: { id: string }) => a.id).sort()).toEqual(['CVE-2025-1974', 'RETIRED-ingress-nginx']);
    expect(fleet.items.find((a: { id: string }) => a.id === 'CVE-2025-1974')).toMatchObject({ cvss: 9.8, fixed_in: ['1.11.5', '1.12.1'] });
    // The managed stack has no ingress-nginx: nothing affects these clusters.
    expect((await call('GET', '/v1/advisories', owner.token)).json()).toEqual({ items: [] });
    expect((await call('GET', `/v1/advisories?cluster_id=${withWindow}`, intruder.token)).json()).toEqual({ items: [] });
  });

  it('refuses a security override for an advisory that does not affect the cluster', async () => {
    const res = await call('POST', `/admin/v1/clusters/${withoutWindow}/security-upgrade`, staff.token, {
      version: '1.35',
      advisory_id: 'CVE-2025-1974',
      reason: 'patch now',
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ type: expect.stringContaining('advisory-not-affecting') });
    // An advisory Capstan does not know is not found, rather than said not to affect the cluster.
    const unknown = await call('POST', `/admin/v1/clusters/${withoutWindow}/security-upgrade`, staff.token, {
      version: '1.35',
      advisory_id: 'CVE-1999-0000',
      reason: 'patch now',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ type: expect.stringContaining('not-found'), resource: 'advisory', id: 'CVE-1999-0000' });
    expect(
      (await call('POST', `/admin/v1/clusters/${newId('cl')}/security-upgrade`, staff.token, { version: '1.35', advisory_id: 'x', reason: 'patch now' }))
        .statusCode,
    ).toBe(404);
  });
});
