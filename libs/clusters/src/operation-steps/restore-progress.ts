import { Clock, Database } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/**
 * What a control-plane restore records when it ends (public to other features:
 * docs/architecture.md, "Feature-to-feature calls"): the cluster serves again. Guarded by
 * `restoring`, so a restore that finds its cluster in another status (deleted meanwhile) changes nothing.
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
      .set({ status: 'running', status_reason: null, updated_at: this.clock.now() })
      .where('id', '=', clusterId)
      .where('status', '=', 'restoring')
      .execute();
  }
}
