import type { AddonRequest } from '@capstan/kube';

/**
 * The port through which upgrade steps record versions in tables libs/clusters owns; the worker's
 * composition root binds it to `RecordUpgradeProgress` (docs/architecture.md, "Feature-to-feature calls").
 */
export abstract class UpgradeVersions {
  abstract controlPlaneAt(clusterId: string, version: string): Promise<void>;
  abstract nodePoolAt(clusterId: string, poolId: string, version: string): Promise<void>;
  /** Ends the upgrade: the cluster serves again at `version`. */
  abstract upgraded(clusterId: string, version: string): Promise<void>;
  /**
   * The add-ons the cluster runs at their catalogue versions for `version`, with their values
   * (libs/addons); null where no catalogue is bound, and the step installs the seed's defaults.
   */
  addonsAt(_clusterId: string, _version: string): Promise<AddonRequest[] | null> {
    return Promise.resolve(null);
  }
}
