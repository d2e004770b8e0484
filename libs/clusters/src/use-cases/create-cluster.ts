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

/** The unique index that keeps live cluster names unique per organisation (prisma/schema.prisma). */
const LIVE_NAME_INDEX = 'clusters_organization_id_live_name_key';

/**
 * POST /v1/clusters. The name check, then the cluster, its pools and window, its create operation
 * and its audit event; then, as the transaction's last step, the organisation's lock with the
 * residency and quota checks (docs/architecture.md, "Locks and units of work"). Creates of one
 * organisation queue on that lock only for the quota count and the COMMIT, and still cannot both
 * squeeze under the quota: each counts, under the lock, every create committed before it.
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

    const { cluster, operation } = await this.unitOfWork
      .run(requester, {}, async ({ trx, enqueue, audit, lockOrganizationLast }) => {
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

        // Last: the lock, then the count in a statement of its own, whose snapshot is taken once
        // the lock is held and so sees every create committed before it (a count in the locking
        // statement would read a snapshot from before its wait). The create's own rows are left
        // out: they are what it requests.
        const organization = await lockOrganizationLast();
        assertRegionAllowed(input.region, input.provider, organization.residency);
        const usage = await this.usage.usage(requester.organizationId, trx, { excludingClusterId: clusterId });
        assertWithinQuota({ maxClusters: organization.max_clusters, maxNodes: organization.max_nodes }, usage, {
          clusters: 1,
          nodes: input.node_pools.reduce((sum, pool) => sum + nodeCountOf(toPoolCounts(pool)), 0),
        });
        return { cluster: created, operation: op };
      })
      .catch((error: unknown) => {
        // Two creates of one name that both passed the check before either committed: the second
        // insert waits for the first and then fails on the unique index. The same answer as the check.
        if (isUniqueViolation(error, LIVE_NAME_INDEX)) throw new ConflictError('name-taken', `a cluster named ${input.name} already exists`);
        throw error;
      });
    return { cluster: presentCluster(cluster, version.warnings), operation: presentOperation(operation) };
  }
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === '23505' &&
    (error as { constraint?: unknown }).constraint === constraint
  );
}
