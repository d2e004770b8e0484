import type { EventStatement } from '@capstan/events';
import { Prisma } from '@capstan/platform';
import type { EngineCluster, EngineOperation, EngineStep } from './step-context';

/**
 * The SQL of one operation run, one statement per state change: claim, step boundaries, end.
 * Each is a single statement (CTEs), so it is atomic without a transaction of its own and costs
 * one round trip on the session that holds the cluster lock. `updated_at` is set by hand
 * (Prisma's @updatedAt is not involved): the reconciler reads it to tell live operations from
 * stuck ones.
 */

export interface ClaimRow {
  id: string;
  organization_id: string;
  cluster_id: string | null;
  type: string;
  target_type: string;
  target_id: string;
  params: Prisma.JsonValue;
  steps: EngineStep[];
  cluster: EngineCluster | null;
}

/**
 * Marks the operation running (if it still may run) and counts the attempt; returns it with its
 * steps and its cluster, or no row if it finished meanwhile. `running` is the event CTEs for the
 * pending -> running change, recorded only if that is the change this claim makes.
 */
export function claimStatement(operationId: string, now: Date, running: (when: Prisma.Sql) => EventStatement): Prisma.Sql {
  const event = running(Prisma.sql`EXISTS (SELECT 1 FROM claimed) AND (SELECT status FROM previous) = 'pending'`);
  return Prisma.sql`
    WITH previous AS (
      SELECT status FROM operations WHERE id = ${operationId}
    ), claimed AS (
      UPDATE operations SET status = 'running', started_at = coalesce(started_at, ${now}::timestamptz), attempts = attempts + 1, updated_at = ${now}::timestamptz
      WHERE id = ${operationId} AND status IN ('pending', 'running')
      RETURNING id, organization_id, cluster_id, type, target_type, target_id, params
    ), ${event.ctes}
    SELECT c.*,
      (SELECT coalesce(json_agg(json_build_object('position', s.position, 'name', s.name, 'status', s.status, 'checkpoint', s.checkpoint) ORDER BY s.position), '[]')
         FROM operation_steps s WHERE s.operation_id = c.id) AS steps,
      (SELECT json_build_object(
          'id', k.id, 'organizationId', k.organization_id, 'provider', k.provider, 'region', k.region,
          'desiredVersion', k.desired_version, 'labels', k.labels,
          'nodePools', (SELECT coalesce(json_agg(json_build_object(
              'id', p.id, 'name', p.name, 'machineType', p.machine_type, 'nodeCount', p.node_count,
              'autoscaleMin', p.autoscale_min, 'autoscaleMax', p.autoscale_max, 'version', p.version,
              'labels', p.labels, 'taints', p.taints, 'maxSurge', p.max_surge, 'maxUnavailable', p.max_unavailable,
              'deletedAt', p.deleted_at) ORDER BY p.id), '[]') FROM node_pools p WHERE p.cluster_id = k.id))
         FROM clusters k WHERE k.id = c.cluster_id) AS cluster
    FROM claimed c`;
}

export function toEngineOperation(row: ClaimRow): EngineOperation {
  return {
    id: row.id,
    organizationId: row.organization_id,
    clusterId: row.cluster_id,
    type: row.type,
    targetType: row.target_type,
    targetId: row.target_id,
    params: row.params,
    steps: row.steps,
  };
}

export interface FinishedStep {
  position: number;
  /** Null keeps what the step had (a step that learnt nothing). */
  checkpoint: Record<string, unknown> | null;
}

/** Marks a step succeeded (its checkpoint kept) in a statement that does more. */
function finishedStepCte(operationId: string, step: FinishedStep | undefined, now: Date): Prisma.Sql {
  if (!step) return Prisma.empty;
  return Prisma.sql`finished_step AS (
      UPDATE operation_steps SET status = 'succeeded', finished_at = ${now}::timestamptz,
             checkpoint = coalesce(${step.checkpoint === null ? null : JSON.stringify(step.checkpoint)}::jsonb, checkpoint)
      WHERE operation_id = ${operationId} AND position = ${step.position}
    ),`;
}

/**
 * A step boundary: the step that just finished is checkpointed, progress moves, and the next step
 * starts unless a cancel was asked for meanwhile. Returns whether one was.
 */
export function boundaryStatement(operationId: string, finished: FinishedStep | undefined, progress: number | null, next: number, now: Date): Prisma.Sql {
  return Prisma.sql`
    WITH ${finishedStepCte(operationId, finished, now)} op AS (
      UPDATE operations SET progress = coalesce(${progress}::int, progress), updated_at = ${now}::timestamptz
      WHERE id = ${operationId} RETURNING cancel_requested_at
    ), started AS (
      UPDATE operation_steps SET status = 'running', attempts = attempts + 1, started_at = ${now}::timestamptz
      WHERE operation_id = ${operationId} AND position = ${next} AND (SELECT cancel_requested_at FROM op) IS NULL
    )
    SELECT cancel_requested_at FROM op`;
}

export function stepFailedStatement(operationId: string, position: number, message: string, now: Date): Prisma.Sql {
  return Prisma.sql`
    WITH step AS (
      UPDATE operation_steps SET status = 'failed', error = ${JSON.stringify({ message })}::jsonb
      WHERE operation_id = ${operationId} AND position = ${position}
    )
    UPDATE operations SET updated_at = ${now}::timestamptz WHERE id = ${operationId}`;
}

export type EndStatus = 'succeeded' | 'failed' | 'cancelled' | 'needs_attention';

export interface Ending {
  status: EndStatus;
  error: Record<string, unknown> | null;
  /** The last step, when the ending is its success. */
  lastStep?: FinishedStep;
  /** Where a failure leaves the cluster and the pool it targeted. */
  cluster?: { status: 'error' | 'running'; reason?: string };
  failedPoolId?: string;
}

/** The operation's end, where it leaves the cluster, and its event: all or nothing. */
export function endStatement(operationId: string, clusterId: string | null, ending: Ending, event: EventStatement, now: Date): Prisma.Sql {
  const { status, error, cluster } = ending;
  const clusterCte =
    cluster && clusterId
      ? Prisma.sql`cluster AS (
          UPDATE clusters SET status = ${cluster.status}::"ClusterStatus", status_reason = coalesce(${cluster.reason ?? null}::text, status_reason), updated_at = ${now}::timestamptz
          WHERE id = ${clusterId}
        ),`
      : Prisma.empty;
  const poolCte = ending.failedPoolId
    ? Prisma.sql`pool AS (UPDATE node_pools SET status = 'error', updated_at = ${now}::timestamptz WHERE id = ${ending.failedPoolId}),`
    : Prisma.empty;
  return Prisma.sql`
    WITH ${finishedStepCte(operationId, ending.lastStep, now)} ${clusterCte} ${poolCte} op AS (
      UPDATE operations SET status = ${status}::"OperationStatus",
             error = coalesce(${error ? JSON.stringify(error) : null}::jsonb, error),
             progress = coalesce(${status === 'succeeded' ? 100 : null}::int, progress),
             finished_at = ${status === 'needs_attention' ? null : now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE id = ${operationId}
    ), ${event.ctes}
    SELECT count(*)::int AS deliveries FROM event_deliveries`;
}
