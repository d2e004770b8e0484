import { clusterStatusColumnsAfter } from '@capstan/operations';
import { Clock, Database } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/**
 * What a control-plane restore records when it ends (public to other features:
 * docs/architecture.md, "Feature-to-feature calls"): the cluster serves again. Guarded by
 * `restoring`, so a restore that finds its cluster in another status (deleted meanwhile) changes nothing.
 * It serves `running`, or `degraded` while the SLA monitor holds its API server down
 * (docs/operations-engine.md, "Where an operation leaves its cluster").
 */
@Injectable()
export class RecordRestore {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async restored(clusterId: string): Promise<void> {
    await this.db
      .updateTable('clusters')
      .set({ ...clusterStatusColumnsAfter({ type: 'restore_backup', restoreScope: 'control_plane', outcome: 'succeeded' })!, updated_at: this.clock.now() })
      .where('id', '=', clusterId)
      .where('status', '=', 'restoring')
      .execute();
  }
}
