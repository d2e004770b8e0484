import { assertClusterAccepts, clusterStatusDuring, ConflictError } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { setClusterStatus } from '../cluster-writes';

/** DELETE /v1/clusters/{id}: refused under deletion protection or while another operation runs. */
@Injectable()
export class DeleteCluster {
  constructor(private readonly unitOfWork: ClusterUnitOfWork) {}

  async execute(requester: Requester, id: string) {
    const operation = await this.unitOfWork.run(requester, { clusterId: id }, async ({ trx, cluster, active, enqueue, audit }) => {
      const before = cluster!;
      if (before.deletion_protection) {
        throw new ConflictError('deletion-protected', `cluster ${id} has deletion protection; set deletion_protection to false first`);
      }
      assertClusterAccepts(before, 'delete_cluster', active);
      await setClusterStatus(trx, id, clusterStatusDuring('delete_cluster'), { bumpVersion: true });
      const op = await enqueue({ clusterId: id, type: 'delete_cluster', target: { type: 'cluster', id }, params: { previousClusterStatus: before.status } });
      await audit({ action: 'cluster.delete', target: { type: 'cluster', id }, changes: { status: { before: before.status, after: 'deleting' } } });
      return op;
    });
    return { operation: presentOperation(operation) };
  }
}
