import { clusterStatusColumnsAfter } from '@capstan/operations';
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

  /**
   * The upgrade is over: the cluster serves again at `version`, which it now also desires; `running`,
   * or `degraded` while the SLA monitor holds its API server down (docs/operations-engine.md,
   * "Where an operation leaves its cluster").
   */
  async upgraded(clusterId: string, version: string): Promise<void> {
    await this.db
      .updateTable('clusters')
      .set({
        ...clusterStatusColumnsAfter({ type: 'upgrade_cluster', outcome: 'succeeded' })!,
        current_version: version,
        desired_version: version,
        updated_at: this.clock.now(),
      })
      .where('id', '=', clusterId)
      .execute();
  }
}
