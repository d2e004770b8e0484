import { AddonCatalogue } from '@capstan/addons';
import { RecordUpgradeProgress } from '@capstan/clusters';
import { UpgradeVersions } from '@capstan/upgrades';
import { Injectable } from '@nestjs/common';

/**
 * libs/upgrades' steps record versions through the public RecordUpgradeProgress of libs/clusters,
 * and read the cluster's add-ons through AddonCatalogue of libs/addons
 * (docs/architecture.md, "Feature-to-feature calls"). Composition only: no rule lives here.
 */
@Injectable()
export class ClusterUpgradeVersions extends UpgradeVersions {
  constructor(
    private readonly progress: RecordUpgradeProgress,
    private readonly addons: AddonCatalogue,
  ) {
    super();
  }

  /** The cluster's add-ons at the catalogue versions of the new minor, with their settings (libs/addons). */
  override addonsAt(clusterId: string, version: string) {
    return this.addons.requestsAt(clusterId, version);
  }

  controlPlaneAt(clusterId: string, version: string) {
    return this.progress.controlPlaneAt(clusterId, version);
  }

  nodePoolAt(clusterId: string, poolId: string, version: string) {
    return this.progress.nodePoolAt(clusterId, poolId, version);
  }

  upgraded(clusterId: string, version: string) {
    return this.progress.upgraded(clusterId, version);
  }
}
