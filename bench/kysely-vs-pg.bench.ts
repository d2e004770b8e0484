/**
 * Issue 8, the data layer on its own: the API's busiest statements as the app runs them through
 * Kysely against the same SQL through a plain `pg` Pool, sequentially, on one scratch database.
 *
 * Four variants per query, interleaved iteration by iteration (in a random order each round) so
 * drift and each call's aftermath hit all of them alike:
 *   app     the app's own call (repository or service method, mapping included) on `Database`
 *           (its CompiledOnce statements as named prepared statements, as the app runs them);
 *   kysely  the app's statement built with Kysely and run through it, rows unmapped: what the
 *           query layer itself costs (building the SQL string, compiling, the driver);
 *   pg      the same statement, text and parameters as Kysely compiles them, straight through
 *           `pool.query` of pg, rows unmapped. The goals are kysely / pg and app / pg;
 *   hand    hand-written SQL (bench/support/sql.ts, what the HTTP baseline serves).
 * All four run on one pg pool (the process's `DatabasePool`), so on the same Postgres backend in turn.
 * Statements that run inside a transaction in the app (quota usage, audit insert) are measured
 * outside one, without the BEGIN/COMMIT around them.
 */
import { Database, DatabaseConfig, DatabasePool, newId, PrismaService, type RequestContext, SystemClock } from '@capstan/platform';
import { AuditLog, auditEventInsert, hashSecret } from '@capstan/tenancy';
import type { CompiledQuery } from 'kysely';
import type { Pool } from 'pg';
// Not exported from the libraries' indexes; imported from their modules.
import { clusterPageQuery, clusterQuery, ClustersRepository } from '../libs/clusters/src/clusters.repository';
import { customerTokenQuery, TokenAuthenticator } from '../libs/tenancy/src/auth/token-authenticator';
import { ClusterUsage, usageQuery } from '../libs/clusters/src/cluster-usage';
import { numberSetting } from './support/environment';
import { createScratchDatabase } from './support/scratch-database';
import { seedTenant, type SeededTenant } from './support/seed';
import * as sql from './support/sql';
import { goal, ms, percentile, printTable, ratio, sortedCopy } from './support/stats';

const ITERATIONS = numberSetting('BENCH_ITERATIONS', 2_000);
const WARMUP = numberSetting('BENCH_WARMUP_ITERATIONS', 200);
const POOL_SIZE = 10;
const PAGE = 20;
/** Kysely only builds a string: anything above these over pg is overhead of ours (issue 8). */
const GOAL_P50 = { atMost: 1.1 };
const GOAL_P99 = { atMost: 1.3 };

type Variant = 'app' | 'kysely' | 'pg' | 'hand';
const VARIANTS: Variant[] = ['app', 'kysely', 'pg', 'hand'];

interface QueryCase {
  name: string;
  app(db: Database): Promise<unknown>;
  /** The statement the app sends, built by Kysely (a fresh one per call: inserts need fresh ids). */
  statement(db: Database): { compile(): CompiledQuery<unknown>; execute(): Promise<unknown> };
  hand(db: sql.Queryable): Promise<unknown>;
  /** A short summary of a result, the same for every variant when they agree. */
  digest(variant: Variant, result: unknown): string;
}

interface Row {
  [column: string]: unknown;
}

type Clusterish = { node_pools?: unknown[]; pools?: unknown[]; window?: unknown; maintenance_window?: unknown };
const clusterDigest = (list: Clusterish[]) =>
  `${list.length} clusters, ${list.reduce((s, c) => s + (c.node_pools ?? c.pools ?? []).length, 0)} pools, ${list.reduce((s, c) => s + ((c.window ?? c.maintenance_window) ? 1 : 0), 0)} windows`;
/** Rows of the app's statement, through pg or Kysely; the other variants' own shapes. */
const rowsOf = (variant: Variant, result: unknown): Row[] => (variant === 'pg' ? (result as { rows: Row[] }).rows : (result as Row[]));

function cases(t: SeededTenant): QueryCase[] {
  const orgId = t.organizationId;
  const secretHash = hashSecret(t.token);
  const clusterId = t.clusterWithWindowId;
  const auditEntry = () => ({
    organizationId: orgId,
    actor: { type: 'api_token' as const, id: t.tokenId },
    action: 'cluster.update',
    target: { type: 'cluster', id: clusterId },
    changes: { labels: { before: { env: 'prod' }, after: { env: 'prod', tier: 'web' } } },
    reason: null,
  });
  const request = () => ({ requestId: newId('req'), sourceIp: '127.0.0.1' });
  const handAuditInsert = (db: sql.Queryable) => {
    const e = auditEntry();
    const r = request();
    return sql.insertAuditEvent(db, {
      id: newId('aud'),
      organizationId: e.organizationId,
      actorType: e.actor.type,
      actorId: e.actor.id,
      action: e.action,
      targetType: e.target.type,
      targetId: e.target.id,
      requestId: r.requestId,
      sourceIp: r.sourceIp,
      changes: e.changes,
      reason: e.reason,
    });
  };
  const usageDigest = (v: Variant, r: unknown) => {
    const u = v === 'app' || v === 'hand' ? (r as { clusters: number; nodes: number }) : rowsOf(v, r)[0]!;
    return `${Number(u.clusters)} clusters, ${Number(u.nodes)} nodes`;
  };

  const single = (v: Variant, r: unknown) => (v === 'app' || v === 'hand' ? r : rowsOf(v, r)[0]);

  return [
    {
      // TokenAuthenticator.customer: on every authenticated request
      name: 'token by secret hash + organisation',
      app: (db) => new TokenAuthenticator(db, new SystemClock()).customer(t.token),
      statement: (db) => customerTokenQuery(db, secretHash),
      hand: (db) => sql.tokenWithOrganization(db, secretHash),
      digest: (v, r) => {
        if (v === 'hand') return `${(r as sql.TokenRow).id} ${(r as sql.TokenRow).organization_status}`;
        if (v === 'app') return `${(r as { tokenId: string }).tokenId} ${(r as { organizationStatus: string }).organizationStatus}`;
        const row = rowsOf(v, r)[0]!;
        return `${row.id as string} ${row.status as string}`;
      },
    },
    {
      // ClustersRepository.list: GET /v1/clusters
      name: `cluster page (${PAGE}+1) with pools, windows`,
      app: (db) => new ClustersRepository(db).list({ organizationId: orgId }, PAGE),
      statement: (db) => clusterPageQuery(db, { organizationId: orgId }, PAGE),
      hand: (db) => sql.listClusters(db, orgId, PAGE),
      digest: (v, r) => clusterDigest(v === 'app' || v === 'hand' ? (r as Clusterish[]) : (rowsOf(v, r) as Clusterish[])),
    },
    {
      // ClustersRepository.get: GET /v1/clusters/{id} (changes read it in their transaction)
      name: 'cluster with pools and window',
      app: (db) => new ClustersRepository(db).get(orgId, clusterId),
      statement: (db) => clusterQuery(db, orgId, clusterId),
      hand: (db) => sql.getCluster(db, orgId, clusterId),
      digest: (v, r) => clusterDigest([single(v, r) as Clusterish]),
    },
    {
      // ClusterUsage.usage (tenancy's OrganizationUsage): GET /v1/organization, staff lists, every quota check
      name: 'organisation usage (count + sum)',
      app: (db) => new ClusterUsage(db).usage(orgId),
      statement: (db) => usageQuery(db, orgId),
      hand: (db) => sql.usage(db, orgId),
      digest: usageDigest,
    },
    {
      // AuditLog.record inside every change's transaction
      name: 'audit event insert',
      app: (db) => new AuditLog(db, request() as RequestContext).record(db, auditEntry()),
      statement: (db) => auditEventInsert(db, auditEntry(), request()),
      hand: (db) => handAuditInsert(db),
      digest: () => 'inserted',
    },
  ];
}

// ------------------------------------------------------------------ measurement

/**
 * Statements one call of each variant sends: Kysely's through a plugin that counts the queries it
 * compiles for execution (Kysely runs them on a checked-out client, not `pool.query`), the
 * hand-written SQL's through a counting `Queryable`; the pg variant is one `pool.query` by construction.
 */
async function countStatements(c: QueryCase, db: Database, pool: Pool): Promise<Record<Variant, number>> {
  let n = 0;
  const counting = db.withPlugin({
    transformQuery: (args) => {
      n++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  }) as Database;
  const counts = { pg: 1 } as Record<Variant, number>;
  n = 0;
  await c.app(counting);
  counts.app = n;
  n = 0;
  await c.statement(counting).execute();
  counts.kysely = n;
  let handStatements = 0;
  const query = ((text: string, values?: unknown[]) => {
    handStatements++;
    return pool.query(text, values);
  }) as sql.Queryable['query'];
  await c.hand({ query });
  counts.hand = handStatements;
  return counts;
}

async function measure(run: Record<Variant, () => Promise<unknown>>): Promise<Record<Variant, Float64Array>> {
  for (let i = 0; i < WARMUP; i++) for (const v of VARIANTS) await run[v]();
  const times: Record<Variant, number[]> = { app: [], kysely: [], pg: [], hand: [] };
  const order = [...VARIANTS];
  for (let i = 0; i < ITERATIONS; i++) {
    // A fresh random order each round: whatever a call leaves behind (garbage, timers) lands on
    // a random next variant, not always on the same one.
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(Math.random() * (k + 1));
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    for (const v of order) {
      const start = process.hrtime.bigint();
      await run[v]();
      times[v].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return { app: sortedCopy(times.app), kysely: sortedCopy(times.kysely), pg: sortedCopy(times.pg), hand: sortedCopy(times.hand) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const scratch = await createScratchDatabase();
  const databasePool = new DatabasePool(new DatabaseConfig(scratch.url, POOL_SIZE));
  const db = new Database(databasePool);
  // Every variant runs on this one pool, so all of them use the same Postgres backend in turn:
  // with a pool each, a backend that the scheduler keeps on the busier core of a shared machine
  // made one variant slower for a whole case.
  const pool = databasePool.pool;
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () => (cleaned ??= Promise.allSettled([databasePool.end()]).then(() => scratch.drop()));
  // Ctrl-C still removes the scratch database.
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    // The bench's seed still writes through Prisma's model API (bench code, outside the app).
    const tenant = await seedTenant(new PrismaService(databasePool), 50);
    console.log(`kysely-vs-pg: ${WARMUP} warm-up + ${ITERATIONS} sequential calls per query and variant, interleaved; scratch database ${scratch.name}`);
    console.log("  app = the app's own call through Kysely (mapping included); kysely = the app's statement built and run by Kysely;");
    console.log('  pg = the same compiled statement through pg (pool.query); hand = hand-written SQL (bench/support/sql.ts). All share one pg pool.');
    const rows: string[][] = [];
    const mismatches: string[] = [];
    for (const c of cases(tenant)) {
      const run: Record<Variant, () => Promise<unknown>> = {
        app: () => c.app(db),
        kysely: () => c.statement(db).execute(),
        pg: () => {
          const q = c.statement(db).compile();
          return pool.query(q.sql, q.parameters as unknown[]);
        },
        hand: () => c.hand(pool),
      };
      const digests = await Promise.all(VARIANTS.map(async (v) => c.digest(v, await run[v]())));
      if (new Set(digests).size !== 1) mismatches.push(`${c.name}: ${VARIANTS.map((v, i) => `${v} -> ${digests[i]}`).join('; ')}`);
      const statements = await countStatements(c, db, pool);
      const t = await measure(run);
      const p50 = (v: Variant) => percentile(t[v], 0.5);
      const p99 = (v: Variant) => percentile(t[v], 0.99);
      rows.push([
        c.name,
        `${statements.app}/${statements.kysely}/${statements.pg}/${statements.hand}`,
        ms(p50('kysely'), 3),
        ms(p50('pg'), 3),
        ratio(p50('kysely') / p50('pg')),
        goal(p50('kysely') / p50('pg'), GOAL_P50),
        ms(p99('kysely'), 3),
        ms(p99('pg'), 3),
        ratio(p99('kysely') / p99('pg')),
        goal(p99('kysely') / p99('pg'), GOAL_P99),
        ratio(p50('app') / p50('pg')),
        ms(p50('hand'), 3),
      ]);
    }
    console.log('');
    printTable(
      [
        'query',
        '>stmts app/kysely/pg/hand',
        '>kysely p50',
        '>pg p50',
        '>p50 ratio',
        'goal',
        '>kysely p99',
        '>pg p99',
        '>p99 ratio',
        'goal',
        '>app/pg p50',
        '>hand p50',
      ],
      rows,
    );
    console.log("  times in ms per call; ratios are kysely / pg (lower is better); app/pg includes the app's mapping; goals are reported, never enforced");
    for (const m of mismatches) console.log(`  WARNING results differ between variants: ${m}`);
    console.log(`kysely-vs-pg: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
