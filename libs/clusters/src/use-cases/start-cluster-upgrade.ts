import { assertClusterAccepts, clusterStatusDuring } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { presentCluster } from '../cluster-view';

/** What the upgrades feature planned for the locked cluster. */
export interface PlannedClusterUpgrade {
  /** The version the cluster is to reach (its desired version from now on). */
  target: string;
  /** The operation's step names, computed from the plan. */
  steps: readonly string[];
  /** What the steps need (the work of each named step), kept as the operation's params. */
  params: Record<string, unknown>;
  /** The audit action; `cluster.upgrade` unless said otherwise (a rollback says `cluster.rollback`). */
  action?: string;
  /** Not to start before this time (the next maintenance window): the operation waits pending. */
  notBefore?: Date;
}

/**
 * Starts an `upgrade_cluster` operation (public to other features: docs/architecture.md,
 * "Feature-to-feature calls"). The plan is computed by the caller *under the cluster's lock*, from
 * the cluster as locked, so it cannot be planned from versions an operation finishing meanwhile
 * changed; the state machine and the one-mutating-operation rule are checked first.
 */
@Injectable()
export class StartClusterUpgrade {
  constructor(private readonly unitOfWork: ClusterUnitOfWork) {}

  execute(requester: Requester, clusterId: string, plan: (cluster: ReturnType<typeof presentCluster>) => PlannedClusterUpgrade) {
    return this.unitOfWork.run(requester, { clusterId }, async ({ trx, cluster, active, enqueue, audit }) => {
      const before = cluster!;
      assertClusterAccepts(before, 'upgrade_cluster', active);
      const planned = plan(presentCluster(before));
      const status = clusterStatusDuring('upgrade_cluster');
      await trx
        .updateTable('clusters')
        .set({ status, desired_version: planned.target, resource_version: sql<number>`resource_version + 1`, updated_at: new Date() })
        .where('id', '=', clusterId)
        .execute();
      const op = await enqueue({
        clusterId,
        type: 'upgrade_cluster',
        target: { type: 'cluster', id: clusterId },
        params: { ...planned.params, previousClusterStatus: before.status },
        steps: planned.steps,
        notBefore: planned.notBefore,
      });
      await audit({
        action: planned.action ?? 'cluster.upgrade',
        target: { type: 'cluster', id: clusterId },
        changes: {
          version: { before: before.current_version, after: planned.target },
          status: { before: before.status, after: status },
          ...(planned.notBefore ? { not_before: { after: planned.notBefore.toISOString() } } : {}),
        },
      });
      return { operation: presentOperation(op) };
    });
  }
}
