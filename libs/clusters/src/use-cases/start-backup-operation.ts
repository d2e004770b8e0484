import { assertClusterAccepts, type ClusterStatus } from '@capstan/domain';
import { type OperationWithSteps, presentOperation } from '@capstan/operations';
import type { UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { type ClusterView, presentCluster } from '../cluster-view';

/** What the backups feature decided for the locked cluster. */
export interface PlannedBackupWork {
  type: 'create_backup' | 'restore_backup';
  /** The status the cluster shows while the work runs; null leaves it as it is. */
  status: ClusterStatus | null;
  target: { type: string; id: string };
  params: Record<string, unknown>;
  audit: { action: string; target: { type: string; id: string }; changes: Record<string, { before?: unknown; after?: unknown }> };
  /** Runs in the same transaction once the operation exists (e.g. to record its id on the backup). */
  enqueued?(operationId: string, trx: UnitOfWork): Promise<void>;
}

/**
 * Starts a `create_backup` or `restore_backup` operation on a cluster (public to other features:
 * docs/architecture.md, "Feature-to-feature calls"). Under the cluster's lock, with the state
 * machine and the one-mutating-operation rule checked first, `plan` sees the cluster as locked and
 * writes its own rows in the same transaction (`trx`), so a backup row exists if and only if its
 * operation does.
 */
@Injectable()
export class StartBackupOperation {
  constructor(private readonly unitOfWork: ClusterUnitOfWork) {}

  execute(
    requester: Requester,
    clusterId: string,
    type: PlannedBackupWork['type'],
    plan: (cluster: ClusterView, trx: UnitOfWork) => Promise<PlannedBackupWork>,
  ) {
    return this.unitOfWork.run(requester, { clusterId }, async ({ trx, cluster, active, enqueue, audit }) => {
      const before = cluster!;
      assertClusterAccepts(before, type, active);
      const work = await plan(presentCluster(before), trx);
      if (work.status && work.status !== before.status) {
        await trx
          .updateTable('clusters')
          .set({ status: work.status, resource_version: sql<number>`resource_version + 1`, updated_at: new Date() })
          .where('id', '=', clusterId)
          .where('status', '=', before.status)
          .execute();
      }
      const op: OperationWithSteps = await enqueue({
        clusterId,
        type: work.type,
        target: work.target,
        // A cancel puts the status back (restoreAnnouncedState).
        params: { ...work.params, previousClusterStatus: before.status },
      });
      await work.enqueued?.(op.id, trx);
      await audit({
        ...work.audit,
        changes:
          work.status && work.status !== before.status ? { ...work.audit.changes, status: { before: before.status, after: work.status } } : work.audit.changes,
      });
      return { operation: presentOperation(op) };
    });
  }
}
