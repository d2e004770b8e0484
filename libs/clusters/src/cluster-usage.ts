import { CompiledOnce, Database, type UnitOfWork } from '@capstan/platform';
import { OrganizationUsage, type Usage } from '@capstan/tenancy';
import { Global, Injectable, Module } from '@nestjs/common';
import { sql } from 'kysely';

/**
 * Clusters that exist and the nodes their pools may run (the autoscaling maximum where set), which
 * is what quotas limit. One statement: inside a transaction there is one connection, which runs
 * one query at a time. `excludingClusterId` leaves out a cluster and its pools: a create that
 * counts after writing its own rows (CreateCluster) compares the others' usage with its request.
 */
export function usageQuery(db: UnitOfWork, organizationId: string, excludingClusterId?: string) {
  return db.selectNoFrom((eb) => {
    let clusters = eb
      .selectFrom('clusters')
      .select((c) => c.fn.countAll<bigint>().as('n'))
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null);
    let nodes = eb
      .selectFrom('node_pools')
      .select(sql<bigint | null>`SUM(GREATEST(node_count, COALESCE(autoscale_max, node_count)))`.as('n'))
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null);
    if (excludingClusterId !== undefined) {
      clusters = clusters.where('id', '<>', excludingClusterId);
      nodes = nodes.where('cluster_id', '<>', excludingClusterId);
    }
    return [clusters.as('clusters'), nodes.as('nodes')];
  });
}

/** Counted under the organisation's lock by every quota check: compiled once (CompiledOnce). */
const usage = new CompiledOnce((db, p: { organizationId: string }) => usageQuery(db, p.organizationId));
const usageExcluding = new CompiledOnce((db, p: { organizationId: string; clusterId: string }) => usageQuery(db, p.organizationId, p.clusterId));

/** Tenancy's `OrganizationUsage`, answered by the library that owns clusters and node pools. */
@Injectable()
export class ClusterUsage implements OrganizationUsage {
  constructor(private readonly db: Database) {}

  async usage(organizationId: string, uow: UnitOfWork = this.db, options: { excludingClusterId?: string } = {}): Promise<Usage> {
    const row =
      options.excludingClusterId === undefined
        ? await usage.executeTakeFirst(uow, { organizationId })
        : await usageExcluding.executeTakeFirst(uow, { organizationId, clusterId: options.excludingClusterId });
    return { clusters: Number(row?.clusters ?? 0), nodes: Number(row?.nodes ?? 0) };
  }
}

/**
 * Global so that TenancyModule (below clusters, which imports it, not the other way round) is
 * handed the implementation of its port.
 */
@Global()
@Module({
  providers: [ClusterUsage, { provide: OrganizationUsage, useExisting: ClusterUsage }],
  exports: [ClusterUsage, OrganizationUsage],
})
export class ClusterUsageModule {}
