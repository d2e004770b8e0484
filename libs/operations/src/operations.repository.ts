import { ACTIVE_OPERATION_STATUSES, type OperationType, plannedSteps } from '@capstan/domain';
import { newId, type PrismaTx, RequestContext } from '@capstan/platform';
import { EventsService } from '@capstan/events';
import { Injectable } from '@nestjs/common';
import { operationEvent } from './operation-events';
import { type OperationWithSteps, withSteps } from './operation-view';

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

  async enqueue(tx: PrismaTx, input: NewOperation): Promise<OperationWithSteps> {
    const id = newId('op');
    const operation = await tx.operation.create({
      data: {
        id,
        organizationId: input.organizationId,
        clusterId: input.clusterId,
        type: input.type,
        mutating: input.mutating ?? true,
        targetType: input.target.type,
        targetId: input.target.id,
        params: (input.params ?? {}) as object,
        idempotencyKey: input.idempotencyKey,
        requestedByType: input.requestedBy.type,
        requestedById: input.requestedBy.id,
        requestId: this.context.requestId,
        steps: { create: plannedSteps(input.type).map((name, position) => ({ position, name })) },
      },
      include: withSteps,
    });
    await this.events.record(tx, operationEvent(operation, 'pending'));
    await this.publish(tx, id);
    return operation;
  }

  /** Hands the operation (again) to the workers; the job id is the operation id, so never twice. */
  async publish(tx: PrismaTx, operationId: string): Promise<void> {
    await tx.outboxMessage.create({
      data: { topic: OPERATIONS_TOPIC, dedupeKey: operationId, payload: { operationId, requestId: this.context.requestId } },
    });
    // NOTIFY is transactional: the relay wakes when (and only if) this transaction commits.
    await tx.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`;
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
