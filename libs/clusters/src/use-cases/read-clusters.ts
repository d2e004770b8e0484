import { Clock, type db, decodeCursor, type Page, toPage } from '@capstan/platform';
import { minorsWithSupport, parseLabelSelector, type SupportStatus, versionSupport } from '@capstan/domain';
import { Injectable } from '@nestjs/common';
import { type ClusterWithRelations, presentCluster, presentNodePool } from '../cluster-view';
import { ClustersRepository } from '../clusters.repository';
import { VersionCatalogueRepository } from '../version-catalogue.repository';

/** The cluster and node-pool reads (GET and lists), on the pool: no transaction, no lock. */
@Injectable()
export class ReadClusters {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly versions: VersionCatalogueRepository,
    private readonly clock: Clock,
  ) {}

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

  /**
   * Staff's page across organisations, each cluster naming its organisation and where its version
   * stands in the provider's catalogue today (docs/staff.md, "Which customers are exposed"). The
   * support filter becomes the catalogue's minors in that state, so it is one WHERE of the page's
   * statement like every other filter.
   */
  async listForStaff(
    filter: { organizationId?: string; status?: db.ClusterStatus; provider?: db.Provider; q?: string; version?: string; support?: SupportStatus },
    limit: number,
    cursor?: string,
  ) {
    const now = this.clock.now();
    const catalogue = await this.versions.list();
    const minors = filter.support === undefined ? undefined : minorsWithSupport(catalogue, filter.support, now);
    return toPage(await this.rows({ ...filter, minors }, limit, cursor), limit, (row) => {
      const support = versionSupport(catalogue, row.provider, row.current_version, now);
      return {
        ...presentCluster(row),
        organization_id: row.organization_id,
        support: { status: support.status, state: support.state, end_of_support_at: support.endOfSupportAt },
      };
    });
  }

  private rows(
    filter: {
      organizationId?: string;
      status?: db.ClusterStatus;
      provider?: db.Provider;
      labelSelector?: string;
      q?: string;
      version?: string;
      minors?: { provider: db.Provider; minor: string }[];
    },
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
        minors: filter.minors,
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
