import { RecordUpgradeProgress } from '@capstan/clusters';
import { UpgradeVersions } from '@capstan/upgrades';
import { Injectable } from '@nestjs/common';

/**
 * libs/upgrades' steps record versions through the public RecordUpgradeProgress of libs/clusters
 * (docs/architecture.md, "Feature-to-feature calls"). Composition only: no rule lives here.
 */
@Injectable()
export class ClusterUpgradeVersions extends UpgradeVersions {
  constructor(private readonly progress: RecordUpgradeProgress) {
    super();
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
