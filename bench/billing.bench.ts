/**
 * Billing at fleet scale: a month's invoice lines for 10,000 clusters from usage intervals (what
 * libs/billing stores) against the same month from hourly usage samples aggregated with SQL (one
 * row per cluster, resource and hour: what a sampling meter would store), in the same run, on a
 * scratch database of this run's own.
 *
 *   intervals  UsageRepository.overlapping + PricesRepository.all + invoiceLines (libs/domain):
 *              the path of BillingMonths.compute after metering, for every cluster.
 *   samples    one SQL statement over `usage_samples`: Σ quantity per cluster, kind, sku and price
 *              in effect, × price, rounded to the cent in SQL (half away from zero, as billing
 *              rounds). Fewer clusters on this side by default (BENCH_BILLING_SAMPLE_CLUSTERS; the
 *              10,000 clusters' samples are ~20 million rows), so the ratio is per cluster.
 *
 * Interval boundaries fall on whole hours (the samples' resolution) and one node price changes at
 * an hour mid-month, so both sides must agree to the cent on every line of the sampled clusters:
 * the difference is printed and must be 0. Goals are reported, never enforced.
 *
 *   npm run build && node dist/bench/billing.bench.js
 */
import { type InvoiceCluster, invoiceLines, monthRange, type UsageInterval } from '@capstan/domain';
import { Database, DatabaseConfig, DatabasePool, newId, pgConnectionFromUrl, PrismaService } from '@capstan/platform';
import { Pool } from 'pg';
import { PricesRepository } from '../libs/billing/src/prices.repository';
import { UsageRepository } from '../libs/billing/src/usage.repository';
import { seedOrganization } from '../libs/testing/src/fixtures';
import { numberSetting } from './support/environment';
import { createScratchDatabase } from './support/scratch-database';
import { HUGE_QUOTA } from './support/seed';
import { goal, int, ms, printTable, ratio } from './support/stats';

const CLUSTERS = numberSetting('BENCH_BILLING_CLUSTERS', 10_000);
const SAMPLE_CLUSTERS = numberSetting('BENCH_BILLING_SAMPLE_CLUSTERS', 1_000);
const ORGANIZATIONS = numberSetting('BENCH_BILLING_ORGANIZATIONS', 100);
const RUNS = numberSetting('BENCH_BILLING_RUNS', 3);
const MONTH = '2026-11';
const HOUR = 3_600_000;
const MACHINE_TYPES = ['nine-standard-2', 'nine-standard-4', 'nine-standard-8', 'nine-highmem-4'] as const;
const PRICES: [string, string, string][] = [
  ['cluster_fee', 'rke2', '0.08'],
  ['node', 'nine-standard-2', '0.082192'],
  ['node', 'nine-standard-4', '0.164384'],
  ['node', 'nine-standard-8', '0.328767'],
  ['node', 'nine-highmem-4', '0.219178'],
];
/** A node price change at a whole hour mid-month: the line splits there on both sides. */
const PRICE_CHANGE: [string, string, string, Date] = ['node', 'nine-standard-4', '0.17', new Date('2026-11-16T13:00:00.000Z')];

/** A small deterministic PRNG, so runs are comparable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Each cluster: created before the month or at an hour inside it, a tenth deleted at an hour before
 * its end, one or two pools resized 0-3 times at whole hours.
 */
function fleet(orgIds: string[]): { clusters: InvoiceCluster[]; intervals: UsageInterval[] } {
  const random = rng(7);
  const { start, end } = monthRange(MONTH);
  const hours = (end.getTime() - start.getTime()) / HOUR;
  const clusters: InvoiceCluster[] = [];
  const intervals: UsageInterval[] = [];
  for (let i = 0; i < CLUSTERS; i++) {
    const id = newId('cl');
    const organizationId = orgIds[i % orgIds.length]!;
    clusters.push({ id, organizationId, name: `bill-${String(i).padStart(5, '0')}`, provider: 'rke2', region: 'nine-cz41' });
    const from = random() < 0.7 ? start.getTime() - 24 * HOUR : start.getTime() + Math.floor(random() * (hours - 48)) * HOUR;
    const until = random() < 0.1 ? new Date(Math.max(from, start.getTime()) + Math.floor(24 + random() * 24 * 10) * HOUR) : null;
    const base = { organizationId, clusterId: id };
    intervals.push({ ...base, kind: 'cluster_fee', resourceId: id, sku: 'rke2', quantity: '1', start: new Date(from), end: until });
    const pools = random() < 0.5 ? 1 : 2;
    for (let p = 0; p < pools; p++) {
      const poolId = newId('np');
      const sku = MACHINE_TYPES[Math.floor(random() * MACHINE_TYPES.length)]!;
      let at = from;
      let nodes = 1 + Math.floor(random() * 5);
      const resizes = Math.floor(random() * 4);
      for (let r = 0; r <= resizes; r++) {
        const last = r === resizes;
        const next = last ? null : Math.max(at, start.getTime()) + Math.floor(1 + random() * 150) * HOUR;
        const segmentEnd = next === null ? until : until && next >= until.getTime() ? until : new Date(next);
        intervals.push({ ...base, kind: 'node', resourceId: poolId, sku, quantity: String(nodes), start: new Date(at), end: segmentEnd });
        if (next === null || segmentEnd === until) break;
        at = next;
        nodes = Math.max(1, nodes + (random() < 0.5 ? -1 : 2));
      }
    }
  }
  return { clusters, intervals };
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await createScratchDatabase();
  const prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 10)));
  const pool = new Pool({ ...pgConnectionFromUrl(db.url), max: 10 });
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () => (cleaned ??= Promise.allSettled([prisma.$disconnect(), pool.end()]).then(() => db.drop()));
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    console.log(
      `billing: scratch database ${db.name}; ${int(CLUSTERS)} clusters in ${ORGANIZATIONS} organisations, ${MONTH}; goals are reported, never enforced`,
    );
    const database = new Database(prisma.databasePool);
    const usage = new UsageRepository(database);
    const prices = new PricesRepository(database);
    const range = monthRange(MONTH);

    // ---------------------------------------------------------------- seed
    const orgIds: string[] = [];
    for (let i = 0; i < ORGANIZATIONS; i++) orgIds.push((await seedOrganization(prisma, { ...HUGE_QUOTA, name: `bill-org-${i}` })).organizationId);
    const { clusters, intervals } = fleet(orgIds);
    await database.transaction().execute((trx) => usage.replace(trx, [], intervals));
    await prices.seed(
      PRICES.map(([kind, sku, unitPrice]) => ({ kind: kind as 'node', sku, unitPrice, currency: 'CHF', effectiveFrom: new Date('2026-01-01T00:00:00Z') })),
      1,
    );
    const [kind, sku, unitPrice, effectiveFrom] = PRICE_CHANGE;
    await prices.seed([{ kind: kind as 'node', sku, unitPrice, currency: 'CHF', effectiveFrom }], 1);

    const sampled = clusters.slice(0, SAMPLE_CLUSTERS).map((c) => c.id);
    await pool.query(
      `CREATE TABLE usage_samples (cluster_id text NOT NULL, kind text NOT NULL, sku text NOT NULL, hour timestamptz NOT NULL, quantity numeric NOT NULL)`,
    );
    const t0 = Date.now();
    await pool.query(
      `INSERT INTO usage_samples (cluster_id, kind, sku, hour, quantity)
       SELECT i.cluster_id, i.kind::text, i.sku, h, i.quantity
       FROM usage_intervals i
       CROSS JOIN LATERAL generate_series(greatest(i.started_at, $2::timestamptz), least(coalesce(i.ended_at, $3::timestamptz), $3::timestamptz) - interval '1 hour', interval '1 hour') AS h
       WHERE i.cluster_id = ANY($1::text[])`,
      [sampled, range.start, range.end],
    );
    await pool.query(`CREATE INDEX ON usage_samples (hour)`);
    await pool.query(`ANALYZE usage_samples; ANALYZE usage_intervals; ANALYZE prices`);
    const sampleRows = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM usage_samples')).rows[0]!.n);
    const bytes = async (table: string) => Number((await pool.query<{ b: string }>('SELECT pg_total_relation_size($1) AS b', [table])).rows[0]!.b);
    console.log(
      `seeded ${int(intervals.length)} intervals (${int(await bytes('usage_intervals'))} bytes) and ${int(sampleRows)} hourly samples of ${int(sampled.length)} clusters (${int(await bytes('usage_samples'))} bytes) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    // ---------------------------------------------------------------- intervals
    const clusterMap = new Map(clusters.map((c) => [c.id, c]));
    const phases = { readMs: Infinity, computeMs: Infinity };
    const fromIntervals = async () => {
      const t = performance.now();
      const [stored, catalogue] = await Promise.all([usage.overlapping(range), prices.all()]);
      const read = performance.now();
      const lines = invoiceLines({ range, asOf: range.end, intervals: stored, prices: catalogue, clusters: clusterMap, creditPercents: new Map() });
      phases.readMs = Math.min(phases.readMs, read - t);
      phases.computeMs = Math.min(phases.computeMs, performance.now() - read);
      return lines;
    };
    // ---------------------------------------------------------------- samples
    const fromSamples = async () =>
      (
        await pool.query<{ cluster_id: string; kind: string; sku: string; unit_price: string; amount_cents: string }>(
          `WITH spans AS (
             SELECT kind::text AS kind, sku, unit_price, effective_from,
                    lead(effective_from) OVER (PARTITION BY kind, sku ORDER BY effective_from) AS effective_until
             FROM prices)
           SELECT s.cluster_id, s.kind, s.sku, p.unit_price::text AS unit_price,
                  round(sum(s.quantity) * p.unit_price * 100)::bigint::text AS amount_cents
           FROM usage_samples s
           JOIN spans p ON p.kind = s.kind AND p.sku = s.sku AND s.hour >= p.effective_from AND (p.effective_until IS NULL OR s.hour < p.effective_until)
           WHERE s.hour >= $1 AND s.hour < $2
           GROUP BY s.cluster_id, s.kind, s.sku, p.unit_price, p.effective_from`,
          [range.start, range.end],
        )
      ).rows;

    const timeIt = async <T>(run: () => Promise<T>): Promise<{ best: number; result: T }> => {
      let best = Infinity;
      let result!: T;
      for (let r = 0; r < RUNS; r++) {
        const t = performance.now();
        result = await run();
        best = Math.min(best, performance.now() - t);
      }
      return { best, result };
    };
    const intervalsRun = await timeIt(fromIntervals);
    const samplesRun = await timeIt(fromSamples);

    // ---------------------------------------------------------------- agreement
    const sampledSet = new Set(sampled);
    const key = (clusterId: string, kind: string, sku: string, price: string) => `${clusterId}/${kind}/${sku}/${Number(price)}`;
    const fromIntervalLines = new Map<string, number>();
    for (const line of intervalsRun.result) {
      if (sampledSet.has(line.clusterId)) fromIntervalLines.set(key(line.clusterId, line.kind, line.sku, line.unitPrice), line.amountCents);
    }
    let differenceCents = 0;
    let unmatched = 0;
    for (const row of samplesRun.result) {
      const k = key(row.cluster_id, row.kind, row.sku, row.unit_price);
      const cents = fromIntervalLines.get(k);
      if (cents === undefined) unmatched++;
      else differenceCents += Math.abs(cents - Number(row.amount_cents));
      fromIntervalLines.delete(k);
    }
    unmatched += fromIntervalLines.size;
    const totalOf = (cents: number[]) => cents.reduce((a, b) => a + b, 0);
    const sampledTotal = totalOf(samplesRun.result.map((r) => Number(r.amount_cents)));
    const intervalSampledTotal = totalOf(intervalsRun.result.filter((l) => sampledSet.has(l.clusterId)).map((l) => l.amountCents));

    const perClusterIntervals = intervalsRun.best / CLUSTERS;
    const perClusterSamples = samplesRun.best / sampled.length;
    const speedup = perClusterSamples / perClusterIntervals;
    console.log(`\ninvoice lines for ${MONTH} (best of ${RUNS})`);
    printTable(
      ['path', '>clusters', '>lines', '>ms', '>ms / 1,000 clusters', '>total CHF'],
      [
        [
          'intervals (libs/billing)',
          int(CLUSTERS),
          int(intervalsRun.result.length),
          ms(intervalsRun.best),
          ms(perClusterIntervals * 1000),
          (totalOf(intervalsRun.result.map((l) => l.amountCents)) / 100).toFixed(2),
        ],
        [
          'hourly samples (SQL)',
          int(sampled.length),
          int(samplesRun.result.length),
          ms(samplesRun.best),
          ms(perClusterSamples * 1000),
          (sampledTotal / 100).toFixed(2),
        ],
      ],
    );
    console.log(`intervals path: reading ${ms(phases.readMs)} ms, pricing (invoiceLines) ${ms(phases.computeMs)} ms (best of each)`);
    console.log(`\nper cluster, intervals vs samples: ${ratio(speedup)} faster  goal ${goal(speedup, { atLeast: 50 })}`);
    console.log(
      `the ${int(sampled.length)} sampled clusters: ${int(samplesRun.result.length)} lines; difference ${differenceCents} cents (${unmatched} lines without a counterpart); totals ${(intervalSampledTotal / 100).toFixed(2)} vs ${(sampledTotal / 100).toFixed(2)} CHF  goal 0 cents ${differenceCents === 0 && unmatched === 0 ? 'met' : 'MISSED'}`,
    );
    console.log(`billing: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
