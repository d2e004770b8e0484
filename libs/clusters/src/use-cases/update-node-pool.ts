import { clusterRoutes, type RouteInput } from '@capstan/contracts';
import { assertClusterAccepts, assertWithinQuota, clusterStatusDuring, NotFoundError, nodeCountOf, validateSurge } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { ClusterUsage } from '../cluster-usage';
import { presentNodePool } from '../cluster-view';
import { setClusterStatus, updateNodePool } from '../cluster-writes';
import { assertEtag, auditedPool, previousPoolOf } from './change-rows';

export type NodePoolChange = RouteInput<typeof clusterRoutes.updateNodePool>['body'];

/** PATCH /v1/clusters/{id}/node-pools/{pool}: a scale (count, autoscaling) or an update, under If-Match. */
@Injectable()
export class UpdateNodePool {
  constructor(
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly usage: ClusterUsage,
  ) {}

  async execute(requester: Requester, clusterId: string, poolId: string, ifMatch: string | undefined, change: NodePoolChange) {
    // Growth is known only after the pool is read, so the organisation is locked up front, first.
    return this.unitOfWork.run(requester, { organization: true, clusterId }, async ({ trx, organization, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      const pool = owner.node_pools.find((p) => p.id === poolId);
      if (!pool) throw new NotFoundError('node pool', poolId);
      assertEtag('node pool', pool.id, pool.resource_version, ifMatch);
      const onlyScaling = Object.keys(change).every((k) => k === 'count' || k === 'autoscaling');
      const type = onlyScaling ? 'scale_node_pool' : 'update_node_pool';
      assertClusterAccepts(owner, type, active);

      // Bounds with min > max are refused by the contract (400), and stored ones were checked alike.
      const autoscaling =
        change.autoscaling === undefined ? (pool.autoscale_min !== null ? { min: pool.autoscale_min, max: pool.autoscale_max! } : null) : change.autoscaling;
      const next = {
        nodeCount: change.count ?? (autoscaling ? Math.min(Math.max(pool.node_count, autoscaling.min), autoscaling.max) : pool.node_count),
        autoscaleMin: autoscaling?.min ?? null,
        autoscaleMax: autoscaling?.max ?? null,
        maxSurge: change.max_surge ?? pool.max_surge,
        maxUnavailable: change.max_unavailable ?? pool.max_unavailable,
      };
      // A bad pair is bad input whichever half the pool already had: a 400 naming max_surge, as at create.
      validateSurge(next.maxSurge, next.maxUnavailable);
      const growth = nodeCountOf(next) - nodeCountOf(auditedPool(pool));
      if (growth > 0) {
        const usage = await this.usage.usage(requester.organizationId, trx);
        assertWithinQuota({ maxClusters: organization!.max_clusters, maxNodes: organization!.max_nodes }, usage, { nodes: growth });
      }

      const updated = await updateNodePool(trx, poolId, next, change);
      await setClusterStatus(trx, clusterId, clusterStatusDuring(type));
      const op = await enqueue({
        clusterId,
        type,
        target: { type: 'node_pool', id: poolId },
        params: { change, previousClusterStatus: owner.status, previousPool: previousPoolOf(pool) },
      });
      await audit({
        action: onlyScaling ? 'node_pool.scale' : 'node_pool.update',
        target: { type: 'node_pool', id: poolId },
        changes: changesBetween(auditedPool(pool), auditedPool(updated), [
          'nodeCount',
          'autoscaleMin',
          'autoscaleMax',
          'labels',
          'taints',
          'maxSurge',
          'maxUnavailable',
        ]),
      });
      return { node_pool: presentNodePool(updated), operation: presentOperation(op) };
    });
  }
}
