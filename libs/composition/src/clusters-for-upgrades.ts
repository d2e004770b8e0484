import { AddonCatalogue } from '@capstan/addons';
import { ReadClusters, ReadVersions, StartClusterUpgrade } from '@capstan/clusters';
import { type MaintenanceWindowSpec, type Provider, validateWindow, type WindowDay } from '@capstan/domain';
import { type LockedClusterVersions, type PlannedUpgrade, UpgradeClusterSource, type UpgradeClusterFacts, type UpgradeRequester } from '@capstan/upgrades';
import { Injectable } from '@nestjs/common';

/**
 * libs/upgrades' view of a cluster, answered by the public reads of libs/clusters
 * (docs/architecture.md, "Feature-to-feature calls"). Composition only: no rule lives here.
 */
@Injectable()
export class ClustersForUpgrades extends UpgradeClusterSource {
  constructor(
    private readonly clusters: ReadClusters,
    private readonly versions: ReadVersions,
    private readonly upgrades: StartClusterUpgrade,
    private readonly addons: AddonCatalogue,
  ) {
    super();
  }

  async cluster(organizationId: string, clusterId: string): Promise<UpgradeClusterFacts> {
    const cluster = await this.clusters.get(organizationId, clusterId);
    const exclusions = await this.clusters.maintenanceExclusions(organizationId, clusterId);
    return {
      id: cluster.id,
      provider: cluster.provider,
      status: cluster.status,
      controlPlaneVersion: cluster.current_version,
      pools: plannedPools(cluster.node_pools),
      window: usableWindow(cluster.maintenance_window),
      exclusions: exclusions.map((e) => ({ startsAt: e.startsAt, endsAt: e.endsAt, scope: e.scope })),
      // Read routes do not reach into the cluster: the plan says that the scans have not run
      // rather than that nothing was found (POST .../upgrade runs the removed-API scan).
      objects: null,
      disruptionBudgets: null,
      addons: await this.addons.planInput(cluster.id, organizationId),
    };
  }

  catalogue(provider: Provider) {
    return this.versions.entries(provider);
  }

  startUpgrade(requester: UpgradeRequester, clusterId: string, plan: (cluster: LockedClusterVersions) => PlannedUpgrade) {
    return this.upgrades.execute(requester, clusterId, (cluster) =>
      plan({ controlPlaneVersion: cluster.current_version, pools: plannedPools(cluster.node_pools) }),
    );
  }
}

function plannedPools(pools: { id: string; name: string; version: string; max_surge: number; max_unavailable: number }[]) {
  return pools.map((p) => ({ id: p.id, name: p.name, version: p.version, maxSurge: p.max_surge, maxUnavailable: p.max_unavailable }));
}

/** A window stored before zones were validated (e.g. "CET") has no next occurrence to show. */
function usableWindow(window: { time_zone: string; days: WindowDay[]; start_time: string; duration_minutes: number } | null): MaintenanceWindowSpec | null {
  if (!window) return null;
  try {
    return validateWindow({ timeZone: window.time_zone, days: window.days, startTime: window.start_time, durationMinutes: window.duration_minutes });
  } catch {
    return null;
  }
}
