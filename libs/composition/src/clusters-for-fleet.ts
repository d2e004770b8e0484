import { ReadFleetClusters, ReadVersions, StartClusterUpgrade } from '@capstan/clusters';
import { ClusterDowntime } from '@capstan/sla';
import { fleetClusterFacts, FleetClusterSource, type LockedClusterVersions, type PlannedUpgrade, type UpgradeRequester } from '@capstan/upgrades';
import { Injectable } from '@nestjs/common';

/**
 * libs/upgrades' fleet view, answered by the public functions of libs/clusters and libs/sla
 * (docs/architecture.md, "Feature-to-feature calls"). Composition only: no rule lives here.
 */
@Injectable()
export class ClustersForFleet extends FleetClusterSource {
  constructor(
    private readonly fleet: ReadFleetClusters,
    private readonly versions: ReadVersions,
    private readonly upgrades: StartClusterUpgrade,
    private readonly downtime: ClusterDowntime,
  ) {
    super();
  }

  async page(after: string | undefined, limit: number, now: Date) {
    return (await this.fleet.page(after, limit, now)).map(fleetClusterFacts);
  }

  async ofOrganization(organizationId: string, now: Date) {
    return (await this.fleet.ofOrganization(organizationId, now)).map(fleetClusterFacts);
  }

  async byIds(ids: readonly string[], now: Date) {
    return (await this.fleet.byIds(ids, now)).map(fleetClusterFacts);
  }

  async catalogue() {
    return [...(await this.versions.entries('rke2')), ...(await this.versions.entries('gke'))];
  }

  startUpgrade(requester: UpgradeRequester, clusterId: string, plan: (cluster: LockedClusterVersions) => PlannedUpgrade) {
    return this.upgrades.execute(requester, clusterId, (cluster) =>
      plan({
        controlPlaneVersion: cluster.current_version,
        pools: cluster.node_pools.map((p) => ({ id: p.id, name: p.name, version: p.version, maxSurge: p.max_surge, maxUnavailable: p.max_unavailable })),
      }),
    ) as Promise<{ operation: { id: string } }>;
  }

  downSince(since: ReadonlyMap<string, Date>) {
    return this.downtime.downSince(since);
  }
}
