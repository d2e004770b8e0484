import { type db, decodeCursor, type Page, toPage } from '@capstan/platform';
import { parseLabelSelector } from '@capstan/domain';
import { Injectable } from '@nestjs/common';
import { type ClusterWithRelations, presentCluster, presentNodePool } from '../cluster-view';
import { ClustersRepository } from '../clusters.repository';

/** The cluster and node-pool reads (GET and lists), on the pool: no transaction, no lock. */
@Injectable()
export class ReadClusters {
  constructor(
    private readonly clusters: ClustersRepository,
  ) {}

  async get(organizationId: string | undefined, id: string) {
    return presentCluster(await this.clusters.get(organizationId, id));
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
    filter: { organizationId?: string; status?: db.ClusterStatus; provider?: db.Provider; q?: string },
    limit: number,
    cursor?: string,
  ): Promise<Page<ReturnType<typeof presentCluster> & { organization_id: string }>> {
    return toPage(await this.rows(filter, limit, cursor), limit, (row) => ({ ...presentCluster(row), organization_id: row.organization_id }));
  }

  private rows(
    filter: { organizationId?: string; status?: db.ClusterStatus; provider?: db.Provider; labelSelector?: string; q?: string },
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
        after: decodeCursor(cursor),
      },
      limit,
    );
  }

  async listNodePools(organizationId: string, clusterId: string, limit: number, cursor?: string) {
    await this.clusters.get(organizationId, clusterId);
    const rows = await this.clusters.nodePools(organizationId, clusterId, limit, decodeCursor(cursor));
    return toPage(rows, limit, presentNodePool);
  }

  async getNodePool(organizationId: string, clusterId: string, poolId: string) {
    return presentNodePool(await this.clusters.nodePool(organizationId, clusterId, poolId));
  }
}
