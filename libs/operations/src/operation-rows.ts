import { Prisma } from '@capstan/platform';
import type { OperationWithSteps } from './operation-view';

/**
 * An operation with its ordered steps in ONE statement: GET /v1/operations/{id} is what clients
 * poll after every change, and Prisma's include would take two compiled statements.
 */
export const OPERATION_WITH_STEPS_SQL = Prisma.sql`
  SELECT o.*, COALESCE((SELECT json_agg(s ORDER BY s.position) FROM operation_steps s WHERE s.operation_id = o.id), '[]'::json) AS steps
  FROM operations o`;

type Raw = Record<string, unknown>;
const maybeDate = (value: unknown): Date | null => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));

export function operationFromRow(row: Raw): OperationWithSteps {
  return {
    id: row.id as string,
    organizationId: row.organization_id as string,
    clusterId: row.cluster_id as string | null,
    type: row.type as OperationWithSteps['type'],
    status: row.status as OperationWithSteps['status'],
    mutating: row.mutating as boolean,
    targetType: row.target_type as string,
    targetId: row.target_id as string,
    params: row.params as Prisma.JsonValue,
    result: (row.result ?? null) as Prisma.JsonValue,
    progress: row.progress as number,
    error: (row.error ?? null) as Prisma.JsonValue,
    attempts: row.attempts as number,
    idempotencyKey: row.idempotency_key as string | null,
    requestedByType: row.requested_by_type as OperationWithSteps['requestedByType'],
    requestedById: row.requested_by_id as string,
    requestId: row.request_id as string | null,
    cancelRequestedAt: maybeDate(row.cancel_requested_at),
    wakeAt: maybeDate(row.wake_at),
    createdAt: maybeDate(row.created_at)!,
    startedAt: maybeDate(row.started_at),
    finishedAt: maybeDate(row.finished_at),
    updatedAt: maybeDate(row.updated_at)!,
    steps: (row.steps as Raw[]).map((s) => ({
      operationId: s.operation_id as string,
      position: s.position as number,
      name: s.name as string,
      status: s.status as OperationWithSteps['steps'][number]['status'],
      attempts: s.attempts as number,
      checkpoint: (s.checkpoint ?? null) as Prisma.JsonValue,
      error: (s.error ?? null) as Prisma.JsonValue,
      wait: (s.wait ?? null) as Prisma.JsonValue,
      retryingSince: maybeDate(s.retrying_since),
      startedAt: maybeDate(s.started_at),
      finishedAt: maybeDate(s.finished_at),
    })),
  };
}
