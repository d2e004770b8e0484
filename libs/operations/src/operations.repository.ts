import { ACTIVE_OPERATION_STATUSES, isEnqueueable, type OperationType, plannedSteps } from '@capstan/domain';
import { newId, type Prisma, type PrismaTx, type RawTx, RequestContext } from '@capstan/platform';
import { EventsService } from '@capstan/events';
import { Injectable } from '@nestjs/common';
import { operationEvent } from './operation-events';
import type { OperationWithSteps } from './operation-view';

export const OPERATIONS_TOPIC = 'operations';
export const OUTBOX_CHANNEL = 'capstan_outbox';

export interface NewOperation {
  organizationId: string;
  clusterId: string | null;
  type: OperationType;
  target: { type: string; id: string };
  params?: Record<string, unknown>;
  requestedBy: { type: 'api_token' | 'staff_user' | 'staff_token' | 'system'; id: string };
  idempotencyKey?: string;
  mutating?: boolean;
}

/**
 * Operations are born inside the transaction of the change that needs them, together with their
 * planned steps and an outbox message (DESIGN.md invariant 1): if the change commits, the work is
 * recorded and will be delivered; if it rolls back, neither exists.
 */
@Injectable()
export class OperationsRepository {
  constructor(
    private readonly context: RequestContext,
    private readonly events: EventsService,
  ) {}

  async enqueue(tx: RawTx, input: NewOperation): Promise<OperationWithSteps> {
    // The worker's boot check covers the enqueueable types only (docs/operations-engine.md).
    if (!isEnqueueable(input.type)) throw new Error(`operation type ${input.type} is not enqueueable: add it to ENQUEUEABLE_OPERATION_TYPES with its step handlers`);
    const id = newId('op');
    const names = [...plannedSteps(input.type)];
    const params = input.params ?? {};
    const requestId = this.context.requestId;
    // The operation and its planned steps in one statement: this runs inside every create, scale
    // and delete transaction, while the organisation's or cluster's row lock is held.
    const [inserted] = await tx.$queryRaw<{ created_at: Date; updated_at: Date }[]>`
      WITH operation AS (
        INSERT INTO operations (id, organization_id, cluster_id, type, mutating, target_type, target_id, params, idempotency_key,
                                requested_by_type, requested_by_id, request_id, updated_at)
        VALUES (${id}, ${input.organizationId}, ${input.clusterId}, ${input.type}::"OperationType", ${input.mutating ?? true},
                ${input.target.type}, ${input.target.id}, ${JSON.stringify(params)}::jsonb, ${input.idempotencyKey ?? null},
                ${input.requestedBy.type}::"ActorType", ${input.requestedBy.id}, ${requestId}, now())
        RETURNING created_at, updated_at
      ), steps AS (
        INSERT INTO operation_steps (operation_id, position, name)
        SELECT ${id}, step.ord - 1, step.name FROM unnest(${names}::text[]) WITH ORDINALITY AS step(name, ord)
      )
      SELECT created_at, updated_at FROM operation`;
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
      wakeAt: null,
      createdAt: inserted!.created_at,
      startedAt: null,
      finishedAt: null,
      updatedAt: inserted!.updated_at,
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
    await this.events.record(tx, operationEvent(operation, 'pending'));
    await this.publish(tx, id);
    return operation;
  }

  /** Hands the operation (again) to the workers; the job id is the operation id, so never twice. */
  async publish(tx: RawTx, operationId: string): Promise<void> {
    // One statement; NOTIFY is transactional: the relay wakes when (and only if) this commits.
    await tx.$queryRaw`
      WITH message AS (
        INSERT INTO outbox_messages (topic, dedupe_key, payload)
        VALUES (${OPERATIONS_TOPIC}, ${operationId}, ${JSON.stringify({ operationId, requestId: this.context.requestId })}::jsonb)
        RETURNING id
      )
      SELECT pg_notify(${OUTBOX_CHANNEL}, '')::text FROM message`;
  }

  /**
   * The active mutating operation on a cluster, if any. Call it after locking the cluster row
   * (SELECT ... FOR UPDATE), so two requests cannot both find none.
   */
  async activeOnCluster(tx: PrismaTx, clusterId: string): Promise<{ id: string; type: OperationType } | null> {
    return tx.operation.findFirst({
      where: { clusterId, mutating: true, status: { in: [...ACTIVE_OPERATION_STATUSES] } },
      select: { id: true, type: true },
      orderBy: { id: 'asc' },
    });
  }
}
