import { Database, newId } from '@capstan/platform';
import { seedOrganization, seedRunningCluster, seedStaff, startTestApi, type TestApi } from '@capstan/testing';
import { sql } from 'kysely';

/**
 * /v1/clusters/{id}/maintenance-exclusions on the real API and database (docs/upgrades.md,
 * "Maintenance exclusions"). Running clusters are written straight to the tables, as a
 * provisioned cluster would be; the catalogue is replaced by one whose dates are far from today,
 * so the answers do not depend on when the suite runs.
 */
describe('maintenance exclusions', () => {
  let api: TestApi;
  let db: Database;
  let owner: { organizationId: string; token: string };
  let intruder: { token: string };
  const rke2 = newId('cl');
  const gke = newId('cl');
  const hour = 3_600_000;
  const day = 24 * hour;
  const at = (ms: number) => new Date(Date.now() + ms).toISOString();

  async function seedCluster(id: string, provider: 'rke2' | 'gke', version: string) {
    // Saturdays and Sundays 6 h each: 48 h or more in any 32 days, as GKE asks
    const window = { timeZone: 'Europe/Zurich', days: ['SA', 'SU'] as const, startTime: '22:00', durationMinutes: 360 };
    await seedRunningCluster(db, {
      id,
      organizationId: owner.organizationId,
      name: `shop-${provider}`,
      provider,
      version,
      pools: [{ name: 'default', nodeCount: 2 }],
      window,
    });
  }

  beforeAll(async () => {
    api = await startTestApi();
    db = api.app.get(Database);
    owner = await seedOrganization(db, { maxClusters: 10 });
    intruder = await seedOrganization(db, { maxClusters: 10 });
    await db.deleteFrom('kubernetes_versions').execute();
    const now = new Date();
    await db
      .insertInto('kubernetes_versions')
      .values(
        (['rke2', 'gke'] as const).flatMap((provider) =>
          [34, 35, 36].map((m) => ({
            provider,
            minor: `1.${m}`,
            latest_patch: provider === 'gke' ? `1.${m}.5-gke.100` : `1.${m}.5`,
            patches: [provider === 'gke' ? `1.${m}.5-gke.100` : `1.${m}.5`],
            released_at: new Date('2025-01-01'),
            standard_support_ends_at: provider === 'gke' ? new Date(Date.now() + 300 * day) : null,
            end_of_support_at: new Date('2035-01-01'),
            sources: sql`'{"releasedAt":"test","endOfSupportAt":"test","latestPatch":"test","standardSupportEndsAt":"test"}'::jsonb`,
            updated_at: now,
          })),
        ),
      )
      .execute();
    await seedCluster(rke2, 'rke2', '1.34.5');
    await seedCluster(gke, 'gke', '1.34.5-gke.100');
  });

  afterAll(async () => {
    await api.close();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}, token = owner.token) =>
    api.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload ? { payload } : {}) });
  const exclusions = (clusterId: string) => `/v1/clusters/${clusterId}/maintenance-exclusions`;
  const problem = (res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return res.json() as { type: string; rule?: string; detail: string; errors?: { field: string }[] };
  };

  it('adds an RKE2 exclusion (201, Location, audited), lists and reads it, and the planner refuses an upgrade inside it', async () => {
    // given a running RKE2 cluster at 1.34 and no exclusion
    const body = { name: 'black-friday', scope: 'no_minor_upgrades', starts_at: at(-hour), ends_at: at(2 * day) };

    // when the customer adds one that is in force now, with an Idempotency-Key
    const created = await call('POST', exclusions(rke2), body, { 'idempotency-key': 'mx-create-1' });

    // then 201 with the exclusion and where to find it; nothing reaches RKE2's infrastructure
    expect(created.statusCode).toBe(201);
    const exclusion = created.json();
    expect(exclusion).toMatchObject({ id: expect.stringMatching(/^mx_/), cluster_id: rke2, name: 'black-friday', scope: 'no_minor_upgrades', overrides: [] });
    expect(new Date(exclusion.starts_at).toISOString()).toBe(body.starts_at);
    expect(created.headers.location).toBe(`${exclusions(rke2)}/${exclusion.id}`);
    expect(await db.selectFrom('operations').select('id').where('cluster_id', '=', rke2).execute()).toEqual([]);
    // the same key and body replay the answer instead of adding a second one
    const replay = await call('POST', exclusions(rke2), body, { 'idempotency-key': 'mx-create-1' });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(exclusion.id);

    const list = await call('GET', exclusions(rke2));
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((e: { id: string }) => e.id)).toEqual([exclusion.id]);
    expect((await call('GET', `${exclusions(rke2)}/${exclusion.id}`)).json()).toEqual(exclusion);
    const audit = await db.selectFrom('audit_events').select(['action', 'target_id', 'changes']).where('target_id', '=', exclusion.id).execute();
    expect(audit).toEqual([
      { action: 'maintenance_exclusion.create', target_id: exclusion.id, changes: expect.objectContaining({ scope: { after: 'no_minor_upgrades' } }) },
    ]);

    // and a minor upgrade is refused while it is in force, naming it as the blocker
    const upgrade = await call('POST', `/v1/clusters/${rke2}/upgrade`, { version: '1.35' });
    expect(upgrade.statusCode).toBe(422);
    expect(problem(upgrade)).toMatchObject({ type: expect.stringContaining('upgrade-blocked'), blockers: [{ kind: 'active_exclusion' }] });
    // a patch is not a minor upgrade: the plan for it has no such blocker
    const patchPlan = (await call('GET', `/v1/clusters/${rke2}/upgrade-plan?version=1.34`)).json();
    expect(patchPlan.blockers ?? []).toEqual([]);
  });

  it('refuses bad input with problem+json: 400 for the shape, 422 naming the rule, 409 for a taken name', async () => {
    const post = (body: object) => call('POST', exclusions(rke2), body);
    const base = { name: 'audit-week', scope: 'no_upgrades', starts_at: at(10 * day), ends_at: at(12 * day) };

    const backwards = await post({ ...base, ends_at: at(9 * day) });
    expect(backwards.statusCode).toBe(400);
    expect(problem(backwards).errors?.map((e) => e.field)).toContain('ends_at');
    for (const bad of [
      { ...base, scope: 'no_patches' },
      { ...base, name: 'Audit Week' },
      { ...base, starts_at: 'tomorrow' },
      { ...base, extra: 1 },
      { name: 'x' },
    ]) {
      const res = await post(bad);
      expect(res.statusCode).toBe(400);
      problem(res);
    }
    const past = await post({ ...base, starts_at: at(-3 * day), ends_at: at(-2 * day) });
    expect(past.statusCode).toBe(422);
    expect(problem(past)).toMatchObject({ type: expect.stringContaining('exclusion-in-the-past'), rule: 'an exclusion must not end in the past' });
    // black-friday (no_minor_upgrades, now to +2 days) is there from the first test
    const overlap = await post({ ...base, scope: 'no_minor_upgrades', starts_at: at(day), ends_at: at(3 * day) });
    expect(overlap.statusCode).toBe(422);
    expect(problem(overlap)).toMatchObject({ type: expect.stringContaining('exclusion-overlaps'), overlapping: 'black-friday' });
    const taken = await post({ ...base, name: 'black-friday' });
    expect(taken.statusCode).toBe(409);
    expect(problem(taken).type).toContain('exclusion-name-taken');
    // nothing of these was saved
    expect(await db.selectFrom('maintenance_exclusions').select('name').where('cluster_id', '=', rke2).execute()).toEqual([{ name: 'black-friday' }]);
  });

  it("answers 404 for another organisation's cluster and exclusion, and changes nothing", async () => {
    const [own] = await db.selectFrom('maintenance_exclusions').select('id').where('cluster_id', '=', rke2).execute();
    const body = { name: 'intrusion', scope: 'no_upgrades', starts_at: at(20 * day), ends_at: at(21 * day) };
    for (const res of [
      await call('GET', exclusions(rke2), undefined, {}, intruder.token),
      await call('POST', exclusions(rke2), body, {}, intruder.token),
      await call('GET', `${exclusions(rke2)}/${own!.id}`, undefined, {}, intruder.token),
      await call('DELETE', `${exclusions(rke2)}/${own!.id}`, undefined, {}, intruder.token),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(problem(res).type).toBe('https://capstan.dev/problems/not-found');
    }
    // an exclusion id under another of the owner's clusters is not found either
    expect((await call('GET', `${exclusions(gke)}/${own!.id}`)).statusCode).toBe(404);
    expect(await db.selectFrom('maintenance_exclusions').select('id').where('cluster_id', '=', rke2).execute()).toEqual([own]);
  });

  it('deletes an RKE2 exclusion (204, audited), after which the upgrade it blocked may start', async () => {
    const [own] = await db.selectFrom('maintenance_exclusions').select('id').where('cluster_id', '=', rke2).execute();
    const deleted = await call('DELETE', `${exclusions(rke2)}/${own!.id}`, undefined, { 'idempotency-key': 'mx-delete-1' });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    // a retry with the same key replays the answer; without one, the exclusion is simply gone
    const retried = await call('DELETE', `${exclusions(rke2)}/${own!.id}`, undefined, { 'idempotency-key': 'mx-delete-1' });
    expect([retried.statusCode, retried.headers['idempotent-replayed']]).toEqual([204, 'true']);
    expect((await call('GET', `${exclusions(rke2)}/${own!.id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `${exclusions(rke2)}/${own!.id}`)).statusCode).toBe(404);
    expect(await db.selectFrom('audit_events').select('action').where('target_id', '=', own!.id).orderBy('id').execute()).toEqual([
      { action: 'maintenance_exclusion.create' },
      { action: 'maintenance_exclusion.delete' },
    ]);
    const plan = (await call('GET', `/v1/clusters/${rke2}/upgrade-plan?version=1.35`)).json();
    expect(plan.blockers).toEqual([]);
  });

  it("holds a GKE cluster's exclusions to GKE's limits, naming each rule", async () => {
    const post = (body: object) => call('POST', exclusions(gke), body);
    const tooLong = await post({ name: 'long', scope: 'no_upgrades', starts_at: at(day), ends_at: at(32 * day) });
    expect(tooLong.statusCode).toBe(422);
    expect(problem(tooLong)).toMatchObject({
      type: expect.stringContaining('exclusion-too-long'),
      rule: 'on gke a no_upgrades exclusion lasts at most 30 days',
    });
    const pastSupport = await post({ name: 'year', scope: 'no_minor_upgrades', starts_at: at(day), ends_at: at(400 * day) });
    expect(pastSupport.statusCode).toBe(422);
    expect(problem(pastSupport).type).toContain('exclusion-past-end-of-support');
    // 29 days of freeze leave fewer than 48 h of the weekend window in the following 32 days
    const starved = await post({ name: 'starved', scope: 'no_upgrades', starts_at: at(day), ends_at: at(30 * day) });
    expect(starved.statusCode).toBe(422);
    expect(problem(starved).type).toContain('exclusion-leaves-too-little-maintenance');
    expect(await db.selectFrom('maintenance_exclusions').select('id').where('cluster_id', '=', gke).execute()).toEqual([]);
  });

  it("starts the update_cluster operation that applies a GKE cluster's exclusion (202, cluster updating; 409 while it runs)", async () => {
    const created = await call('POST', exclusions(gke), { name: 'launch', scope: 'no_upgrades', starts_at: at(day), ends_at: at(3 * day) });
    expect(created.statusCode).toBe(202);
    const { maintenance_exclusion: exclusion, operation } = created.json();
    expect(exclusion).toMatchObject({ name: 'launch', scope: 'no_upgrades' });
    expect(created.headers.location).toBe(`${exclusions(gke)}/${exclusion.id}`);
    expect(operation).toMatchObject({ type: 'update_cluster', status: 'pending', target: { type: 'cluster', id: gke } });
    expect((await call('GET', `/v1/clusters/${gke}`)).json().status).toBe('updating');
    // another change that must reach GKE waits for that operation; it is rolled back whole
    const second = await call('POST', exclusions(gke), { name: 'second', scope: 'no_minor_upgrades', starts_at: at(day), ends_at: at(3 * day) });
    expect(second.statusCode).toBe(409);
    expect(problem(second).type).toContain('cluster-busy');
    const deleteWhileBusy = await call('DELETE', `${exclusions(gke)}/${exclusion.id}`);
    expect(deleteWhileBusy.statusCode).toBe(409);
    expect((await db.selectFrom('maintenance_exclusions').select('name').where('cluster_id', '=', gke).execute()).map((e) => e.name)).toEqual(['launch']);

    // an exclusion that has ended is no longer at GKE (only those that have not are sent): deleting it is 204, with no operation
    const ended = newId('mx');
    await db
      .insertInto('maintenance_exclusions')
      .values({
        id: ended,
        cluster_id: gke,
        name: 'last-month',
        scope: 'no_upgrades',
        starts_at: new Date(Date.now() - 40 * day),
        ends_at: new Date(Date.now() - 35 * day),
      })
      .execute();
    const operationsBefore = await db.selectFrom('operations').select('id').where('cluster_id', '=', gke).execute();
    expect((await call('DELETE', `${exclusions(gke)}/${ended}`)).statusCode).toBe(204);
    expect(await db.selectFrom('operations').select('id').where('cluster_id', '=', gke).execute()).toEqual(operationsBefore);
  });

  it("shows staff's critical-security override on the exclusion it ran over, and not on one that was not in force", async () => {
    // given an exclusion in force and one still to come, and a critical advisory on the cluster's Kubernetes version
    const inForce = (await call('POST', exclusions(rke2), { name: 'code-freeze', scope: 'no_minor_upgrades', starts_at: at(-hour), ends_at: at(day) })).json();
    const coming = (await call('POST', exclusions(rke2), { name: 'audit', scope: 'no_upgrades', starts_at: at(5 * day), ends_at: at(6 * day) })).json();
    await db
      .insertInto('advisories')
      .values({
        id: 'CAPSTAN-TEST-0001',
        kind: 'cve',
        component: 'kubernetes',
        title: 'test advisory on 1.34',
        severity: 'critical',
        cvss: 9.8,
        affected: sql`'[{"introduced":"1.34.0","fixed":"1.34.99"}]'::jsonb`,
        fixed_in: ['1.35.5'],
        remedy: 'upgrade to 1.35',
        published_on: '2026-01-01',
        sources: ['test'],
        seeded: false,
        updated_at: new Date(),
      })
      .execute();
    const staff = await seedStaff(db, 'operator');

    // when staff upgrade the cluster over its exclusions for that advisory
    const upgraded = await call(
      'POST',
      `/admin/v1/clusters/${rke2}/security-upgrade`,
      { version: '1.35', advisory_id: 'CAPSTAN-TEST-0001', reason: 'critical CVE' },
      {},
      staff.token,
    );
    expect(upgraded.statusCode).toBe(202);
    const operationId = upgraded.json().operation.id;

    // then the exclusion in force lists the override (when, the operation, the advisory, why); the coming one does not
    const items = (await call('GET', exclusions(rke2))).json().items as { id: string; overrides: unknown[] }[];
    expect(items.find((e) => e.id === inForce.id)!.overrides).toEqual([
      { at: expect.any(String), operation_id: operationId, advisory_id: 'CAPSTAN-TEST-0001', reason: 'critical CVE' },
    ]);
    expect(items.find((e) => e.id === coming.id)!.overrides).toEqual([]);
    expect((await call('GET', `${exclusions(rke2)}/${inForce.id}`)).json().overrides).toHaveLength(1);
  });

  it("refuses a GKE window change that would leave the cluster's no_upgrades exclusions too little maintenance time (422, nothing changed)", async () => {
    // given a GKE cluster with a daily 6 h window and a 20-day no_upgrades freeze starting tomorrow
    const id = newId('cl');
    const daily = { timeZone: 'UTC', days: ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const, startTime: '00:00', durationMinutes: 360 };
    await seedRunningCluster(db, {
      id,
      organizationId: owner.organizationId,
      name: 'shop-gke-frozen',
      provider: 'gke',
      version: '1.34.5-gke.100',
      window: daily,
    });
    await db
      .insertInto('maintenance_exclusions')
      .values({
        id: newId('mx'),
        cluster_id: id,
        name: 'freeze',
        scope: 'no_upgrades',
        starts_at: new Date(Date.now() + day),
        ends_at: new Date(Date.now() + 21 * day),
      })
      .execute();
    const patch = (window: object) =>
      api.app.inject({
        method: 'PATCH',
        url: `/v1/clusters/${id}`,
        headers: { authorization: `Bearer ${owner.token}` },
        payload: { maintenance_window: window },
      });

    // when the customer shrinks the window to weekends: the 12 days outside the freeze hold at most 32 h
    const refused = await patch({ time_zone: 'UTC', days: ['SA', 'SU'], start_time: '00:00', duration_minutes: 480 });

    // then 422 naming the rule and the exclusion, and neither the window nor the cluster changed
    expect(refused.statusCode).toBe(422);
    expect(problem(refused)).toMatchObject({
      type: expect.stringContaining('window-leaves-too-little-maintenance'),
      detail: expect.stringContaining('freeze'),
    });
    const stored = await db.selectFrom('maintenance_windows').select(['days', 'duration_minutes']).where('cluster_id', '=', id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ days: [...daily.days], duration_minutes: 360 });
    expect(await db.selectFrom('operations').select('id').where('cluster_id', '=', id).execute()).toEqual([]);

    // a window that keeps enough time is taken, and GKE gets it through update_cluster
    const taken = await patch({ time_zone: 'UTC', days: ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], start_time: '01:00', duration_minutes: 300 });
    expect(taken.statusCode).toBe(202);
    expect(taken.json()).toMatchObject({ operation: { type: 'update_cluster' } });
  });
});
