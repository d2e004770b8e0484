import { type db, decodeCursor, type Page, toPage } from '@capstan/platform';
import { parseLabelSelector } from '@capstan/domain';
import { Injectable } from '@nestjs/common';
import { type ClusterWithRelations, presentCluster, presentNodePool } from '../cluster-view';
import { ClustersRepository } from '../clusters.repository';

/** The cluster and node-pool reads (GET and lists), on the pool: no transaction, no lock. */
@Injectable()
export class ReadClusters {
  constructor(private readonly clusters: ClustersRepository) {}

  async get(organizationId: string | undefined, id: string) {
    return presentCluster(await this.clusters.get(organizationId, id));
  }

  /**
   * The cluster's maintenance exclusions (public to other features: docs/architecture.md,
   * "Feature-to-feature calls"). Ask {@link get} first: an unknown or foreign cluster has none here.
   */
  async maintenanceExclusions(organizationId: string, clusterId: string) {
    const rows = await this.clusters.maintenanceExclusions(organizationId, clusterId);
    return rows.map((e) => ({ id: e.id, name: e.name, scope: e.scope, startsAt: e.starts_at, endsAt: e.ends_at }));
  }

  /** A customer's page of its own clusters. */
  async list(
    filter: { organizationId: string; status?: db.ClusterStatus; provider?: db.Provider; labelSelector?: string },
    limit: number,
    cursor?: string,
  ): Promise<Page<ReturnType<typeof presentCluster>>> {
    return toPage(await this.rows(filter, limit, cursor), limit, (row) => presentCluster(row));
  }

  /** Staff's page across organisations, each cluster naming its organisation. */
  async listForStaff(
    filter: { organizationId?: string; status?: db.ClusterStatus; provider?: db.Provider; q?: string; version?: string },
    limit: number,
    cursor?: string,
  ): Promise<Page<ReturnType<typeof presentCluster> & { organization_id: string }>> {
    return toPage(await this.rows(filter, limit, cursor), limit, (row) => ({ ...presentCluster(row), organization_id: row.organization_id }));
  }

  private rows(
    filter: { organizationId?: string; status?: db.ClusterStatus; provider?: db.Provider; labelSelector?: string; q?: string; version?: string },
    limit: number,
    cursor: string | undefined,
  ): Promise<ClusterWithRelations[]> {
    return this.clusters.list(
      {
        organizationId: filter.organizationId,
        status: filter.status,
        provider: filter.provider,
        labels: filter.labelSelector ? parseLabelSelector(filter.labelSelector) : undefined,
        nameContains: filter.q,
        version: filter.version,
        after: decodeCursor(cursor, 'cl'),
      },
      limit,
    );
  }

  async listNodePools(organizationId: string, clusterId: string, limit: number, cursor?: string) {
    await this.clusters.get(organizationId, clusterId);
    const rows = await this.clusters.nodePools(organizationId, clusterId, limit, decodeCursor(cursor, 'np'));
    return toPage(rows, limit, presentNodePool);
  }

  async getNodePool(organizationId: string, clusterId: string, poolId: string) {
    return presentNodePool(await this.clusters.nodePool(organizationId, clusterId, poolId));
  }
}
