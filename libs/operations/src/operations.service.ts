import { assertCancellable, canCancel, ConflictError, NotFoundError, operationTransition, type OperationStatus, type OperationType } from '@capstan/domain';
import { Clock, Database, decodeCursor, type Page, toPage, type UnitOfWork } from '@capstan/platform';
import { type Actor, AuditLog } from '@capstan/tenancy';
import { EventsService } from '@capstan/events';
import { Injectable } from '@nestjs/common';
import { operationEvent } from './operation-events';
import { type OperationView, presentOperation } from './operation-view';
import { restoreAnnouncedState } from './announced-state';
import { operationFromRow, operationRef, operationsWithSteps } from './operation-rows';
import { OperationsRepository } from './operations.repository';

export interface OperationFilter {
  organizationId?: string;
  clusterId?: string;
  status?: OperationStatus;
  type?: OperationType;
  /** Only operations created before this instant (RFC 3339): with a pending or running status, the stuck ones. */
  createdBefore?: string;
}

/** Reading, cancelling and (for staff) retrying operations. Running them is the worker's job. */
@Injectable()
export class OperationsService {
  constructor(
    private readonly db: Database,
    private readonly repository: OperationsRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly events: EventsService,
  ) {}

  /** `organizationId` undefined: staff, across organisations. */
  async get(organizationId: string | undefined, id: string): Promise<OperationView & { organization_id: string }> {
    let query = operationsWithSteps(this.db).where('o.id', '=', id);
    if (organizationId !== undefined) query = query.where('o.organization_id', '=', organizationId);
    const row = await query.executeTakeFirst();
    if (!row) throw new NotFoundError('operation', id);
    const op = operationFromRow(row);
    return { ...presentOperation(op), organization_id: op.organizationId };
  }

  async list(filter: OperationFilter, limit: number, cursor?: string): Promise<Page<OperationView & { organization_id: string }>> {
    const before = decodeCursor(cursor, 'op');
    let query = operationsWithSteps(this.db);
    if (filter.organizationId !== undefined) query = query.where('o.organization_id', '=', filter.organizationId);
    if (filter.clusterId !== undefined) query = query.where('o.cluster_id', '=', filter.clusterId);
    if (filter.status !== undefined) query = query.where('o.status', '=', filter.status);
    if (filter.type !== undefined) query = query.where('o.type', '=', filter.type);
    if (filter.createdBefore !== undefined) query = query.where('o.created_at', '<', new Date(filter.createdBefore));
    if (before) query = query.where('o.id', '<', before);
    const rows = await query
      .orderBy('o.id', 'desc')
      .limit(limit + 1)
      .execute();
    return toPage(rows.map(operationFromRow), limit, (op) => ({ ...presentOperation(op), organization_id: op.organizationId }));
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
    const updated = await this.db.transaction().execute(async (trx) => {
      let read = trx.selectFrom('operations').selectAll().where('id', '=', id);
      if (organizationId !== undefined) read = read.where('organization_id', '=', organizationId);
      const row = await read.executeTakeFirst();
      if (!row) throw new NotFoundError('operation', id);
      if (!canCancel(row.status)) {
        throw new ConflictError('operation-finished', `operation ${id} has already finished (${row.status}); there is nothing to cancel`);
      }
      assertCancellable(row.type, id);
      const op = operationRef(row);
      const now = this.clock.now();
      const cancelled = await trx
        .updateTable('operations')
        .set({ status: 'cancelled', cancel_requested_at: now, finished_at: now, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('cancel_requested_at', 'is', null)
        .executeTakeFirst();
      if (cancelled.numUpdatedRows === 1n) {
        await restoreAnnouncedState(trx, op, now);
        // None of its steps ever started.
        await trx.updateTable('operation_steps').set({ status: 'skipped' }).where('operation_id', '=', id).where('status', '=', 'pending').execute();
        await this.events.record(trx, operationEvent(op, 'cancelled'));
        await this.audit.record(trx, {
          organizationId: op.organizationId,
          actor,
          action: 'operation.cancel',
          target: { type: 'operation', id },
          changes: { status: { before: 'pending', after: 'cancelled' } },
          reason,
        });
      } else {
        // A paused operation (needs_attention) has no worker to see the request: it goes back to the
        // workers as `pending` with its cancel asked for, and the claiming worker carries the cancel
        // out at once (compensating what its type undoes), never resuming its steps.
        const paused = await trx
          .updateTable('operations')
          .set({ status: 'pending', cancel_requested_at: now, updated_at: now })
          .where('id', '=', id)
          .where('status', '=', 'needs_attention')
          .where('cancel_requested_at', 'is', null)
          .executeTakeFirst();
        if (paused.numUpdatedRows === 1n) await this.repository.publish(trx, id);
        const requested =
          paused.numUpdatedRows === 1n
            ? paused
            : await trx
                .updateTable('operations')
                .set({ cancel_requested_at: now, updated_at: now })
                .where('id', '=', id)
                .where('status', '=', 'running')
                .where('cancel_requested_at', 'is', null)
                .executeTakeFirst();
        if (requested.numUpdatedRows === 1n) {
          await this.audit.record(trx, {
            organizationId: op.organizationId,
            actor,
            action: 'operation.cancel',
            target: { type: 'operation', id },
            changes: { cancel_requested: { before: false, after: true } },
            reason,
          });
        }
        // Otherwise a cancel was already asked for (asking again changes nothing), or the
        // operation finished meanwhile: the answer below shows which.
      }
      return operationsWithSteps(trx).where('o.id', '=', id).executeTakeFirstOrThrow();
    });
    return presentOperation(operationFromRow(updated));
  }

  /**
   * The customer continues an operation that paused for them (`needs_attention`: a drain a
   * PodDisruptionBudget blocked, once they relaxed it): it goes back to the workers as `pending`
   * and resumes at the step that paused, which looks again at where the provider stands. Anything
   * else is a 409 naming the rule; another organisation's operation is a 404.
   */
  async resume(actor: Actor, organizationId: string, id: string): Promise<OperationView> {
    const updated = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('operations').selectAll().where('id', '=', id).where('organization_id', '=', organizationId).executeTakeFirst();
      if (!row) throw new NotFoundError('operation', id);
      if (row.status !== 'needs_attention' || row.cancel_requested_at !== null) {
        throw new ConflictError(
          'operation-not-resumable',
          row.cancel_requested_at !== null && row.status !== 'cancelled'
            ? `operation ${id} is being cancelled; it cannot be resumed`
            : `operation ${id} is ${row.status}; only an operation that needs attention can be resumed`,
          { rule: 'only needs_attention operations resume', operation_status: row.status },
        );
      }
      operationTransition(row.status, 'pending', id);
      const now = this.clock.now();
      const reset = await trx
        .updateTable('operations')
        // What paused it is no longer the operation's error: a later failure or success says its own.
        .set({ status: 'pending', error: null, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'needs_attention')
        .where('cancel_requested_at', 'is', null)
        .executeTakeFirst();
      if (reset.numUpdatedRows !== 1n) throw new ConflictError('operation-not-resumable', `operation ${id} changed while it was being resumed; read it again`);
      // The step that paused runs again; the ones before it stay done.
      await trx.updateTable('operation_steps').set({ status: 'pending' }).where('operation_id', '=', id).where('status', 'in', ['failed', 'running']).execute();
      const op = operationRef(row);
      await this.repository.publish(trx, id);
      await this.events.record(trx, operationEvent(op, 'pending'));
      await this.audit.record(trx, {
        organizationId: op.organizationId,
        actor,
        action: 'operation.resume',
        target: { type: 'operation', id },
        changes: { status: { before: 'needs_attention', after: 'pending' } },
      });
      return operationsWithSteps(trx).where('o.id', '=', id).executeTakeFirstOrThrow();
    });
    return presentOperation(operationFromRow(updated));
  }

  /** Staff: run a failed or stuck operation again from its first unfinished step. */
  async retry(actor: Actor, id: string, reason: string): Promise<OperationView> {
    const updated = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new NotFoundError('operation', id);
      if (row.status !== 'failed' && row.status !== 'needs_attention') {
        throw new ConflictError('operation-not-retryable', `operation ${id} is ${row.status}; only failed or needs_attention operations can be retried`);
      }
      // A failure that was undone cannot be resumed: the work of its finished steps is gone (or is
      // being deleted by the reconciler as orphans, which would delete what a retry built again).
      const undone = await trx
        .selectFrom('operation_steps')
        .select('position')
        .where('operation_id', '=', id)
        .where('status', '=', 'compensated')
        .limit(1)
        .executeTakeFirst();
      if (undone) {
        throw new ConflictError(
          'operation-not-retryable',
          `operation ${id} failed and what it had built was undone; it cannot be resumed. Make the change again as a new request`,
        );
      }
      // A retry hands the operation back to the workers (`pending`), never `running` directly: only
      // a worker's claim makes it running, under its lease (docs/operations-engine.md).
      operationTransition(row.status, 'pending', id);
      const op = operationRef(row);
      if (op.clusterId) {
        await lockCluster(trx, op.clusterId);
        const active = await this.repository.activeOnCluster(trx, op.clusterId);
        if (active && active.id !== id) {
          throw new ConflictError('cluster-busy', `cluster ${op.clusterId} has operation ${active.id} (${active.type}) in progress`, {
            operation_id: active.id,
          });
        }
      }
      const now = this.clock.now();
      // Guarded by the status read above: a concurrent retry or cancel that got there first wins.
      const reset = await trx
        .updateTable('operations')
        .set({ status: 'pending', finished_at: null, cancel_requested_at: null, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', row.status)
        .executeTakeFirst();
      if (reset.numUpdatedRows !== 1n) throw new ConflictError('operation-not-retryable', `operation ${id} changed while it was being retried; read it again`);
      await trx.updateTable('operation_steps').set({ status: 'pending' }).where('operation_id', '=', id).where('status', 'in', ['failed', 'running']).execute();
      await this.repository.publish(trx, id);
      await this.events.record(trx, operationEvent(op, 'pending'));
      await this.audit.record(trx, {
        organizationId: op.organizationId,
        actor,
        action: 'operation.retry',
        target: { type: 'operation', id },
        changes: { status: { before: row.status, after: 'pending' } },
        reason,
      });
      return operationsWithSteps(trx).where('o.id', '=', id).executeTakeFirstOrThrow();
    });
    return presentOperation(operationFromRow(updated));
  }
}

/** Row lock on a cluster: the way concurrent changes to one cluster are put in line. */
export async function lockCluster(tx: UnitOfWork, clusterId: string): Promise<void> {
  await tx.selectFrom('clusters').select('id').where('id', '=', clusterId).forUpdate().execute();
}
