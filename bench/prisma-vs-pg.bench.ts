/**
 * Issue 3, the data layer on its own: the API's hottest queries through Prisma (PrismaService,
 * the generated client over @prisma/adapter-pg, called exactly as the app calls it) against the
 * same SQL through a plain `pg` Pool, sequentially, on one scratch database.
 *
 * Three variants per query, interleaved iteration by iteration (the order rotates) so drift hits
 * all of them alike:
 *   prisma  the app's own call;
 *   pg      the statements Prisma sends (text as its query log shows them, children of an
 *           include run concurrently as Prisma's interpreter does), rows nested the same way:
 *           the difference is Prisma's own per-query cost. The goals are against this one;
 *   hand    hand-written SQL (bench/support/sql.ts, what the HTTP baseline serves): joins instead
 *           of extra statements, shown for what a rewrite would buy.
 */
import { OperationsService } from '@capstan/operations';
import { DatabaseConfig, newId, pgConnectionFromUrl, PrismaService, type RequestContext, SystemClock } from '@capstan/platform';
import { AuditLog, hashSecret, OrganizationsService } from '@capstan/tenancy';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
// Not exported from the libraries' indexes; imported from their modules.
import { ClustersRepository } from '../libs/clusters/src/clusters.repository';
import { TokenAuthenticator } from '../libs/tenancy/src/auth/token-authenticator';
import { PrismaClient } from '../libs/platform/src/database/generated/client';
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

type Variant = 'prisma' | 'pg' | 'hand';
const VARIANTS: Variant[] = ['prisma', 'pg', 'hand'];

interface QueryCase {
  name: string;
  prisma(client: PrismaService): Promise<unknown>;
  pg(db: sql.Queryable): Promise<unknown>;
  hand(db: sql.Queryable): Promise<unknown>;
  /** A short summary of a result, the same for every variant when they agree. */
  digest(variant: Variant, result: unknown): string;
}

// ------------------------------------------------------------------ Prisma's statements, verbatim

const col = (table: string, spec: string) => {
  const [name, cast] = spec.split('::');
  return `"public"."${table}"."${name}"${cast ? `::${cast}` : ''}`;
};
const cols = (table: string, names: string) => names.split(/\s*,\s*/).map((n) => col(table, n)).join(', ');
const params = (from: number, count: number) => Array.from({ length: count }, (_, i) => `$${from + i}`).join(',');

const CLUSTER_COLS = cols(
  'clusters',
  'id, organization_id, name, live_name, provider::text, region, release_channel::text, current_version, desired_version, status::text, status_reason, endpoint, ca_certificate, auto_upgrade, deletion_protection, labels, monthly_fee_cents, currency, resource_version, created_at, updated_at, deleted_at',
);
const POOL_COLS = cols(
  'node_pools',
  'id, cluster_id, organization_id, name, live_name, machine_type, node_count, autoscale_min, autoscale_max, version, labels, taints, max_surge, max_unavailable, status::text, resource_version, created_at, updated_at, deleted_at',
);
const WINDOW_COLS = cols('maintenance_windows', 'cluster_id, time_zone, days, start_time, duration_minutes, updated_at');
const OPERATION_COLS = cols(
  'operations',
  'id, organization_id, cluster_id, type::text, status::text, mutating, target_type, target_id, params, result, progress, error, attempts, idempotency_key, requested_by_type::text, requested_by_id, request_id, cancel_requested_at, created_at, started_at, finished_at, updated_at',
);
const STEP_COLS = cols('operation_steps', 'operation_id, position, name, status::text, attempts, checkpoint, error, started_at, finished_at');

interface Row {
  [column: string]: unknown;
}

/** Children of an include after their parent, concurrently, as Prisma's query interpreter runs them. */
async function clustersWithRelations(db: sql.Queryable, clusters: Row[]) {
  if (clusters.length === 0) return [];
  const ids = clusters.map((c) => c.id);
  const [pools, windows] = await Promise.all([
    db.query(
      `SELECT ${POOL_COLS} FROM "public"."node_pools" WHERE ("public"."node_pools"."deleted_at" IS NULL AND "public"."node_pools"."cluster_id" IN (${params(1, ids.length)})) ORDER BY "public"."node_pools"."id" ASC OFFSET $${ids.length + 1}`,
      [...ids, 0],
    ),
    db.query(`SELECT ${WINDOW_COLS} FROM "public"."maintenance_windows" WHERE "public"."maintenance_windows"."cluster_id" IN (${params(1, ids.length)}) OFFSET $${ids.length + 1}`, [...ids, 0]),
  ]);
  const poolsOf = new Map<unknown, Row[]>(clusters.map((c) => [c.id, []]));
  for (const pool of pools.rows) poolsOf.get(pool.cluster_id)!.push(pool);
  const windowOf = new Map<unknown, Row>(windows.rows.map((w) => [w.cluster_id, w]));
  return clusters.map((cluster) => ({ cluster, pools: poolsOf.get(cluster.id)!, window: windowOf.get(cluster.id) ?? null }));
}

type Nested = { cluster: unknown; pools: unknown[]; window: unknown }[];
type PrismaClusters = { nodePools: unknown[]; maintenanceWindow: unknown }[];
const clusterDigest = (list: { pools: number; windows: number }[]) => `${list.length} clusters, ${list.reduce((s, c) => s + c.pools, 0)} pools, ${list.reduce((s, c) => s + c.windows, 0)} windows`;

function cases(t: SeededTenant): QueryCase[] {
  const orgId = t.organizationId;
  const secretHash = hashSecret(t.token);
  const clusterId = t.clusterWithWindowId;
  const auditData = () => ({
    id: newId('aud'),
    organizationId: orgId,
    actorType: 'api_token' as const,
    actorId: t.tokenId,
    action: 'cluster.update',
    targetType: 'cluster',
    targetId: clusterId,
    requestId: newId('req'),
    sourceIp: '127.0.0.1',
    changes: { labels: { before: { env: 'prod' }, after: { env: 'prod', tier: 'web' } } },
    reason: null,
  });

  return [
    {
      // TokenAuthenticator.customer: on every authenticated request (the app's own code)
      name: 'token by secret hash + organisation',
      prisma: (p) => new TokenAuthenticator(p, new SystemClock()).customer(t.token),
      pg: async (db) =>
        (
          await db.query(
            `SELECT t.id, t.organization_id, t.secret_hash, t.scopes::text[] AS scopes, t.expires_at, t.last_used_at, t.revoked_at, o.status::text AS status, o.suspended_reason
             FROM api_tokens t JOIN organizations o ON o.id = t.organization_id WHERE t.secret_hash = $1`,
            [secretHash],
          )
        ).rows[0],
      hand: (db) => sql.tokenWithOrganization(db, secretHash),
      digest: (v, r) => {
        if (v === 'hand') return `${(r as sql.TokenRow).id} ${(r as sql.TokenRow).organization_status}`;
        if (v === 'prisma') return `${(r as { tokenId: string }).tokenId} ${(r as { organizationStatus: string }).organizationStatus}`;
        return `${(r as { id: string }).id} ${(r as { status: string }).status}`;
      },
    },
    {
      // ClustersRepository.list: GET /v1/clusters
      name: `cluster page (${PAGE}+1) with pools, windows`,
      prisma: (p) => new ClustersRepository(p).list({ organizationId: orgId }, PAGE),
      pg: async (db) => {
        const clusters = await db.query(
          `SELECT ${CLUSTER_COLS} FROM "public"."clusters" WHERE ("public"."clusters"."organization_id" = $1 AND "public"."clusters"."deleted_at" IS NULL) ORDER BY "public"."clusters"."id" ASC LIMIT $2 OFFSET $3`,
          [orgId, PAGE + 1, 0],
        );
        return clustersWithRelations(db, clusters.rows);
      },
      hand: (db) => sql.listClusters(db, orgId, PAGE),
      digest: (v, r) =>
        clusterDigest(
          v === 'prisma'
            ? (r as PrismaClusters).map((c) => ({ pools: c.nodePools.length, windows: c.maintenanceWindow ? 1 : 0 }))
            : (r as Nested).map((c) => ({ pools: c.pools.length, windows: c.window ? 1 : 0 })),
        ),
    },
    {
      // ClustersRepository.get: GET /v1/clusters/{id}, and inside every cluster change
      name: 'cluster with pools and window',
      prisma: (p) => new ClustersRepository(p).get(p, orgId, clusterId),
      pg: async (db) => {
        const clusters = await db.query(
          `SELECT ${CLUSTER_COLS} FROM "public"."clusters" WHERE ("public"."clusters"."id" = $1 AND "public"."clusters"."organization_id" = $2 AND "public"."clusters"."deleted_at" IS NULL) LIMIT $3 OFFSET $4`,
          [clusterId, orgId, 1, 0],
        );
        return (await clustersWithRelations(db, clusters.rows))[0];
      },
      hand: (db) => sql.getCluster(db, orgId, clusterId),
      digest: (v, r) =>
        clusterDigest([
          v === 'prisma'
            ? { pools: (r as PrismaClusters[number]).nodePools.length, windows: (r as PrismaClusters[number]).maintenanceWindow ? 1 : 0 }
            : { pools: (r as Nested[number]).pools.length, windows: (r as Nested[number]).window ? 1 : 0 },
        ]),
    },
    {
      // OperationsService.get: GET /v1/operations/{id}, what clients poll after every change
      name: 'operation with steps',
      prisma: (p) => new OperationsService(p, undefined as never, undefined as never, undefined as never, undefined as never).get(orgId, t.operationId),
      pg: async (db) => {
        const op = (await db.query(
          `SELECT ${OPERATION_COLS} FROM "public"."operations" WHERE ("public"."operations"."id" = $1 AND "public"."operations"."organization_id" = $2) LIMIT $3 OFFSET $4`,
          [t.operationId, orgId, 1, 0],
        )).rows[0];
        if (!op) return undefined;
        const steps = await db.query(
          `SELECT ${STEP_COLS} FROM "public"."operation_steps" WHERE "public"."operation_steps"."operation_id" IN ($1) ORDER BY "public"."operation_steps"."position" ASC OFFSET $2`,
          [op.id, 0],
        );
        return { ...op, steps: steps.rows };
      },
      hand: (db) => sql.getOperation(db, orgId, t.operationId),
      digest: (v, r) => `${(v === 'hand' ? (r as { steps: unknown[] }).steps : (r as { steps: unknown[] }).steps).length} steps`,
    },
    {
      // OrganizationsService.usage: quota checks of every create and scale, GET /v1/organization
      name: 'organisation usage (count + sum)',
      prisma: (p) => new OrganizationsService(p, undefined as never).usage(p, orgId),
      pg: async (db) => {
        const row = (
          await db.query<{ clusters: string; nodes: string | null }>(
            `SELECT (SELECT count(*) FROM clusters WHERE organization_id = $1 AND deleted_at IS NULL) AS clusters,
                    (SELECT SUM(GREATEST(node_count, COALESCE(autoscale_max, node_count))) FROM node_pools
                      WHERE organization_id = $1 AND deleted_at IS NULL) AS nodes`,
            [orgId],
          )
        ).rows[0]!;
        return { clusters: Number(row.clusters), nodes: Number(row.nodes ?? 0) };
      },
      hand: (db) => sql.usage(db, orgId),
      digest: (_v, r) => `${(r as { clusters: number }).clusters} clusters, ${(r as { nodes: number }).nodes} nodes`,
    },
    {
      // AuditLog.record: inside the transaction of every change
      name: 'audit event insert',
      prisma: (p) => {
        const e = auditData();
        return new AuditLog(p, { requestId: e.requestId, sourceIp: e.sourceIp } as RequestContext).record(p, {
          organizationId: e.organizationId,
          actor: { type: e.actorType, id: e.actorId },
          action: e.action,
          target: { type: e.targetType, id: e.targetId },
          changes: e.changes,
          reason: e.reason,
        });
      },
      pg: (db) => {
        const e = auditData();
        return db.query(
          `INSERT INTO audit_events (id, organization_id, actor_type, actor_id, action, target_type, target_id, request_id, source_ip, changes, reason)
           VALUES ($1, $2, $3::"ActorType", $4, $5, $6, $7, $8, $9, $10::jsonb, $11)`,
          [e.id, e.organizationId, e.actorType, e.actorId, e.action, e.targetType, e.targetId, e.requestId, e.sourceIp, JSON.stringify(e.changes), e.reason],
        );
      },
      hand: (db) => sql.insertAuditEvent(db, auditData()),
      digest: () => 'inserted',
    },
  ];
}

// ------------------------------------------------------------------ measurement

/** Statements each variant sends for one call: Prisma's from its query log, pg's by counting. */
async function countStatements(url: string, c: QueryCase, pool: Pool): Promise<Record<Variant, number>> {
  const logged = new PrismaClient({ adapter: new PrismaPg(pgConnectionFromUrl(url)), log: [{ emit: 'event', level: 'query' }] });
  let prisma = 0;
  logged.$on('query', () => prisma++);
  await c.prisma(logged as unknown as PrismaService);
  await logged.$disconnect();
  const counted = () => {
    const db = {
      n: 0,
      query: ((text: string, values?: unknown[]) => {
        db.n++;
        return pool.query(text, values);
      }) as sql.Queryable['query'],
    };
    return db;
  };
  const pg = counted();
  await c.pg(pg);
  const hand = counted();
  await c.hand(hand);
  return { prisma, pg: pg.n, hand: hand.n };
}

async function measure(run: Record<Variant, () => Promise<unknown>>): Promise<Record<Variant, Float64Array>> {
  for (let i = 0; i < WARMUP; i++) for (const v of VARIANTS) await run[v]();
  const times: Record<Variant, number[]> = { prisma: [], pg: [], hand: [] };
  for (let i = 0; i < ITERATIONS; i++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const v = VARIANTS[(i + k) % VARIANTS.length]!;
      const start = process.hrtime.bigint();
      await run[v]();
      times[v].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return { prisma: sortedCopy(times.prisma), pg: sortedCopy(times.pg), hand: sortedCopy(times.hand) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await createScratchDatabase();
  const prisma = new PrismaService(new DatabaseConfig(db.url, POOL_SIZE));
  const pool = new Pool({ ...pgConnectionFromUrl(db.url), max: POOL_SIZE, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 30_000 });
  let cleaned: Promise<unknown> | undefined;
  const cleanUp = () => (cleaned ??= Promise.allSettled([prisma.$disconnect(), pool.end()]).then(() => db.drop()));
  // Ctrl-C still removes the scratch database.
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    const tenant = await seedTenant(prisma, 50);
    console.log(`prisma-vs-pg: ${WARMUP} warm-up + ${ITERATIONS} sequential calls per query and variant, interleaved; scratch database ${db.name}`);
    console.log('  prisma = the app\'s call through PrismaService; pg = the statements Prisma sends, through a pg Pool; hand = hand-written SQL (bench/support/sql.ts)');
    const rows: string[][] = [];
    const mismatches: string[] = [];
    for (const c of cases(tenant)) {
      const run: Record<Variant, () => Promise<unknown>> = { prisma: () => c.prisma(prisma), pg: () => c.pg(pool), hand: () => c.hand(pool) };
      const digests = await Promise.all(VARIANTS.map(async (v) => c.digest(v, await run[v]())));
      if (new Set(digests).size !== 1) mismatches.push(`${c.name}: ${VARIANTS.map((v, i) => `${v} -> ${digests[i]}`).join('; ')}`);
      const statements = await countStatements(db.url, c, pool);
      const t = await measure(run);
      const p50 = { prisma: percentile(t.prisma, 0.5), pg: percentile(t.pg, 0.5), hand: percentile(t.hand, 0.5) };
      const p99 = { prisma: percentile(t.prisma, 0.99), pg: percentile(t.pg, 0.99), hand: percentile(t.hand, 0.99) };
      rows.push([
        c.name,
        `${statements.prisma}/${statements.pg}/${statements.hand}`,
        ms(p50.prisma, 3),
        ms(p50.pg, 3),
        ratio(p50.prisma / p50.pg),
        goal(p50.prisma / p50.pg, GOAL_P50),
        ms(p99.prisma, 3),
        ms(p99.pg, 3),
        ratio(p99.prisma / p99.pg),
        goal(p99.prisma / p99.pg, GOAL_P99),
        ms(p50.hand, 3),
        ratio(p50.prisma / p50.hand),
      ]);
    }
    console.log('');
    printTable(
      ['query', '>stmts P/pg/hand', '>prisma p50', '>pg p50', '>p50 ratio', 'goal', '>prisma p99', '>pg p99', '>p99 ratio', 'goal', '>hand p50', '>prisma/hand p50'],
      rows,
    );
    console.log('  times in ms per call; ratios are prisma / pg (lower is better); goals are reported, never enforced');
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
