import { assertClusterAccepts, clusterStatusDuring, ConflictError, NotFoundError } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { markNodePoolDeleting, setClusterStatus } from '../cluster-writes';
import { previousPoolOf } from './change-rows';

/** DELETE /v1/clusters/{id}/node-pools/{pool}: never the last pool of a cluster. */
@Injectable()
export class DeleteNodePool {
  constructor(private readonly unitOfWork: ClusterUnitOfWork) {}

  async execute(requester: Requester, clusterId: string, poolId: string) {
    return this.unitOfWork.run(requester, { clusterId }, async ({ trx, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      const pool = owner.node_pools.find((p) => p.id === poolId);
      if (!pool) throw new NotFoundError('node pool', poolId);
      assertClusterAccepts(owner, 'delete_node_pool', active);
      if (owner.node_pools.length === 1) {
        throw new ConflictError('last-node-pool', `node pool ${poolId} is the last one of cluster ${clusterId}; delete the cluster instead`);
      }
      await markNodePoolDeleting(trx, poolId);
      await setClusterStatus(trx, clusterId, clusterStatusDuring('delete_node_pool'));
      const op = await enqueue({
        clusterId,
        type: 'delete_node_pool',
        target: { type: 'node_pool', id: poolId },
        params: { previousClusterStatus: owner.status, previousPool: previousPoolOf(pool) },
      });
      await audit({ action: 'node_pool.delete', target: { type: 'node_pool', id: poolId }, changes: { status: { before: pool.status, after: 'deleting' } } });
      return { operation: presentOperation(op) };
    });
  }
}
