import { assertClusterAccepts, type OperationType } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import type { UnitOfWork } from '@capstan/platform';
import type { AuditEntry } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { presentCluster } from '../cluster-view';

/** What another feature's change writes under the cluster's lock. */
export interface PlannedClusterOperation {
  steps: readonly string[];
  params: Record<string, unknown>;
  audit: Pick<AuditEntry, 'action' | 'target' | 'changes'>;
}

/**
 * Starts an operation of another feature that leaves the cluster's own status as it is (today:
 * `update_addons`, libs/addons) — public to other features (docs/architecture.md,
 * "Feature-to-feature calls"). Under the cluster's row lock: the state machine and the
 * one-mutating-operation rule, then `work` writes the feature's own rows in the same transaction
 * (through the UnitOfWork it is given) and says what the operation is; its outbox message, event
 * and audit event go in that transaction too.
 */
@Injectable()
export class StartClusterOperation {
  constructor(private readonly unitOfWork: ClusterUnitOfWork) {}

  execute(
    requester: Requester,
    clusterId: string,
    type: Extract<OperationType, 'update_addons'>,
    work: (trx: UnitOfWork, cluster: ReturnType<typeof presentCluster>) => Promise<PlannedClusterOperation>,
  ) {
    return this.unitOfWork.run(requester, { clusterId }, async ({ trx, cluster, active, enqueue, audit }) => {
      const before = cluster!;
      assertClusterAccepts(before, type, active);
      const planned = await work(trx, presentCluster(before));
      const op = await enqueue({
        clusterId,
        type,
        target: { type: 'cluster', id: clusterId },
        params: { ...planned.params, previousClusterStatus: before.status },
        steps: planned.steps,
      });
      await audit(planned.audit);
      return { operation: presentOperation(op) };
    });
  }
}
