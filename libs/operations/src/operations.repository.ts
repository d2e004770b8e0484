import { ACTIVE_OPERATION_STATUSES, isEnqueueable, type OperationType, plannedSteps, stepKindOf, stepKinds } from '@capstan/domain';
import { Clock, type DB, jsonb, Metrics, newId, type Prisma, RequestContext, type UnitOfWork } from '@capstan/platform';
import { type QueryCreator, sql } from 'kysely';
import { withEvent } from '@capstan/events';
import { Injectable } from '@nestjs/common';
import { operationEvent } from './operation-events';
import type { OperationWithSteps } from './operation-view';

export const OPERATIONS_TOPIC = 'operations';
export const OUTBOX_CHANNEL = 'capstan_outbox';

/** What a NOTIFY on OUTBOX_CHANNEL says: the message written, enough to relay it unread. */
export interface OutboxNotice {
  /** outbox_messages.id, as text (a bigint). */
  id: string;
  operationId: string;
  requestId: string | null;
}

export interface NewOperation {
  organizationId: string;
  clusterId: string | null;
  type: OperationType;
  target: { type: string; id: string };
  params?: Record<string, unknown>;
  requestedBy: { type: 'api_token' | 'staff_user' | 'staff_token' | 'system'; id: string };
  idempotencyKey?: string;
  mutating?: boolean;
  /** A plan computed for this operation (step names, `kind` or `kind:what`); the type's fixed plan otherwise. */
  steps?: readonly string[];
  /** Not to start before this time (`start: next_window`): kept as the pending operation's `wake_at`. */
  notBefore?: Date;
}

/**
 * Operations are born inside the transaction of the change that needs them, together with their
 * planned steps and an outbox message (docs/operations-engine.md, "The outbox relay"): if the change commits, the work is
 * recorded and will be delivered; if it rolls back, neither exists. Every method takes the
 * caller's unit of work (docs/architecture.md, Data access).
 */
@Injectable()
export class OperationsRepository {
  constructor(
    private readonly context: RequestContext,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  async enqueue(tx: UnitOfWork, input: NewOperation): Promise<OperationWithSteps> {
    // The worker's boot check covers the enqueueable types only (docs/operations-engine.md).
    if (!isEnqueueable(input.type))
      throw new Error(`operation type ${input.type} is not enqueueable: add it to ENQUEUEABLE_OPERATION_TYPES with its step handlers`);
    const id = newId('op');
    const names = [...(input.steps ?? plannedSteps(input.type))];
    // The boot check covers the kinds a type can have, so a computed plan may hold only those.
    const unknown = names.filter((name) => !stepKinds(input.type).includes(stepKindOf(name)));
    if (unknown.length > 0) throw new Error(`${input.type} has no step kind for ${unknown.join(', ')}`);
    const params = input.params ?? {};
    const requestId = this.context.requestId;
    const event = operationEvent(
      { id, organizationId: input.organizationId, clusterId: input.clusterId, type: input.type, targetType: input.target.type, targetId: input.target.id },
      'pending',
    );
    // The operation, its planned steps, its `pending` event and its outbox message (with the
    // notification that carries it) in ONE statement: this runs inside every create, scale and
    // delete transaction, while the organisation's or cluster's row lock is held, so each round
    // trip saved here is one less that every other change of the organisation waits behind.
    const operationAndSteps = tx
      .with('operation', (q) =>
        q
          .insertInto('operations')
          .values({
            id,
            organization_id: input.organizationId,
            cluster_id: input.clusterId,
            type: input.type,
            mutating: input.mutating ?? true,
            target_type: input.target.type,
            target_id: input.target.id,
            params: jsonb(params),
            idempotency_key: input.idempotencyKey ?? null,
            requested_by_type: input.requestedBy.type,
            requested_by_id: input.requestedBy.id,
            request_id: requestId,
            wake_at: input.notBefore ?? null,
            updated_at: sql<Date>`now()`,
          })
          .returning(['created_at', 'updated_at']),
      )
      .with('steps', (q) =>
        q
          .insertInto('operation_steps')
          .columns(['operation_id', 'position', 'name'])
          .expression(sql`SELECT ${id}::text, step.ord - 1, step.name FROM unnest(${names}::text[]) WITH ORDINALITY AS step(name, ord)`),
      );
    const inserted = await withEvent(this.withMessage(operationAndSteps, id), event, this.clock.now(), sql<boolean>`true`)
      .selectFrom(['operation', 'message'])
      .select(['operation.created_at', 'operation.updated_at', this.notification(id)])
      .executeTakeFirstOrThrow();
    // Counted when written: a transaction rolled back after this (the change it carries failed a
    // later check: a cluster create refused for its quota or residency, which it checks last,
    // under the organisation's lock) counts once too often, never too seldom.
    this.metrics.operationsEnqueued.inc({ type: input.type });
    const operation: OperationWithSteps = {
      id,
      organizationId: input.organizationId,
      clusterId: input.clusterId,
      type: input.type,
      status: 'pending',
      mutating: input.mutating ?? true,
      targetType: input.target.type,
      targetId: input.target.id,
      params: params as Prisma.JsonValue,
      result: null,
      progress: 0,
      error: null,
      attempts: 0,
      idempotencyKey: input.idempotencyKey ?? null,
      requestedByType: input.requestedBy.type,
      requestedById: input.requestedBy.id,
      requestId,
      cancelRequestedAt: null,
      wakeAt: input.notBefore ?? null,
      createdAt: inserted.created_at,
      startedAt: null,
      finishedAt: null,
      updatedAt: inserted.updated_at,
      steps: names.map((name, position) => ({
        operationId: id,
        position,
        name,
        status: 'pending',
        attempts: 0,
        checkpoint: null,
        error: null,
        wait: null,
        retryingSince: null,
        startedAt: null,
        finishedAt: null,
      })),
    };
    return operation;
  }

  /** Hands the operation (again) to the workers; the job id is the operation id, so never twice. */
  async publish(tx: UnitOfWork, operationId: string): Promise<void> {
    await this.withMessage(tx, operationId).selectFrom('message').select(this.notification(operationId)).execute();
  }

  /**
   * The outbox message as a CTE (`message`) of the statement that makes the operation's change.
   * NOTIFY is transactional: the relay hears of it when (and only if) the change commits.
   */
  private withMessage<C>(creator: QueryCreator<DB & C>, operationId: string) {
    return (creator as unknown as QueryCreator<DB>).with('message', (q) =>
      q
        .insertInto('outbox_messages')
        .values({
          topic: OPERATIONS_TOPIC,
          dedupe_key: operationId,
          payload: jsonb({ operationId, requestId: this.context.requestId ?? null }),
          // When the message was written, near the commit: not the transaction's start (now()),
          // which can be long before, after waits on the organisation's or cluster's row lock.
          created_at: sql<Date>`clock_timestamp()`,
        })
        .returning('id'),
    ) as unknown as QueryCreator<DB & C & { message: { id: bigint } }>;
  }

  /**
   * The NOTIFY, selected from the `message` CTE: it carries the message (`OutboxNotice`), so the
   * relay puts the job in BullMQ at once, without reading the outbox first.
   */
  private notification(operationId: string) {
    const requestId = this.context.requestId ?? null;
    return sql<string>`pg_notify(${OUTBOX_CHANNEL}, json_build_object('id', message.id::text, 'operationId', ${operationId}::text, 'requestId', ${requestId}::text)::text)::text`.as(
      'notified',
    );
  }

  /**
   * The active mutating operation on a cluster, if any. Call it after locking the cluster row
   * (SELECT ... FOR UPDATE), so two requests cannot both find none.
   */
  async activeOnCluster(tx: UnitOfWork, clusterId: string): Promise<{ id: string; type: OperationType } | null> {
    const row = await tx
      .selectFrom('operations')
      .select(['id', 'type'])
      .where('cluster_id', '=', clusterId)
      .where('mutating', '=', true)
      .where('status', 'in', [...ACTIVE_OPERATION_STATUSES])
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row ?? null;
  }
}
