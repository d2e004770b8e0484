/**
 * Fleet upgrade planning at scale (docs/upgrades.md, "Fleet auto-upgrade"): the scheduler's whole
 * plan for 10,000 clusters (what each needs, the planner's version rules, each cluster's window
 * occurrences, exclusions, waves) against reading the same clusters from Postgres alone with the
 * same statement (the I/O floor), in the same run, on a scratch database of this run's own.
 *
 *   plans   ScheduleFleetUpgrades.plan(): the fleet read page by page, the catalogue, the open
 *           rollouts, then upgradeNeed + planUpgrade + planRollout (libs/domain) for every cluster.
 *   floor   ReadFleetClusters.page over the same clusters, nothing computed.
 *
 * Goal: plans <= 3x the floor. Goals are reported, never enforced.
 *
 *   npm run --silent build && node dist/bench/upgrade-plans.bench.js
 */
import { Clock, Database, DatabaseConfig, DatabasePool, PrismaService } from '@capstan/platform';
import { sql } from 'kysely';
import { ReadFleetClusters } from '../libs/clusters/src/use-cases/read-fleet-clusters';
import { ReadVersions } from '../libs/clusters/src/use-cases/read-versions';
import { VersionCatalogueRepository } from '../libs/clusters/src/version-catalogue.repository';
import { seedOrganization } from '../libs/testing/src/fixtures';
import { seedFleet, seedFleetCatalogue } from '../libs/testing/src/fleet-fixtures';
import { fleetClusterFacts, FleetClusterSource } from '../libs/upgrades/src/fleet/fleet-cluster-source';
import { FleetPolicyConfig } from '../libs/upgrades/src/fleet/fleet-policy';
import { RolloutsRepository } from '../libs/upgrades/src/fleet/rollouts.repository';
import { ScheduleFleetUpgrades } from '../libs/upgrades/src/fleet/schedule-fleet-upgrades';
import { numberSetting } from './support/environment';
import { createScratchDatabase } from './support/scratch-database';
import { HUGE_QUOTA } from './support/seed';
import { goal, int, ms, printTable, ratio } from './support/stats';

const CLUSTERS = numberSetting('BENCH_UPGRADE_CLUSTERS', 10_000);
const ORGANIZATIONS = numberSetting('BENCH_UPGRADE_ORGANIZATIONS', 100);
const RUNS = numberSetting('BENCH_UPGRADE_RUNS', 5);
const PAGE = 2_000;
const NOW = new Date('2026-12-04T12:00:00Z');
const GOAL = { atMost: 3 };

class FixedClock extends Clock {
  now(): Date {
    return new Date(NOW.getTime());
  }
}

async function main(): Promise<void> {
  const db = await createScratchDatabase();
  const prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 10)));
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () => (cleaned ??= prisma.$disconnect().then(() => db.drop()));
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    console.log(`upgrade-plans: scratch database ${db.name}; ${int(CLUSTERS)} clusters in ${ORGANIZATIONS} organisations; goals are reported, never enforced`);
    const database = new Database(prisma.databasePool);
    const clock = new FixedClock();
    const orgIds: string[] = [];
    for (let i = 0; i < ORGANIZATIONS; i++) orgIds.push((await seedOrganization(prisma, { ...HUGE_QUOTA, name: `fleet-org-${i}` })).organizationId);
    await seedFleetCatalogue(database, NOW);
    const t0 = performance.now();
    await seedFleet(database, { organizationIds: orgIds, count: CLUSTERS, now: NOW, seed: 2026 });
    await sql`ANALYZE`.execute(database);
    console.log(`seeded ${int(CLUSTERS)} clusters with pools, windows and exclusions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const fleet = new ReadFleetClusters(database);
    const versions = new ReadVersions(new VersionCatalogueRepository(database), clock);
    const source = new (class extends FleetClusterSource {
      async page(after: string | undefined, limit: number, now: Date) {
        return (await fleet.page(after, limit, now)).map(fleetClusterFacts);
      }
      async ofOrganization(organizationId: string, now: Date) {
        return (await fleet.ofOrganization(organizationId, now)).map(fleetClusterFacts);
      }
      async byIds(ids: readonly string[], now: Date) {
        return (await fleet.byIds(ids, now)).map(fleetClusterFacts);
      }
      async catalogue() {
        return [...(await versions.entries('rke2')), ...(await versions.entries('gke'))];
      }
      startUpgrade(): never {
        throw new Error('the bench starts nothing');
      }
      downSince() {
        return Promise.resolve(new Set<string>());
      }
    })();
    // plan() records nothing: the events service is not needed for what is measured
    const schedule = new ScheduleFleetUpgrades(source, new RolloutsRepository(database), undefined as never, database, clock, new FleetPolicyConfig());

    const floor = async () => {
      let n = 0;
      let after: string | undefined;
      for (;;) {
        const page = await fleet.page(after, PAGE, NOW);
        n += page.length;
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.id;
      }
      return n;
    };
    const plans = async () => {
      const plan = await schedule.plan();
      return plan.considered;
    };
    const best = async (run: () => Promise<number>) => {
      let fastest = Infinity;
      let count = 0;
      for (let r = 0; r < RUNS; r++) {
        const t = performance.now();
        count = await run();
        fastest = Math.min(fastest, performance.now() - t);
      }
      return { fastest, count };
    };
    // warm both paths (JIT, the pool's connections, Postgres's cache), then alternate best-of runs
    await floor();
    await plans();
    const floorRun = await best(floor);
    const plansRun = await best(plans);
    const sample = await schedule.plan();
    const planned = sample.waves.reduce((n, w) => n + w.clusters.length, 0);
    const r = plansRun.fastest / floorRun.fastest;
    console.log();
    printTable(
      ['path', '>clusters', '>best ms', '>per cluster us', '>ratio', 'goal'],
      [
        ['floor: read the fleet from Postgres', int(floorRun.count), ms(floorRun.fastest), ms((floorRun.fastest * 1000) / floorRun.count, 1), '1.00x', ''],
        [
          'plans: needs, version rules, windows, waves',
          int(plansRun.count),
          ms(plansRun.fastest),
          ms((plansRun.fastest * 1000) / plansRun.count, 1),
          ratio(r),
          goal(r, GOAL),
        ],
      ],
    );
    console.log(
      `\nplanned ${int(planned)} upgrades in ${sample.waves.length} waves (${sample.waves.map((w) => `${w.tier} ${int(w.clusters.length)}`).join(', ')}); ${int(sample.unplanned.length)} not planned, each with its reason`,
    );
  } finally {
    await cleanUp();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
