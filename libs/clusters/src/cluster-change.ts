import type { OperationType } from '@capstan/domain';
import { type NewOperation, OperationsRepository, type OperationWithSteps } from '@capstan/operations';
import { Database, type TransactionOf } from '@capstan/platform';
import { type Actor, type AuditEntry, AuditLog, lockOrganization } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import type { ClusterWithRelations } from './cluster-view';
import { ClustersRepository } from './clusters.repository';

/** Who asks for a change, and the Idempotency-Key their request carried. */
export interface Requester {
  organizationId: string;
  actor: Actor;
  idempotencyKey?: string;
}

/** What a change holds while it runs: its transaction, the rows it locked, and how to record itself. */
export interface ClusterChange {
  trx: TransactionOf;
  /** The organisation's quota and residency, when the change was asked to lock it. */
  organization?: OrganizationLimits;
  /** The cluster, locked, when the change names one. */
  cluster?: ClusterWithRelations;
  /** The operation that already changes this cluster, if any (read under the cluster's lock). */
  active: { id: string; type: OperationType } | null;
  /** The change's operation, its outbox message and its event, in this transaction. */
  enqueue(operation: Pick<NewOperation, 'clusterId' | 'type' | 'target' | 'params' | 'steps' | 'notBefore'>): Promise<OperationWithSteps>;
  /** The change's audit event, in this transaction. */
  audit(entry: Pick<AuditEntry, 'action' | 'target' | 'changes' | 'reason'>): Promise<void>;
  /**
   * The organisation's row lock taken as the transaction's last step, for a change that has only
   * added rows no other transaction can see yet (a cluster create); see ClusterUnitOfWork.
   */
  lockOrganizationLast(): Promise<OrganizationLimits>;
}

export type OrganizationLimits = { residency: string; max_clusters: number; max_nodes: number };

/**
 * The one shape of every cluster and node-pool change (docs/architecture.md, "Locks and units of
 * work"): one transaction; the organisation's row first when the change counts against its quota,
 * then the cluster's row; the domain checks; the change, its operation, outbox message, event and
 * audit event written in that transaction; the presented result. One lock order everywhere, so
 * two changes can never wait on each other in opposite orders.
 *
 * The one exception is a cluster create, which locks no cluster and only adds rows that no other
 * transaction can see until it commits: it writes everything first and takes the organisation's
 * lock last (`lockOrganizationLast`), right before its quota count and COMMIT. Creates of one
 * organisation then queue on that lock for two statements, not for the whole transaction. It
 * cannot deadlock: what it holds before asking (its own invisible rows, and the key-share locks
 * its inserts take on the organisation's row, which the NO KEY UPDATE lock does not conflict
 * with) is nothing another change ever waits for.
 */
@Injectable()
export class ClusterUnitOfWork {
  constructor(
    private readonly db: Database,
    private readonly clusters: ClustersRepository,
    private readonly operations: OperationsRepository,
    private readonly auditLog: AuditLog,
  ) {}

  run<T>(requester: Requester, locks: { organization?: boolean; clusterId?: string }, work: (change: ClusterChange) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const organization = locks.organization ? await lockOrganization(trx, requester.organizationId) : undefined;
      const cluster = locks.clusterId ? await this.clusters.getForUpdate(trx, requester.organizationId, locks.clusterId) : undefined;
      // Read under the cluster's row lock, so two requests cannot both find none.
      const active = cluster ? await this.operations.activeOnCluster(trx, cluster.id) : null;
      return work({
        trx,
        organization,
        cluster,
        active,
        enqueue: (operation) =>
          this.operations.enqueue(trx, {
            ...operation,
            organizationId: requester.organizationId,
            requestedBy: requester.actor,
            idempotencyKey: requester.idempotencyKey,
          }),
        audit: (entry) => this.auditLog.record(trx, { ...entry, organizationId: requester.organizationId, actor: requester.actor }),
        lockOrganizationLast: () => {
          // Taken first, or after a cluster's row, it would break the lock order instead.
          if (organization || cluster) throw new Error('lockOrganizationLast is for changes that lock nothing else');
          return lockOrganization(trx, requester.organizationId);
        },
      });
    });
  }
}
