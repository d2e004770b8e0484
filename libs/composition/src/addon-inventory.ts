import { AddonCatalogue } from '@capstan/addons';
import { ClusterComponentInventory, type FleetClusterFacts } from '@capstan/upgrades';
import { Injectable } from '@nestjs/common';

/**
 * libs/upgrades' component inventory for advisories, answered by libs/addons' public function
 * (docs/architecture.md, "Feature-to-feature calls"): each cluster's Kubernetes version and the
 * add-on versions it runs, as last read back from the cluster. Composition only: no rule lives here.
 */
@Injectable()
export class AddonInventory extends ClusterComponentInventory {
  constructor(private readonly addons: AddonCatalogue) {
    super();
  }

  async components(clusters: readonly FleetClusterFacts[]) {
    const addons = await this.addons.installedVersions(clusters.map((c) => ({ id: c.id, version: c.controlPlaneVersion })));
    return new Map(clusters.map((c) => [c.id, [{ name: 'kubernetes', version: c.controlPlaneVersion }, ...(addons.get(c.id) ?? [])]]));
  }
}
