import { ConflictError, type PoolRollback, rollbackOperationSteps, stepKindOf, type UpgradeOperationParams } from '@capstan/domain';
import { OperationsService } from '@capstan/operations';
import { Injectable } from '@nestjs/common';
import { UpgradeClusterSource, type UpgradeRequester } from '../upgrade-cluster-source';

/**
 * POST /v1/operations/{operation_id}/rollback (docs/upgrades.md, "Rolling a pool back"): the node
 * pools a failed or cancelled upgrade left half-way go back to the version Capstan recorded for
 * them (a pool's version is written only once it is reached), while the control plane stays: the
 * skew policy allows nodes one minor behind. A control plane is never rolled back this way; its
 * failure names the backup taken before the hop instead. Runs as an `upgrade_cluster` operation
 * under the cluster's lock, audited as `cluster.rollback`.
 */
@Injectable()
export class RollbackUpgrade {
  constructor(
    private readonly operations: OperationsService,
    private readonly source: UpgradeClusterSource,
  ) {}

  async execute(requester: UpgradeRequester, operationId: string) {
    const op = await this.operations.get(requester.organizationId, operationId);
    const refuse = (detail: string, extensions: Record<string, unknown> = {}) =>
      new ConflictError('operation-not-rollbackable', detail, { rule: 'only the node pools of a failed or cancelled upgrade roll back', ...extensions });
    if (op.type !== 'upgrade_cluster' || !op.cluster_id) throw refuse(`operation ${operationId} is ${op.type}, not an upgrade`);
    if (op.status !== 'failed' && op.status !== 'cancelled')
      throw refuse(
        `operation ${operationId} is ${op.status}; only a failed or cancelled upgrade rolls back${op.status === 'needs_attention' ? ' (resume or cancel it first)' : ''}`,
        { operation_status: op.status },
      );
    // A later upgrade of the cluster that succeeded (this one's rollback, or a new upgrade) moved
    // its pools since: they are no longer where this operation left them, and its steps say nothing
    // of where they are now.
    const [newest] = (
      await this.operations.list({ organizationId: requester.organizationId, clusterId: op.cluster_id, type: 'upgrade_cluster', status: 'succeeded' }, 1)
    ).items;
    if (newest && newest.id > operationId)
      throw refuse(`operation ${operationId} was followed by ${newest.id}, which succeeded: its node pools are no longer where ${operationId} left them`, {
        superseded_by: newest.id,
      });
    // Pool steps that reached the provider and did not finish: their rollouts may be half-way.
    const unfinished = op.steps.filter((s) => stepKindOf(s.name) === 'upgrade_node_pool' && s.started_at !== null && s.status !== 'succeeded');
    if (unfinished.length === 0) {
      const controlPlane = op.steps.find((s) => stepKindOf(s.name) === 'upgrade_control_plane' && s.status === 'failed');
      if (controlPlane) {
        const backup = (op.error as { backup_before_hop?: unknown } | null)?.backup_before_hop ?? null;
        throw new ConflictError(
          'control-plane-not-rolled-back',
          `operation ${operationId} failed at ${controlPlane.name}; a control plane is not rolled back: restore the backup taken before the hop${backup ? '' : ' (none was taken)'}`,
          { rule: 'a control plane goes back only by restoring the backup taken before its hop', backup_before_hop: backup },
        );
      }
      throw refuse(`operation ${operationId} left no node pool half-way; there is nothing to roll back`);
    }
    const names = unfinished.map((s) => ({ pool: s.name.split(':')[1]!, target: s.name.split(':').slice(2).join(':') }));
    return this.source.startUpgrade(requester, op.cluster_id, (locked) => {
      const pools: PoolRollback[] = names.map(({ pool, target }) => {
        const found = locked.pools.find((p) => p.name === pool);
        if (!found) throw refuse(`node pool ${pool} of operation ${operationId} no longer exists`);
        return { poolId: found.id, pool, from: target, to: found.version };
      });
      const steps = rollbackOperationSteps(operationId, pools, locked.controlPlaneVersion);
      const params: Omit<UpgradeOperationParams, 'previousClusterStatus'> = {
        from: locked.controlPlaneVersion,
        target: locked.controlPlaneVersion,
        steps,
        rollbackOf: operationId,
      };
      return { target: locked.controlPlaneVersion, steps: steps.map((s) => s.name), params, action: 'cluster.rollback' };
    });
  }
}
