import { ClusterFleetModule } from '@capstan/clusters';
import { ClustersForFleet } from '@capstan/composition';
import { exclusionCovers, isProductionCluster, occurrences, SEEDED_ADVISORIES, type WindowDay } from '@capstan/domain';
import { Database, ManualClock, newId, PlatformModule } from '@capstan/platform';
import { ClusterDowntimeModule, SlaReportsRepository, SlaReportsService } from '@capstan/sla';
import { createTestDatabase, seedFleet, seedFleetCatalogue, seedOrganization, testConfig, type TestDatabase } from '@capstan/testing';
import {
  AdvanceRollouts,
  AdvisoriesRepository,
  ComponentScansRepository,
  ClusterComponentInventory,
  FleetClusterSource,
  type FleetClusterFacts,
  ListAdvisories,
  RolloutsRepository,
  ScheduleFleetUpgrades,
  FleetRolloutsModule,
} from '@capstan/upgrades';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/**
 * The fleet auto-upgrade on a real database with an injected clock (docs/upgrades.md, "Fleet
 * auto-upgrade", "Staged rollouts"): clusters are written straight to the owners' tables, the
 * scheduler pass and the rollout tick are the worker's own use cases, and the upgrades' outcomes
 * are set on their operations as the engine would leave them.
 */
describe('fleet rollouts', () => {
  const NOW = new Date('2026-12-04T12:00:00Z');
  const clock = new ManualClock(NOW);
  let database: TestDatabase;
  let moduleRef: INestApplicationContext;
  let db: Database;
  let schedule: ScheduleFleetUpgrades;
  let advance: AdvanceRollouts;
  let orgs: string[];

  beforeAll(async () => {
    database = await createTestDatabase();
    @Module({
      imports: [
        PlatformModule.forRoot(testConfig(database.url), 'worker', { clock }),
        FleetRolloutsModule.withSource(ClustersForFleet, [ClusterFleetModule, ClusterDowntimeModule]),
      ],
    })
    class FleetTestModule {}
    moduleRef = await NestFactory.createApplicationContext(FleetTestModule, { logger: false });
    db = moduleRef.get(Database);
    schedule = moduleRef.get(ScheduleFleetUpgrades);
    advance = moduleRef.get(AdvanceRollouts);
    orgs = [];
    for (let i = 0; i < 5; i++) orgs.push((await seedOrganization(db, { maxClusters: 1000 })).organizationId);
    await seedFleetCatalogue(db, NOW);
  }, 120_000);

  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  /** Takes a test's clusters out of the fleet (deleted), so the next test's pass plans only its own. */
  const retire = (ids: string[]) => db.updateTable('clusters').set({ deleted_at: clock.now(), live_name: null }).where('id', 'in', ids).execute();
  const rolloutClusters = (rolloutId: string) => db.selectFrom('rollout_clusters').selectAll().where('rollout_id', '=', rolloutId).execute();

  it('plans 500 clusters across versions: every plan inside its window, none in an exclusion, non-production first, each announced ahead', async () => {
    // given
    const fleet = await seedFleet(db, { organizationIds: orgs, count: 500, now: NOW, seed: 42 });
    // when
    const pass = await schedule.execute('test pass');
    // then
    expect(pass.rolloutId).not.toBeNull();
    const rows = await rolloutClusters(pass.rolloutId!);
    expect(rows.length).toBe(pass.planned);
    expect(rows.length).toBeGreaterThan(250);
    const byId = new Map(fleet.map((c) => [c.id, c]));
    for (const row of rows) {
      const c = byId.get(row.cluster_id)!;
      // inside its window: exactly one of the window's occurrences, as the reference computes them
      const window = { ...c.window!, days: c.window!.days as WindowDay[] };
      const own = occurrences(window, NOW, new Date(NOW.getTime() + 80 * 86_400_000));
      expect(own).toContainEqual({ startsAt: row.planned_start, endsAt: row.planned_end });
      // none in an exclusion that covers the work
      const minor = c.version.split('.')[1] !== row.target_version.split('.')[1];
      for (const e of c.exclusions) {
        if (exclusionCovers(e.scope, { minor })) expect(e.startsAt < row.planned_end && row.planned_start < e.endsAt).toBe(false);
      }
      // announced ahead
      expect(row.announced_at.getTime()).toBeLessThan(row.planned_start.getTime());
      expect(row.tier).toBe(isProductionCluster(c.labels) ? 'production' : 'non_production');
    }
    // non-production first: every production window starts after every non-production one ended
    const nonProd = rows.filter((r) => r.tier === 'non_production');
    const prod = rows.filter((r) => r.tier === 'production');
    expect(nonProd.length).toBeGreaterThan(50);
    expect(prod.length).toBeGreaterThan(50);
    expect(Math.min(...prod.map((r) => r.planned_start.getTime()))).toBeGreaterThan(Math.max(...nonProd.map((r) => r.planned_end.getTime())));
    expect(Math.max(...nonProd.map((r) => r.wave))).toBeLessThan(Math.min(...prod.map((r) => r.wave)));
    // each customer is told, with the planned time, through their webhooks' event log
    const events = await db.selectFrom('events').select(['organization_id', 'subject', 'data']).where('type', '=', 'dev.capstan.upgrade.scheduled').execute();
    expect(events.length).toBe(rows.length);
    const sample = rows[0]!;
    expect(events.find((e) => e.subject === `/v1/clusters/${sample.cluster_id}`)).toMatchObject({
      organization_id: sample.organization_id,
      data: { window_starts_at: sample.planned_start.toISOString(), to: sample.target_version },
    });
    // clusters without a window, and clusters already current, are not planned
    for (const c of fleet.filter((f) => !f.window)) expect(rows.find((r) => r.cluster_id === c.id)).toBeUndefined();
    // a second pass leaves the clusters of the open rollout alone
    expect((await schedule.execute('again')).planned).toBe(0);
    await db.updateTable('upgrade_rollouts').set({ state: 'halted', state_reason: 'test done' }).where('id', '=', pass.rolloutId!).execute();
    await retire(fleet.map((c) => c.id));
  }, 180_000);

  /** Ten non-production and ten production clusters with one window: Saturdays 22:00 in Zurich. */
  async function smallFleet(): Promise<{ rolloutId: string; ids: string[] }> {
    const ids: string[] = [];
    const org = orgs[0]!;
    for (let i = 0; i < 20; i++) {
      const id = newId('cl');
      ids.push(id);
      await db
        .insertInto('clusters')
        .values({
          id,
          organization_id: org,
          name: `small-${id.slice(-8)}`,
          live_name: `small-${id.slice(-8)}`,
          provider: 'rke2',
          region: 'nine-cz41',
          current_version: '1.35.1',
          desired_version: '1.35.1',
          status: 'running',
          labels: JSON.stringify({ environment: i < 10 ? 'staging' : 'production' }),
          updated_at: NOW,
        })
        .execute();
      await db
        .insertInto('maintenance_windows')
        .values({ cluster_id: id, time_zone: 'Europe/Zurich', days: ['SA'], start_time: '22:00', duration_minutes: 240, updated_at: NOW })
        .execute();
    }
    const pass = await schedule.execute('small');
    expect(pass.planned).toBe(20);
    return { rolloutId: pass.rolloutId!, ids };
  }

  const operationsOf = async (rolloutId: string) =>
    (await rolloutClusters(rolloutId)).filter((r) => r.operation_id).map((r) => ({ clusterId: r.cluster_id, operationId: r.operation_id!, wave: r.wave }));
  const finish = (operationIds: string[], status: 'succeeded' | 'failed') =>
    db.updateTable('operations').set({ status, started_at: clock.now(), finished_at: clock.now() }).where('id', 'in', operationIds).execute();

  it('starts the first wave in its window as announced provider work, and a forced failure halts the rollout and tells staff why', async () => {
    clock.set(NOW);
    const { rolloutId, ids } = await smallFleet();
    // Saturday 2026-12-12 22:00 in Zurich is the first window after the 48 h notice (the 5th is too soon)
    clock.set(new Date('2026-12-12T21:05:00Z'));
    const tick = await advance.execute();
    expect(tick.started).toBe(10);
    const started = await operationsOf(rolloutId);
    expect(started.map((s) => s.wave)).toEqual(Array(10).fill(0));
    // the operation is the system's, and carries its announced window for the SLA report
    const op = await db
      .selectFrom('operations')
      .select(['requested_by_type', 'params', 'status'])
      .where('id', '=', started[0]!.operationId)
      .executeTakeFirstOrThrow();
    expect(op).toMatchObject({
      requested_by_type: 'system',
      status: 'pending',
      params: { maintenance: { rollout_id: rolloutId, window_starts_at: '2026-12-12T21:00:00.000Z', window_ends_at: '2026-12-13T01:00:00.000Z' } },
    });
    // when two of ten fail (20% > the 10% threshold)
    clock.set(new Date('2026-12-12T23:00:00Z'));
    await finish(
      started.slice(0, 2).map((s) => s.operationId),
      'failed',
    );
    const after = await advance.execute();
    // then
    expect(after.halted).toEqual([rolloutId]);
    const rollout = await db.selectFrom('upgrade_rollouts').selectAll().where('id', '=', rolloutId).executeTakeFirstOrThrow();
    expect(rollout.state).toBe('halted');
    expect(rollout.state_reason).toContain('2 upgrade(s) failed');
    const rows = await rolloutClusters(rolloutId);
    expect(rows.filter((r) => r.tier === 'production').every((r) => r.state === 'skipped' && r.operation_id === null)).toBe(true);
    const halted = await db.selectFrom('events').select(['organization_id', 'data']).where('type', '=', 'dev.capstan.rollout.halted').execute();
    expect(halted).toContainEqual({
      organization_id: null,
      data: expect.objectContaining({ rollout_id: rolloutId, reason: expect.stringContaining('above the 10% threshold') }),
    });
    // nothing of the production wave ever starts
    clock.set(new Date('2026-12-26T21:05:00Z'));
    expect((await advance.execute()).started).toBe(0);

    // The SLA report: the work counts as scheduled maintenance only for the part that ran inside
    // the announced window (21:00-01:00 UTC), never the part that overran it.
    const overran = started[2]!;
    await db
      .updateTable('operations')
      .set({ status: 'succeeded', started_at: new Date('2026-12-12T21:05:00Z'), finished_at: new Date('2026-12-13T02:00:00Z') })
      .where('id', '=', overran.operationId)
      .execute();
    const reports = new SlaReportsService(new SlaReportsRepository(db), clock);
    const report = await reports.compute(
      { id: overran.clusterId, organizationId: orgs[0]!, name: 'x', provider: 'rke2', createdAt: new Date('2026-11-01T00:00:00Z'), deletedAt: null },
      '2026-12',
      clock.now(),
    );
    expect(report.exclusions.filter((e) => e.reason === 'scheduled_maintenance')).toEqual([
      expect.objectContaining({ start: '2026-12-12T21:05:00.000Z', end: '2026-12-13T01:00:00.000Z', reference: overran.operationId }),
    ]);
    await retire(ids);
  }, 120_000);

  it('lets the next wave go only once the previous one is done, counting downtime after an upgrade against the threshold', async () => {
    clock.set(NOW);
    const { rolloutId, ids } = await smallFleet();
    clock.set(new Date('2026-12-12T21:05:00Z'));
    await advance.execute();
    const started = await operationsOf(rolloutId);
    clock.set(new Date('2026-12-12T23:00:00Z'));
    await finish(
      started.slice(0, 9).map((s) => s.operationId),
      'succeeded',
    );
    // one still running: the wave is not done
    expect((await advance.execute()).halted).toEqual([]);
    expect((await db.selectFrom('upgrade_rollouts').select('current_wave').where('id', '=', rolloutId).executeTakeFirstOrThrow()).current_wave).toBe(0);
    // the last one succeeds, but its probes saw downtime after the upgrade started: 1 of 10 is within 10%
    await finish([started[9]!.operationId], 'succeeded');
    await db
      .insertInto('availability_intervals')
      .values({
        cluster_id: started[9]!.clusterId,
        vantage: 'zrh',
        state: 'down',
        started_at: new Date('2026-12-12T23:30:00Z'),
        ended_at: new Date('2026-12-12T23:40:00Z'),
      })
      .execute();
    clock.set(new Date('2026-12-13T02:00:00Z'));
    await advance.execute();
    // within the threshold: the production wave is now current, and starts in its own window
    const rollout = await db.selectFrom('upgrade_rollouts').select(['current_wave', 'state']).where('id', '=', rolloutId).executeTakeFirstOrThrow();
    expect(rollout).toEqual({ current_wave: 1, state: 'active' });
    const prodStart = (await rolloutClusters(rolloutId)).find((r) => r.tier === 'production')!.planned_start;
    expect(prodStart.getTime()).toBeGreaterThanOrEqual(new Date('2026-12-13T01:00:00Z').getTime() + 24 * 3_600_000);
    await db.updateTable('upgrade_rollouts').set({ state: 'halted' }).where('id', '=', rolloutId).execute();
    await retire(ids);
  }, 120_000);

  it('shows each customer the advisories of their own clusters, and staff the whole fleet', async () => {
    const [mine, theirs] = await seedFleet(db, { organizationIds: [orgs[1]!], count: 1, now: NOW, seed: 7 }).then(async (a) =>
      a.concat(await seedFleet(db, { organizationIds: [orgs[2]!], count: 1, now: NOW, seed: 8 })),
    );
    await new AdvisoriesRepository(db).seed(SEEDED_ADVISORIES, NOW);
    // what the add-on inventory would report: an IngressNightmare-vulnerable controller, and a fixed one
    class Inventory extends ClusterComponentInventory {
      components(clusters: readonly FleetClusterFacts[]) {
        const versions: Record<string, string> = { [mine!.id]: '1.12.0', [theirs!.id]: '1.12.1' };
        return Promise.resolve(new Map(clusters.map((c) => [c.id, versions[c.id] ? [{ name: 'ingress-nginx', version: versions[c.id]! }] : []])));
      }
    }
    const advisories = new ListAdvisories(
      new AdvisoriesRepository(db),
      moduleRef.get(FleetClusterSource),
      new Inventory(),
      new ComponentScansRepository(db),
      clock,
    );
    const own = await advisories.forOrganization(mine!.organizationId);
    expect(own.items.map((a) => [a.id, a.clusters.map((c) => c.cluster_id)])).toEqual([
      ['RETIRED-ingress-nginx', [mine!.id]],
      ['CVE-2025-1974', [mine!.id]],
    ]);
    expect(own.items.find((a) => a.id === 'CVE-2025-1974')).toMatchObject({
      severity: 'critical',
      fixed_in: ['1.11.5', '1.12.1'],
      sources: expect.arrayContaining([expect.stringContaining('kubernetes.io')]),
    });
    const fleet = await advisories.forFleet();
    expect(fleet.items.find((a) => a.id === 'CVE-2025-1974')!.clusters.map((c) => c.cluster_id)).toEqual([mine!.id]);
    expect(
      fleet.items
        .find((a) => a.id === 'RETIRED-ingress-nginx')!
        .clusters.map((c) => c.cluster_id)
        .sort(),
    ).toEqual([mine!.id, theirs!.id].sort());
    expect(moduleRef.get(RolloutsRepository)).toBeDefined();
  }, 120_000);

  it('plans again on the tick only when the catalogue changed', async () => {
    clock.set(NOW);
    await schedule.execute('tick', { onlyIfCatalogueChanged: true });
    expect(await schedule.execute('tick', { onlyIfCatalogueChanged: true })).toMatchObject({ skippedBecauseUnchanged: true });
    // staff publish a new patch of 1.35
    await db
      .updateTable('kubernetes_versions')
      .set({ latest_patch: '1.35.6', patches: ['1.35.5', '1.35.6'] })
      .where('provider', '=', 'rke2')
      .where('minor', '=', '1.35')
      .execute();
    const pass = await schedule.execute('tick', { onlyIfCatalogueChanged: true });
    expect(pass.skippedBecauseUnchanged).toBeUndefined();
  }, 120_000);

  // cloud.google.com/kubernetes-engine/versioning: the Extended channel keeps a minor past its
  // standard support; GKE moves such clusters only shortly before extended support ends.
  it('moves a Regular-channel GKE cluster once its minor is deprecated, and leaves an Extended-channel one on its minor', async () => {
    // given GKE 1.35 deprecated (its end of support in 30 days), 1.36 supported, and one cluster per channel
    const day = (offsetDays: number) => new Date(NOW.getTime() + offsetDays * 86_400_000);
    await db.deleteFrom('kubernetes_versions').where('provider', '=', 'gke').execute();
    await db
      .insertInto('kubernetes_versions')
      .values(
        (
          [
            ['1.35', '1.35.8-gke.1225000', day(-10), day(30)],
            ['1.36', '1.36.4-gke.1391000', day(200), day(260)],
          ] as const
        ).map(([minor, latest, standardEnds, end]) => ({
          provider: 'gke' as const,
          minor,
          latest_patch: latest,
          patches: [latest],
          released_at: day(-400),
          standard_support_ends_at: standardEnds,
          end_of_support_at: end,
          sources: JSON.stringify({ releasedAt: 'test', standardSupportEndsAt: 'test', endOfSupportAt: 'test', latestPatch: 'test' }),
          updated_at: NOW,
        })),
      )
      .execute();
    const ids: Record<'regular' | 'extended', string> = { regular: newId('cl'), extended: newId('cl') };
    for (const channel of ['regular', 'extended'] as const) {
      const id = ids[channel];
      await db
        .insertInto('clusters')
        .values({
          id,
          organization_id: orgs[3]!,
          name: `gke-${channel}`,
          live_name: `gke-${channel}`,
          provider: 'gke',
          region: 'europe-west6',
          release_channel: channel,
          current_version: '1.35.8-gke.1225000',
          desired_version: '1.35.8-gke.1225000',
          status: 'running',
          labels: JSON.stringify({ environment: 'staging' }),
          updated_at: NOW,
        })
        .execute();
      await db
        .insertInto('maintenance_windows')
        .values({ cluster_id: id, time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '00:00', duration_minutes: 720, updated_at: NOW })
        .execute();
    }
    // when
    const pass = await schedule.execute('extended channel');
    // then
    const rows = await rolloutClusters(pass.rolloutId!);
    expect(rows.find((r) => r.cluster_id === ids.regular)).toMatchObject({ need_reason: 'end_of_support_near', target_version: '1.36.4-gke.1391000' });
    expect(rows.find((r) => r.cluster_id === ids.extended)).toBeUndefined();
    await db.updateTable('upgrade_rollouts').set({ state: 'halted', state_reason: 'test done' }).where('id', '=', pass.rolloutId!).execute();
    await retire(Object.values(ids));
  }, 120_000);
});
