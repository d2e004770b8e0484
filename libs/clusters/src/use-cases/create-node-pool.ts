import { assertClusterAccepts, assertMachineType, assertWithinQuota, clusterStatusDuring, ConflictError, nodeCountOf } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { ClusterUsage } from '../cluster-usage';
import { presentNodePool } from '../cluster-view';
import { insertNodePool, setClusterStatus } from '../cluster-writes';
import { auditedPool, type NodePoolSpec, toPoolCounts } from './change-rows';

/** POST /v1/clusters/{id}/node-pools, under the organisation's lock (node quota), then the cluster's. */
@Injectable()
export class CreateNodePool {
  constructor(
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly usage: ClusterUsage,
  ) {}

  async execute(requester: Requester, clusterId: string, spec: NodePoolSpec) {
    return this.unitOfWork.run(requester, { organization: true, clusterId }, async ({ trx, organization, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      assertClusterAccepts(owner, 'create_node_pool', active);
      assertMachineType(spec.machine_type, owner.provider);
      const usage = await this.usage.usage(requester.organizationId, trx);
      assertWithinQuota({ maxClusters: organization!.max_clusters, maxNodes: organization!.max_nodes }, usage, { nodes: nodeCountOf(toPoolCounts(spec)) });
      if (owner.node_pools.some((p) => p.name === spec.name)) {
        throw new ConflictError('name-taken', `cluster ${clusterId} already has a node pool named ${spec.name}`);
      }
      const pool = await insertNodePool(trx, requester.organizationId, clusterId, spec, owner.current_version);
      await setClusterStatus(trx, clusterId, clusterStatusDuring('create_node_pool'));
      const op = await enqueue({
        clusterId,
        type: 'create_node_pool',
        target: { type: 'node_pool', id: pool.id },
        params: { previousClusterStatus: owner.status },
      });
      await audit({
        action: 'node_pool.create',
        target: { type: 'node_pool', id: pool.id },
        changes: changesBetween(null, auditedPool(pool), ['name', 'machineType', 'nodeCount', 'autoscaleMin', 'autoscaleMax', 'labels', 'taints']),
      });
      return { node_pool: presentNodePool(pool), operation: presentOperation(op) };
    });
  }
}
