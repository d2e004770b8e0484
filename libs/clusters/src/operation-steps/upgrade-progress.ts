import { Clock, Database } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/**
 * What an upgrade operation records as its steps finish (public to other features:
 * docs/architecture.md, "Feature-to-feature calls"): each version is written once the provider
 * runs it, so a cluster whose upgrade stops half-way shows the versions it really has.
 */
@Injectable()
export class RecordUpgradeProgress {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async controlPlaneAt(clusterId: string, version: string): Promise<void> {
    await this.db.updateTable('clusters').set({ current_version: version, updated_at: this.clock.now() }).where('id', '=', clusterId).execute();
  }

  async nodePoolAt(clusterId: string, poolId: string, version: string): Promise<void> {
    await this.db
      .updateTable('node_pools')
      .set({ version, updated_at: this.clock.now() })
      .where('id', '=', poolId)
      .where('cluster_id', '=', clusterId)
      .execute();
  }

  /** The upgrade is over: the cluster serves again at `version`, which it now also desires. */
  async upgraded(clusterId: string, version: string): Promise<void> {
    await this.db
      .updateTable('clusters')
      .set({ status: 'running', status_reason: null, current_version: version, desired_version: version, updated_at: this.clock.now() })
      .where('id', '=', clusterId)
      .execute();
  }
}
