import { canCancel, ConflictError, NotFoundError, type OperationStatus, type OperationType } from '@capstan/domain';
import { Clock, decodeCursor, type Page, Prisma, type PrismaTx, PrismaService, Sql, toPage } from '@capstan/platform';
import { type Actor, AuditLog } from '@capstan/tenancy';
import { EventsService } from '@capstan/events';
import { Injectable } from '@nestjs/common';
import { operationEvent } from './operation-events';
import { type OperationView, presentOperation, withSteps } from './operation-view';
import { restoreAnnouncedState } from './announced-state';
import { OPERATION_WITH_STEPS_SQL, operationFromRow } from './operation-rows';
import { OperationsRepository } from './operations.repository';

export interface OperationFilter {
  organizationId?: string;
  clusterId?: string;
  status?: OperationStatus;
  type?: OperationType;
}

/** Reading, cancelling and (for staff) retrying operations. Running them is the worker's job. */
@Injectable()
export class OperationsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repository: OperationsRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly events: EventsService,
    private readonly sql: Sql,
  ) {}

  /** `organizationId` undefined: staff, across organisations. */
  async get(organizationId: string | undefined, id: string): Promise<OperationView & { organization_id: string }> {
    // Plain pg (see Sql): clients poll this after every change.
    const [row] = await this.sql.rows<Record<string, unknown>>(Prisma.sql`${OPERATION_WITH_STEPS_SQL}
      WHERE o.id = ${id} ${organizationId === undefined ? Prisma.empty : Prisma.sql`AND o.organization_id = ${organizationId}`}`);
    if (!row) throw new NotFoundError('operation', id);
    const op = operationFromRow(row);
    return { ...presentOperation(op), organization_id: op.organizationId };
  }

  async list(filter: OperationFilter, limit: number, cursor?: string): Promise<Page<OperationView & { organization_id: string }>> {
    const before = decodeCursor(cursor);
    const rows = await this.prisma.operation.findMany({
      where: { organizationId: filter.organizationId, clusterId: filter.clusterId, status: filter.status, type: filter.type, ...(before ? { id: { lt: before } } : {}) },
      include: withSteps,
      orderBy: { id: 'desc' },
      take: limit + 1,
    });
    return toPage(rows, limit, (op) => ({ ...presentOperation(op), organization_id: op.organizationId }));
  }

  /**
   * A pending operation is cancelled at once and what it announced is undone (a cluster that was
   * never created is gone, a busy status goes back, its steps are `skipped`). A running one is
   * asked to stop at its next step boundary, where the worker compensates what reached the cloud.
   *
   * The status is decided by guarded writes, not by what was read: a worker claiming the operation
   * at the same moment either claims first (the pending-only write changes nothing and the cancel
   * becomes a request the worker honours) or finds it cancelled (its claim, guarded by
   * pending/running, changes nothing). Each outcome is one statement that either wins or does not.
   */
  async cancel(actor: Actor, organizationId: string | undefined, id: string, reason?: string): Promise<OperationView> {
    const updated = await this.prisma.$transaction(async (tx) => {
      const op = await tx.operation.findFirst({ where: { id, organizationId } });
      if (!op) throw new NotFoundError('operation', id);
      if (!canCancel(op.status)) {
        throw new ConflictError('operation-finished', `operation ${id} has already finished (${op.status}); there is nothing to cancel`);
      }
      const now = this.clock.now();
      const cancelled = await tx.operation.updateMany({
        where: { id, status: 'pending', cancelRequestedAt: null },
        data: { status: 'cancelled', cancelRequestedAt: now, finishedAt: now },
      });
      if (cancelled.count === 1) {
        await restoreAnnouncedState(tx, op, now);
        // None of its steps ever started.
        await tx.operationStep.updateMany({ where: { operationId: id, status: 'pending' }, data: { status: 'skipped' } });
        await this.events.record(tx, operationEvent(op, 'cancelled'));
        await this.audit.record(tx, { organizationId: op.organizationId, actor, action: 'operation.cancel', target: { type: 'operation', id }, changes: { status: { before: 'pending', after: 'cancelled' } }, reason });
      } else {
        const requested = await tx.operation.updateMany({
          where: { id, status: { in: ['running', 'needs_attention'] }, cancelRequestedAt: null },
          data: { cancelRequestedAt: now },
        });
        if (requested.count === 1) {
          await this.audit.record(tx, { organizationId: op.organizationId, actor, action: 'operation.cancel', target: { type: 'operation', id }, changes: { cancel_requested: { before: false, after: true } }, reason });
        }
        // Otherwise a cancel was already asked for (asking again changes nothing), or the
        // operation finished meanwhile: the answer below shows which.
      }
      return tx.operation.findUniqueOrThrow({ where: { id }, include: withSteps });
    });
    return presentOperation(updated);
  }

  /** Staff: run a failed or stuck operation again from its first unfinished step. */
  async retry(actor: Actor, id: string, reason: string): Promise<OperationView> {
    const updated = await this.prisma.$transaction(async (tx) => {
      const op = await tx.operation.findUnique({ where: { id } });
      if (!op) throw new NotFoundError('operation', id);
      if (op.status !== 'failed' && op.status !== 'needs_attention') {
        throw new ConflictError('operation-not-retryable', `operation ${id} is ${op.status}; only failed or needs_attention operations can be retried`);
      }
      if (op.clusterId) {
        await lockCluster(tx, op.clusterId);
        const active = await this.repository.activeOnCluster(tx, op.clusterId);
        if (active && active.id !== id) {
          throw new ConflictError('cluster-busy', `cluster ${op.clusterId} has operation ${active.id} (${active.type}) in progress`, { operation_id: active.id });
        }
      }
      await tx.operation.update({ where: { id }, data: { status: 'pending', error: undefined, finishedAt: null, cancelRequestedAt: null } });
      await tx.operationStep.updateMany({ where: { operationId: id, status: { in: ['failed', 'running'] } }, data: { status: 'pending' } });
      await this.repository.publish(tx, id);
      await this.events.record(tx, operationEvent(op, 'pending'));
      await this.audit.record(tx, { organizationId: op.organizationId, actor, action: 'operation.retry', target: { type: 'operation', id }, changes: { status: { before: op.status, after: 'pending' } }, reason });
      return tx.operation.findUniqueOrThrow({ where: { id }, include: withSteps });
    });
    return presentOperation(updated);
  }
}

/** Row lock on a cluster: the way concurrent changes to one cluster are put in line. */
export async function lockCluster(tx: PrismaTx, clusterId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM clusters WHERE id = ${clusterId} FOR UPDATE`;
}
