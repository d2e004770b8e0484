import type { DB, Prisma, UnitOfWork } from '@capstan/platform';
import type { ExpressionBuilder, Selectable } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { OperationWithSteps } from './operation-view';

/**
 * An operation with its ordered steps in ONE statement: GET /v1/operations/{id} is what clients
 * poll after every change, so it stays one round trip (the steps as a JSON array).
 */
export function operationsWithSteps(db: UnitOfWork) {
  return db
    .selectFrom('operations as o')
    .selectAll('o')
    .select((eb: ExpressionBuilder<DB & { o: DB['operations'] }, 'o'>) =>
      jsonArrayFrom(eb.selectFrom('operation_steps as s').selectAll('s').whereRef('s.operation_id', '=', 'o.id').orderBy('s.position')).as('steps'),
    );
}

/** What cancel and retry need of an operation they read (its events, the state it announced), from its row. */
export function operationRef(row: Selectable<DB['operations']>) {
  return {
    id: row.id,
    organizationId: row.organization_id,
    clusterId: row.cluster_id,
    type: row.type,
    targetType: row.target_type,
    targetId: row.target_id,
    params: row.params,
  };
}

/** JSON carries timestamps as strings; the operation's own columns come back as Dates. */
const maybeDate = (value: unknown): Date | null => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));

/** A row of `operationsWithSteps`: the operation's columns, and its steps as JSON (timestamps as strings). */
export type OperationWithStepsRow = Awaited<ReturnType<ReturnType<typeof operationsWithSteps>['executeTakeFirstOrThrow']>>;

export function operationFromRow(row: OperationWithStepsRow): OperationWithSteps {
  return {
    id: row.id,
    organizationId: row.organization_id,
    clusterId: row.cluster_id,
    type: row.type,
    status: row.status,
    mutating: row.mutating,
    targetType: row.target_type,
    targetId: row.target_id,
    params: row.params as Prisma.JsonValue,
    result: (row.result ?? null) as Prisma.JsonValue,
    progress: row.progress,
    error: (row.error ?? null) as Prisma.JsonValue,
    attempts: row.attempts,
    idempotencyKey: row.idempotency_key,
    requestedByType: row.requested_by_type,
    requestedById: row.requested_by_id,
    requestId: row.request_id,
    cancelRequestedAt: maybeDate(row.cancel_requested_at),
    wakeAt: maybeDate(row.wake_at),
    createdAt: maybeDate(row.created_at)!,
    startedAt: maybeDate(row.started_at),
    finishedAt: maybeDate(row.finished_at),
    updatedAt: maybeDate(row.updated_at)!,
    steps: row.steps.map((s) => ({
      operationId: s.operation_id,
      position: s.position,
      name: s.name,
      status: s.status,
      attempts: s.attempts,
      checkpoint: (s.checkpoint ?? null) as Prisma.JsonValue,
      error: (s.error ?? null) as Prisma.JsonValue,
      wait: (s.wait ?? null) as Prisma.JsonValue,
      retryingSince: maybeDate(s.retrying_since),
      startedAt: maybeDate(s.started_at),
      finishedAt: maybeDate(s.finished_at),
    })),
  };
}
