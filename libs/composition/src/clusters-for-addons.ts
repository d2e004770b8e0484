import { type AddonCluster, AddonClusterSource, type AddonRequester, type PlannedAddonChange } from '@capstan/addons';
import { ReadClusters, StartClusterOperation } from '@capstan/clusters';
import type { UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/**
 * libs/addons' view of a cluster and its way to start an `update_addons` operation, answered by the
 * public functions of libs/clusters (docs/architecture.md, "Feature-to-feature calls").
 * Composition only: no rule lives here.
 */
@Injectable()
export class ClustersForAddons extends AddonClusterSource {
  constructor(
    private readonly clusters: ReadClusters,
    private readonly operations: StartClusterOperation,
  ) {
    super();
  }

  async cluster(organizationId: string, clusterId: string): Promise<AddonCluster> {
    const c = await this.clusters.get(organizationId, clusterId);
    return { id: c.id, organizationId, provider: c.provider, status: c.status, version: c.current_version };
  }

  startChange(requester: AddonRequester, clusterId: string, change: (trx: UnitOfWork, cluster: AddonCluster) => Promise<PlannedAddonChange>) {
    return this.operations.execute(requester, clusterId, 'update_addons', (trx, c) =>
      change(trx, { id: c.id, organizationId: requester.organizationId, provider: c.provider, status: c.status, version: c.current_version }),
    );
  }
}
