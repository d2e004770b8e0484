import { Database } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/** A cluster's rows as billing meters them (docs/billing.md, "Metering"). */
export interface MeteredClusterRows {
  id: string;
  organizationId: string;
  name: string;
  provider: string;
  region: string;
  createdAt: Date;
  deletedAt: Date | null;
  pools: { id: string; machineType: string; nodeCount: number; createdAt: Date; deletedAt: Date | null }[];
}

/**
 * Clusters and their node pools as billing needs them (docs/architecture.md,
 * "Feature-to-feature calls"): every cluster that existed at some moment of `[start, end)`,
 * deleted ones included, across organisations or of one. Two statements whatever the count.
 * Backups are not read here: `backups` belongs to the coming libs/backups, which is to export their
 * sizes for billing (docs/billing.md, "Backup storage").
 */
@Injectable()
export class ReadMeteredClusters {
  constructor(private readonly db: Database) {}

  async presentIn(range: { start: Date; end: Date }, organizationId?: string): Promise<MeteredClusterRows[]> {
    const clusters = await this.db
      .selectFrom('clusters')
      .select(['id', 'organization_id', 'name', 'provider', 'region', 'created_at', 'deleted_at'])
      .where('created_at', '<', range.end)
      .where((eb) => eb.or([eb('deleted_at', 'is', null), eb('deleted_at', '>', range.start)]))
      .$if(organizationId !== undefined, (q) => q.where('organization_id', '=', organizationId!))
      .orderBy('id')
      .execute();
    if (clusters.length === 0) return [];
    const ids = clusters.map((c) => c.id);
    const pools = await this.db
      .selectFrom('node_pools')
      .select(['id', 'cluster_id', 'machine_type', 'node_count', 'created_at', 'deleted_at'])
      .where('cluster_id', 'in', ids)
      .orderBy('id')
      .execute();
    const byCluster = new Map<string, MeteredClusterRows>(
      clusters.map((c) => [
        c.id,
        {
          id: c.id,
          organizationId: c.organization_id,
          name: c.name,
          provider: c.provider,
          region: c.region,
          createdAt: c.created_at,
          deletedAt: c.deleted_at,
          pools: [],
        },
      ]),
    );
    for (const p of pools) {
      byCluster
        .get(p.cluster_id)
        ?.pools.push({ id: p.id, machineType: p.machine_type, nodeCount: p.node_count, createdAt: p.created_at, deletedAt: p.deleted_at });
    }
    return [...byCluster.values()];
  }
}
