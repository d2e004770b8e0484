import { slaTargetPercent, type Provider } from '@capstan/domain';
import type { QueryResult, QueryResultRow } from 'pg';

/**
 * Hand-written SQL for the API's hottest reads and writes, over plain `pg`: what the bare
 * baseline server serves, and kysely-vs-pg's 'hand' reference column. Each statement is the
 * one a person would write for the job (joins where they save a round trip), and each presenter
 * builds the same JSON as libs/clusters/src/cluster-view.ts and libs/operations/src/operation-view.ts.
 */

/** A pg Pool or a checked-out client. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

// ------------------------------------------------------------------ tokens

export interface TokenRow {
  id: string;
  organization_id: string;
  secret_hash: string;
  scopes: ('read' | 'write')[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  organization_status: 'active' | 'suspended';
  suspended_reason: string | null;
}

/** The token and its organisation's status in one round trip (Prisma takes two). */
export async function tokenWithOrganization(db: Queryable, secretHash: string): Promise<TokenRow | undefined> {
  const { rows } = await db.query<TokenRow>(
    `SELECT t.id, t.organization_id, t.secret_hash, t.scopes::text[] AS scopes, t.expires_at, t.last_used_at, t.revoked_at,
            o.status AS organization_status, o.suspended_reason
       FROM api_tokens t JOIN organizations o ON o.id = t.organization_id
      WHERE t.secret_hash = $1`,
    [secretHash],
  );
  return rows[0];
}

// ------------------------------------------------------------------ clusters

export interface ClusterRow {
  id: string;
  organization_id: string;
  name: string;
  provider: Provider;
  region: string;
  release_channel: string;
  status: string;
  status_reason: string | null;
  current_version: string;
  desired_version: string;
  endpoint: string | null;
  auto_upgrade: boolean;
  deletion_protection: boolean;
  labels: Record<string, string>;
  resource_version: number;
  created_at: Date;
  updated_at: Date;
}

export interface WindowRow {
  time_zone: string;
  days: string[];
  start_time: string;
  duration_minutes: number;
}

/** A cluster row joined to its (optional) maintenance window, whose columns are prefixed `mw_`. */
export interface ClusterWithWindowRow extends ClusterRow {
  mw_time_zone: string | null;
  mw_days: string[] | null;
  mw_start_time: string | null;
  mw_duration_minutes: number | null;
}

export interface NodePoolRow {
  id: string;
  cluster_id: string;
  name: string;
  machine_type: string;
  node_count: number;
  autoscale_min: number | null;
  autoscale_max: number | null;
  version: string;
  labels: Record<string, string>;
  taints: { key: string; value: string; effect: string }[];
  max_surge: number;
  max_unavailable: number;
  status: string;
  resource_version: number;
  created_at: Date;
  updated_at: Date;
}

export const CLUSTER_COLUMNS = `id, organization_id, name, provider, region, release_channel, status, status_reason, current_version,
  desired_version, endpoint, auto_upgrade, deletion_protection, labels, resource_version, created_at, updated_at`;
const CLUSTER_WITH_WINDOW_COLUMNS = `${CLUSTER_COLUMNS.split(',')
  .map((c) => `c.${c.trim()}`)
  .join(', ')},
  w.time_zone AS mw_time_zone, w.days AS mw_days, w.start_time AS mw_start_time, w.duration_minutes AS mw_duration_minutes`;
export const NODE_POOL_COLUMNS = `id, cluster_id, name, machine_type, node_count, autoscale_min, autoscale_max, version, labels, taints,
  max_surge, max_unavailable, status, resource_version, created_at, updated_at`;

export interface ClusterWithRelations {
  cluster: ClusterRow;
  window: WindowRow | null;
  pools: NodePoolRow[];
}

function windowOf(row: ClusterWithWindowRow): WindowRow | null {
  return row.mw_time_zone === null
    ? null
    : { time_zone: row.mw_time_zone, days: row.mw_days!, start_time: row.mw_start_time!, duration_minutes: row.mw_duration_minutes! };
}

/** One page of an organisation's live clusters, oldest first, `limit + 1` rows; then their live pools. */
export async function listClusters(db: Queryable, organizationId: string, limit: number, after?: string): Promise<ClusterWithRelations[]> {
  const { rows } = await db.query<ClusterWithWindowRow>(
    `SELECT ${CLUSTER_WITH_WINDOW_COLUMNS}
       FROM clusters c LEFT JOIN maintenance_windows w ON w.cluster_id = c.id
      WHERE c.organization_id = $1 AND c.deleted_at IS NULL${after ? ' AND c.id > $3' : ''}
      ORDER BY c.id LIMIT $2`,
    after ? [organizationId, limit + 1, after] : [organizationId, limit + 1],
  );
  if (rows.length === 0) return [];
  const pools = await db.query<NodePoolRow>(
    `SELECT ${NODE_POOL_COLUMNS} FROM node_pools WHERE cluster_id = ANY($1::text[]) AND deleted_at IS NULL ORDER BY id`,
    [rows.map((r) => r.id)],
  );
  const byCluster = new Map<string, NodePoolRow[]>(rows.map((r) => [r.id, []]));
  for (const pool of pools.rows) byCluster.get(pool.cluster_id)!.push(pool);
  return rows.map((row) => ({ cluster: row, window: windowOf(row), pools: byCluster.get(row.id)! }));
}

/** One live cluster of the organisation with its window and live pools, or undefined. */
export async function getCluster(db: Queryable, organizationId: string, id: string): Promise<ClusterWithRelations | undefined> {
  const { rows } = await db.query<ClusterWithWindowRow>(
    `SELECT ${CLUSTER_WITH_WINDOW_COLUMNS}
       FROM clusters c LEFT JOIN maintenance_windows w ON w.cluster_id = c.id
      WHERE c.id = $1 AND c.organization_id = $2 AND c.deleted_at IS NULL`,
    [id, organizationId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const pools = await db.query<NodePoolRow>(`SELECT ${NODE_POOL_COLUMNS} FROM node_pools WHERE cluster_id = $1 AND deleted_at IS NULL ORDER BY id`, [id]);
  return { cluster: row, window: windowOf(row), pools: pools.rows };
}

/** Clusters and quota-counted nodes in use, in one round trip (the API issues two). */
export async function usage(db: Queryable, organizationId: string): Promise<{ clusters: number; nodes: number }> {
  const { rows } = await db.query<{ clusters: number; nodes: string }>(
    `SELECT (SELECT count(*)::int FROM clusters WHERE organization_id = $1 AND deleted_at IS NULL) AS clusters,
            (SELECT COALESCE(SUM(COALESCE(autoscale_max, node_count)), 0)::bigint FROM node_pools
              WHERE organization_id = $1 AND deleted_at IS NULL) AS nodes`,
    [organizationId],
  );
  return { clusters: rows[0]!.clusters, nodes: Number(rows[0]!.nodes) };
}

export const etagOf = (resourceVersion: number) => `"${resourceVersion}"`;

export function presentNodePool(pool: NodePoolRow) {
  return {
    id: pool.id,
    cluster_id: pool.cluster_id,
    name: pool.name,
    machine_type: pool.machine_type,
    count: pool.node_count,
    autoscaling: pool.autoscale_min !== null && pool.autoscale_max !== null ? { min: pool.autoscale_min, max: pool.autoscale_max } : null,
    version: pool.version,
    labels: pool.labels,
    taints: pool.taints,
    max_surge: pool.max_surge,
    max_unavailable: pool.max_unavailable,
    status: pool.status,
    etag: etagOf(pool.resource_version),
    created_at: pool.created_at.toISOString(),
    updated_at: pool.updated_at.toISOString(),
  };
}

export function presentCluster({ cluster, window, pools }: ClusterWithRelations, warnings?: string[]) {
  return {
    id: cluster.id,
    name: cluster.name,
    provider: cluster.provider,
    region: cluster.region,
    release_channel: cluster.release_channel,
    status: cluster.status,
    status_reason: cluster.status_reason,
    current_version: cluster.current_version,
    desired_version: cluster.desired_version,
    endpoint: cluster.endpoint,
    auto_upgrade: cluster.auto_upgrade,
    deletion_protection: cluster.deletion_protection,
    labels: cluster.labels,
    sla: { target_percent: slaTargetPercent(cluster.provider) },
    maintenance_window: window,
    node_pools: pools.map(presentNodePool),
    ...(warnings && warnings.length > 0 ? { warnings } : {}),
    etag: etagOf(cluster.resource_version),
    created_at: cluster.created_at.toISOString(),
    updated_at: cluster.updated_at.toISOString(),
  };
}

/** `{ after: lastId }` as base64url JSON, as libs/platform/src/http/pagination.ts encodes it. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    return typeof value.after === 'string' && /^[a-z]+_[0-9a-z]{26}$/.test(value.after) ? value.after : undefined;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ operations

export interface OperationRow {
  id: string;
  organization_id: string;
  cluster_id: string | null;
  type: string;
  status: string;
  target_type: string;
  target_id: string;
  progress: number;
  error: { code: string; message: string } | null;
  requested_by_type: string;
  requested_by_id: string;
  cancel_requested_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StepRow {
  position: number;
  name: string;
  status: string;
  attempts: number;
  error: unknown;
  started_at: Date | null;
  finished_at: Date | null;
  wait: { state?: { progress?: StepProgress } } | null;
  checkpoint: { progress?: StepProgress } | null;
}

/** Node-level progress a step recorded, as libs/operations/src/operation-view.ts shows it. */
export interface StepProgress {
  summary: string;
  nodes?: { machine: string; node: string | null; version: string | null; state: string }[];
}

export const OPERATION_COLUMNS = `id, organization_id, cluster_id, type, status, target_type, target_id, progress, error, requested_by_type,
  requested_by_id, cancel_requested_at, created_at, started_at, finished_at`;
export const STEP_COLUMNS = 'position, name, status, attempts, error, started_at, finished_at, wait, checkpoint';

/** An operation of the organisation with its steps in order, or undefined. */
export async function getOperation(db: Queryable, organizationId: string, id: string): Promise<{ operation: OperationRow; steps: StepRow[] } | undefined> {
  const { rows } = await db.query<OperationRow>(`SELECT ${OPERATION_COLUMNS} FROM operations WHERE id = $1 AND organization_id = $2`, [id, organizationId]);
  if (!rows[0]) return undefined;
  const steps = await db.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM operation_steps WHERE operation_id = $1 ORDER BY position`, [id]);
  return { operation: rows[0], steps: steps.rows };
}

/** What its wait last recorded while the step runs, else what its checkpoint kept when it ended. */
function stepProgress(step: StepRow): StepProgress | null {
  const progress = step.wait?.state?.progress ?? step.checkpoint?.progress;
  return progress && typeof progress.summary === 'string' ? progress : null;
}

export function presentOperation(op: OperationRow, steps: StepRow[]) {
  return {
    id: op.id,
    type: op.type,
    status: op.status,
    target: { type: op.target_type, id: op.target_id },
    cluster_id: op.cluster_id,
    progress: op.progress,
    steps: steps.map((step) => ({
      name: step.name,
      status: step.status,
      attempts: step.attempts,
      started_at: step.started_at?.toISOString() ?? null,
      finished_at: step.finished_at?.toISOString() ?? null,
      error: step.error ?? null,
      progress: stepProgress(step),
    })),
    error: op.error ?? null,
    requested_by: { type: op.requested_by_type, id: op.requested_by_id },
    cancel_requested: op.cancel_requested_at !== null,
    created_at: op.created_at.toISOString(),
    started_at: op.started_at?.toISOString() ?? null,
    finished_at: op.finished_at?.toISOString() ?? null,
  };
}

// ------------------------------------------------------------------ audit

export interface AuditInsert {
  id: string;
  organizationId: string | null;
  actorType: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  requestId: string | null;
  sourceIp: string | null;
  changes: Record<string, unknown>;
  reason: string | null;
}

/** One audit event (the caller needs nothing back, so nothing is returned). */
export async function insertAuditEvent(db: Queryable, e: AuditInsert): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (id, organization_id, actor_type, actor_id, action, target_type, target_id, request_id, source_ip, changes, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [e.id, e.organizationId, e.actorType, e.actorId, e.action, e.targetType, e.targetId, e.requestId, e.sourceIp, JSON.stringify(e.changes), e.reason],
  );
}
