import { Clock, Database, firstIdAt, WebhookConfig } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

const DAY_MS = 24 * 3600 * 1000;
/** Rows per statement: short statements, so pruning never holds locks or WAL for long. */
const BATCH = 5_000;

export interface Pruned {
  events: number;
  deliveries: number;
}

/**
 * Deletes events and their delivery log once they are older than EVENT_RETENTION_DAYS. Without it
 * both grow with every operation forever. Ids are time-ordered, so "older than" is a range on
 * the primary key and needs no index of its own. Deliveries stop retrying 24 hours after their event,
 * so none is still pending at any retention of a day or more; a pending one is kept all the same.
 * Several worker replicas may prune at once: they delete the same rows, which is harmless.
 */
@Injectable()
export class EventRetention {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: WebhookConfig,
  ) {}

  async prune(): Promise<Pruned> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.eventRetentionDays * DAY_MS);
    const deliveries = await this.drain(() =>
      this.db
        .deleteFrom('webhook_deliveries')
        .where('id', 'in', (eb) =>
          eb.selectFrom('webhook_deliveries').select('id').where('id', '<', firstIdAt('whd', cutoff)).where('status', '<>', 'pending').limit(BATCH),
        )
        .executeTakeFirst(),
    );
    const events = await this.drain(() =>
      this.db
        .deleteFrom('events')
        .where('id', 'in', (eb) => eb.selectFrom('events').select('id').where('id', '<', firstIdAt('evt', cutoff)).where('time', '<', cutoff).limit(BATCH))
        .executeTakeFirst(),
    );
    return { events, deliveries };
  }

  private async drain(batch: () => Promise<{ numDeletedRows: bigint }>): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = Number((await batch()).numDeletedRows);
      total += deleted;
      if (deleted < BATCH) return total;
    }
  }
}
