/**
 * Issue 3, the data layer on its own: the API's busiest statements as the app runs them against
 * the same SQL through a plain `pg` Pool, sequentially, on one scratch database.
 *
 * Four variants per query, interleaved iteration by iteration (in a random order each round) so
 * drift and each call's aftermath hit all of them alike:
 *   app     the app's own call (repository or service method, mapping included), on the path the
 *           app takes: `Sql` (plain pg on Prisma's pool; libs/platform/src/database/sql.ts) for
 *           the reads moved off Prisma, Prisma for the rest (the "path" column says which);
 *   pg      the same statement, text and parameters as the app builds them, straight through
 *           `pool.query` of pg, rows unmapped. The goals are app / pg;
 *   prisma  the same statement through Prisma's `$queryRaw` / `$executeRaw`: what the call costs
 *           on Prisma's raw path (for the Sql rows, what moving off Prisma saved);
 *   hand    hand-written SQL (bench/support/sql.ts, what the HTTP baseline serves).
 * All four run on one pg pool (Prisma's), so on the same Postgres backend in turn.
 * Statements inside a transaction in the app (quota usage, audit insert) are measured outside one:
 * a create's on the pool (Sql.transaction runs them on a plain pg connection), other changes' on
 * Prisma's root client (the same Prisma raw path), without the BEGIN/COMMIT around them.
 */
import { OperationsService } from '@capstan/operations';
import { DatabaseConfig, newId, Prisma, DatabasePool, PrismaService, type RawTx, type RequestContext, Sql, SystemClock } from '@capstan/platform';
import { AuditLog, auditEventInsert, hashSecret, OrganizationsService } from '@capstan/tenancy';
import type { Pool } from 'pg';
// Not exported from the libraries' indexes; imported from their modules.
import { clusterPageQuery, clusterQuery, ClustersRepository } from '../libs/clusters/src/clusters.repository';
import { OPERATION_WITH_STEPS_SQL } from '../libs/operations/src/operation-rows';
import { customerTokenQuery, TokenAuthenticator } from '../libs/tenancy/src/auth/token-authenticator';
import { usageQuery } from '../libs/tenancy/src/organizations/organizations.service';
import { numberSetting } from './support/environment';
import { createScratchDatabase } from './support/scratch-database';
import { seedTenant, type SeededTenant } from './support/seed';
import * as sql from './support/sql';
import { goal, ms, percentile, printTable, ratio, sortedCopy } from './support/stats';

const ITERATIONS = numberSetting('BENCH_ITERATIONS', 2_000);
const WARMUP = numberSetting('BENCH_WARMUP_ITERATIONS', 200);
const POOL_SIZE = 10;
const PAGE = 20;
const GOAL_P50 = { atMost: 1.3 };
const GOAL_P99 = { atMost: 1.5 };

type Variant = 'app' | 'pg' | 'prisma' | 'hand';
const VARIANTS: Variant[] = ['app', 'pg', 'prisma', 'hand'];

/** What the app's objects are built on: Prisma and the Sql service over Prisma's pool. */
interface AppDatabase {
  prisma: PrismaService;
  sql: Sql;
}

interface QueryCase {
  name: string;
  /** Which way the app's call reaches Postgres. */
  path: 'Sql' | 'Prisma';
  app(db: AppDatabase): Promise<unknown>;
  /** The statement the app sends (a fresh one per call: inserts need fresh ids). */
  statement(): Prisma.Sql;
  hand(db: sql.Queryable): Promise<unknown>;
  /** A short summary of a result, the same for every variant when they agree. */
  digest(variant: Variant, result: unknown): string;
}

interface Row {
  [column: string]: unknown;
}

type Clusterish = { nodePools?: unknown[]; maintenanceWindow?: unknown; pools?: unknown[]; window?: unknown; maintenance_window?: unknown };
const clusterDigest = (list: Clusterish[]) =>
  `${list.length} clusters, ${list.reduce((s, c) => s + (c.nodePools ?? c.pools ?? []).length, 0)} pools, ${list.reduce((s, c) => s + ((c.maintenanceWindow ?? c.window ?? c.maintenance_window) ? 1 : 0), 0)} windows`;
/** Rows of the app's statement, of the Prisma variant or of pg; the other variants' own shapes. */
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

  return [
    {
      // TokenAuthenticator.customer: on every authenticated request
      name: 'token by secret hash + organisation',
      path: 'Sql',
      app: ({ prisma, sql: s }) => new TokenAuthenticator(prisma, s, new SystemClock()).customer(t.token),
      statement: () => customerTokenQuery(secretHash),
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
      path: 'Sql',
      app: ({ prisma, sql: s }) => new ClustersRepository(prisma, s).list({ organizationId: orgId }, PAGE),
      statement: () => clusterPageQuery({ organizationId: orgId }, PAGE),
      hand: (db) => sql.listClusters(db, orgId, PAGE),
      digest: (v, r) => clusterDigest(v === 'app' || v === 'hand' ? (r as Clusterish[]) : (rowsOf(v, r) as Clusterish[])),
    },
    {
      // ClustersRepository.get: GET /v1/clusters/{id} (changes read it on their transaction's client)
      name: 'cluster with pools and window',
      path: 'Sql',
      app: ({ prisma, sql: s }) => new ClustersRepository(prisma, s).get(orgId, clusterId),
      statement: () => clusterQuery(orgId, clusterId),
      hand: (db) => sql.getCluster(db, orgId, clusterId),
      digest: (v, r) => clusterDigest([v === 'app' || v === 'hand' ? (r as Clusterish) : (rowsOf(v, r)[0] as Clusterish)]),
    },
    {
      // OperationsService.get: GET /v1/operations/{id}, what clients poll after every change
      name: 'operation with steps',
      path: 'Sql',
      app: ({ prisma, sql: s }) => new OperationsService(prisma, undefined as never, undefined as never, undefined as never, undefined as never, s).get(orgId, t.operationId),
      statement: () => Prisma.sql`${OPERATION_WITH_STEPS_SQL}
      WHERE o.id = ${t.operationId} AND o.organization_id = ${orgId}`,
      hand: (db) => sql.getOperation(db, orgId, t.operationId),
      digest: (v, r) => `${(v === 'app' || v === 'hand' ? (r as { steps: unknown[] }) : (rowsOf(v, r)[0] as { steps: unknown[] })).steps.length} steps`,
    },
    {
      // OrganizationsService.usage outside a transaction: GET /v1/organization, staff lists
      name: 'organisation usage (count + sum)',
      path: 'Sql',
      app: ({ prisma, sql: s }) => new OrganizationsService(prisma, s, undefined as never).usage(orgId),
      statement: () => usageQuery(orgId),
      hand: (db) => sql.usage(db, orgId),
      digest: usageDigest,
    },
    {
      // OrganizationsService.usage in the quota check of every create (Sql.transaction; on the pool here)
      name: "organisation usage, in a create's transaction",
      path: 'Sql',
      app: ({ prisma, sql: s }) => new OrganizationsService(prisma, s, undefined as never).usage(orgId, rawTx(s)),
      statement: () => usageQuery(orgId),
      hand: (db) => sql.usage(db, orgId),
      digest: usageDigest,
    },
    {
      // OrganizationsService.usage in the quota check of scales and new pools (Prisma transactions; on the root client here)
      name: "organisation usage, in a scale's transaction",
      path: 'Prisma',
      app: ({ prisma, sql: s }) => new OrganizationsService(prisma, s, undefined as never).usage(orgId, prisma),
      statement: () => usageQuery(orgId),
      hand: (db) => sql.usage(db, orgId),
      digest: usageDigest,
    },
    {
      // AuditLog.record inside a cluster create's transaction (Sql.transaction; on the pool here)
      name: "audit event insert, in a create's transaction",
      path: 'Sql',
      app: ({ prisma, sql: s }) => new AuditLog(prisma, request() as RequestContext).record(rawTx(s), auditEntry()),
      statement: () => auditEventInsert(auditEntry(), request()),
      hand: (db) => handAuditInsert(db),
      digest: () => 'inserted',
    },
    {
      // AuditLog.record inside every other change's transaction (Prisma; on the root client here)
      name: "audit event insert, in other changes' transactions",
      path: 'Prisma',
      app: ({ prisma }) => new AuditLog(prisma, request() as RequestContext).record(prisma, auditEntry()),
      statement: () => auditEventInsert(auditEntry(), request()),
      hand: (db) => handAuditInsert(db),
      digest: () => 'inserted',
    },
  ];
}

/**
 * What Sql.transaction hands a create's code: raw statements on a plain pg connection. Here on the
 * pool, without the BEGIN/COMMIT around them (as the Prisma rows run on Prisma's root client).
 */
function rawTx(s: Sql): RawTx {
  return { $queryRaw: (q: Prisma.Sql) => s.rows(q), $executeRaw: (q: Prisma.Sql) => s.execute(q) } as unknown as RawTx;
}

// ------------------------------------------------------------------ measurement

/**
 * Statements one call of each variant sends. Prisma's adapter and Sql both run outside a
 * transaction on `pool.query` of Prisma's pool, so counting those calls counts either path.
 */
async function countStatements(c: QueryCase, app: AppDatabase, run: Record<Variant, () => Promise<unknown>>): Promise<Record<Variant, number>> {
  const pool = app.prisma.pool;
  const original = pool.query;
  let n = 0;
  pool.query = ((...args: Parameters<Pool['query']>) => {
    n++;
    return (original as (...a: unknown[]) => unknown).apply(pool, args);
  }) as Pool['query'];
  const counts = {} as Record<Variant, number>;
  try {
    for (const v of ['app', 'prisma'] as const) {
      n = 0;
      await run[v]();
      counts[v] = n;
    }
  } finally {
    pool.query = original;
  }
  const counted = {
    n: 0,
    query: ((text: string, values?: unknown[]) => {
      counted.n++;
      return app.prisma.pool.query(text, values);
    }) as sql.Queryable['query'],
  };
  await c.hand(counted);
  return { ...counts, pg: 1, hand: counted.n };
}

async function measure(run: Record<Variant, () => Promise<unknown>>): Promise<Record<Variant, Float64Array>> {
  for (let i = 0; i < WARMUP; i++) for (const v of VARIANTS) await run[v]();
  const times: Record<Variant, number[]> = { app: [], pg: [], prisma: [], hand: [] };
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
  return { app: sortedCopy(times.app), pg: sortedCopy(times.pg), prisma: sortedCopy(times.prisma), hand: sortedCopy(times.hand) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await createScratchDatabase();
  const prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, POOL_SIZE)));
  const app: AppDatabase = { prisma, sql: new Sql(prisma) };
  // Every variant runs on this one pool (Prisma's own, which Sql shares), so all of them use the
  // same Postgres backend in turn: with a pool each, a backend that the scheduler keeps on the
  // busier core of a shared machine made one variant slower for a whole case.
  const pool = prisma.pool;
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () => (cleaned ??= Promise.allSettled([prisma.$disconnect()]).then(() => db.drop()));
  // Ctrl-C still removes the scratch database.
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    const tenant = await seedTenant(prisma, 50);
    console.log(`prisma-vs-pg: ${WARMUP} warm-up + ${ITERATIONS} sequential calls per query and variant, interleaved; scratch database ${db.name}`);
    console.log('  app = the app\'s own call, on its path (Sql = plain pg on Prisma\'s pool, or Prisma); pg = the same statement through pg (pool.query);');
    console.log('  prisma = the same statement through Prisma\'s $queryRaw/$executeRaw; hand = hand-written SQL (bench/support/sql.ts).');
    console.log('  All variants share one pg pool (Prisma\'s). "in a transaction" rows are measured on the root client: the same Prisma path, without BEGIN/COMMIT.');
    const rows: string[][] = [];
    const mismatches: string[] = [];
    for (const c of cases(tenant)) {
      const run: Record<Variant, () => Promise<unknown>> = {
        app: () => c.app(app),
        pg: () => {
          const q = c.statement();
          return pool.query(q.text, q.values);
        },
        prisma: () => {
          const q = c.statement();
          return q.text.trimStart().startsWith('INSERT') ? prisma.$executeRaw(q) : prisma.$queryRaw(q);
        },
        hand: () => c.hand(pool),
      };
      const digests = await Promise.all(VARIANTS.map(async (v) => c.digest(v, await run[v]())));
      if (new Set(digests).size !== 1) mismatches.push(`${c.name}: ${VARIANTS.map((v, i) => `${v} -> ${digests[i]}`).join('; ')}`);
      const statements = await countStatements(c, app, run);
      const t = await measure(run);
      const p50 = (v: Variant) => percentile(t[v], 0.5);
      const p99 = (v: Variant) => percentile(t[v], 0.99);
      rows.push([
        c.name,
        c.path,
        `${statements.app}/${statements.pg}/${statements.hand}`,
        ms(p50('app'), 3),
        ms(p50('pg'), 3),
        ratio(p50('app') / p50('pg')),
        goal(p50('app') / p50('pg'), GOAL_P50),
        ms(p99('app'), 3),
        ms(p99('pg'), 3),
        ratio(p99('app') / p99('pg')),
        goal(p99('app') / p99('pg'), GOAL_P99),
        ratio(p50('prisma') / p50('pg')),
        ms(p50('hand'), 3),
      ]);
    }
    console.log('');
    printTable(
      ['query', 'path', '>stmts app/pg/hand', '>app p50', '>pg p50', '>p50 ratio', 'goal', '>app p99', '>pg p99', '>p99 ratio', 'goal', '>prisma/pg p50', '>hand p50'],
      rows,
    );
    console.log('  times in ms per call; ratios are app / pg (lower is better); prisma/pg = the same statement on Prisma\'s raw path; goals are reported, never enforced');
    for (const m of mismatches) console.log(`  WARNING results differ between variants: ${m}`);
    console.log(`prisma-vs-pg: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
