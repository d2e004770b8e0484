import { clusterRoutes, type z } from '@capstan/contracts';
import { assertMachineType, assertRegionAllowed, assertWithinQuota, ConflictError, nodeCountOf, resolveVersionForCreate } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { Clock, newId } from '@capstan/platform';
import { changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { ClusterUsage } from '../cluster-usage';
import { presentCluster } from '../cluster-view';
import { ClustersRepository } from '../clusters.repository';
import { insertCluster } from '../cluster-writes';
import { audited, toPoolCounts } from './change-rows';
import { ReadVersions } from './read-versions';
import { checkedWindow } from './window-rules';

export type CreateClusterInput = z.infer<typeof clusterRoutes.createClusterBody>;

/**
 * POST /v1/clusters. Under the organisation's lock (creates of one organisation queue, so two
 * cannot both squeeze under the quota): residency, quota and name checks, then the cluster, its
 * pools and window, its create operation and its audit event in one transaction.
 */
@Injectable()
export class CreateCluster {
  constructor(
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly clusters: ClustersRepository,
    private readonly usage: ClusterUsage,
    private readonly versions: ReadVersions,
    private readonly clock: Clock,
  ) {}

  async execute(requester: Requester, input: CreateClusterInput) {
    const now = this.clock.now();
    for (const pool of input.node_pools) assertMachineType(pool.machine_type, input.provider);
    input = { ...input, maintenance_window: checkedWindow(input.provider, input.maintenance_window, now) };
    const version = resolveVersionForCreate(input.provider, input.version, now, await this.versions.entries(input.provider));

    const { cluster, operation } = await this.unitOfWork.run(requester, { organization: true }, async ({ trx, organization, enqueue, audit }) => {
      assertRegionAllowed(input.region, input.provider, organization!.residency);
      const usage = await this.usage.usage(requester.organizationId, trx);
      assertWithinQuota({ maxClusters: organization!.max_clusters, maxNodes: organization!.max_nodes }, usage, {
        clusters: 1,
        nodes: input.node_pools.reduce((sum, pool) => sum + nodeCountOf(toPoolCounts(pool)), 0),
      });
      const existing = await this.clusters.idByName(trx, requester.organizationId, input.name);
      if (existing) throw new ConflictError('name-taken', `a cluster named ${input.name} already exists (${existing})`, { cluster_id: existing });

      const clusterId = newId('cl');
      await insertCluster(trx, clusterId, requester.organizationId, input, version.patch);
      const op = await enqueue({ clusterId, type: 'create_cluster', target: { type: 'cluster', id: clusterId }, params: { version: version.patch } });
      const created = await this.clusters.get(requester.organizationId, clusterId, trx);
      await audit({
        action: 'cluster.create',
        target: { type: 'cluster', id: clusterId },
        changes: changesBetween(null, audited(created), ['name', 'provider', 'region', 'currentVersion', 'labels', 'deletionProtection', 'nodePools']),
      });
      return { cluster: created, operation: op };
    });
    return { cluster: presentCluster(cluster, version.warnings), operation: presentOperation(operation) };
  }
}
