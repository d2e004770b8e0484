import { eventRoutes } from '@capstan/contracts';
import { newId, Prisma } from '@capstan/platform';
import type { NewEvent } from './events.service';

export interface EventStatement {
  id: string;
  time: Date;
  /**
   * `recorded_event`, `event_hooks` and `event_deliveries`: CTEs for the WITH list of the
   * statement that makes the change the event reports. `event_deliveries` returns one row per
   * delivery queued.
   */
  ctes: Prisma.Sql;
}

/**
 * Records an event and queues one delivery per enabled webhook of its organisation that
 * subscribes to its type, as CTEs of the caller's own statement: the event and what it owes
 * webhooks exist if and only if the change commits, in one round trip. The operations engine
 * writes one on every state change, so the common path must not cost a transaction of its own.
 *
 * Delivery ids are minted here, one per webhook an organisation may have at most (they are
 * time-ordered ULIDs, so they must come from the application): the rows of `event_hooks` are
 * numbered and paired with them.
 *
 * @param when  a condition; the event is recorded only if it holds (e.g. "the status changed").
 */
export function eventStatement(event: NewEvent, time: Date, when: Prisma.Sql = Prisma.sql`true`): EventStatement {
  if (!eventRoutes.EVENT_TYPE_PATTERN.test(event.type)) throw new Error(`event type "${event.type}" is not a reverse-DNS name`);
  const id = newId('evt');
  const deliveryIds = event.organizationId === null ? [] : Array.from({ length: eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION }, () => newId('whd'));
  const ctes = Prisma.sql`
    recorded_event AS (
      INSERT INTO events (id, organization_id, type, source, subject, data, time)
      SELECT ${id}, ${event.organizationId}, ${event.type}, ${event.source}, ${event.subject ?? null}, ${JSON.stringify(event.data)}::jsonb, ${time}::timestamptz
      WHERE ${when}
      RETURNING id
    ), event_hooks AS (
      SELECT w.id, row_number() OVER (ORDER BY w.id) AS n FROM webhooks w
      WHERE EXISTS (SELECT 1 FROM recorded_event) AND w.organization_id = ${event.organizationId}::text AND w.disabled_at IS NULL
        AND (cardinality(w.event_types) = 0 OR ${event.type} = ANY(w.event_types))
    ), event_deliveries AS (
      INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event_id, event_type, updated_at)
      SELECT d.id, h.id, ${event.organizationId}, ${id}, ${event.type}, ${time}::timestamptz
      FROM event_hooks h JOIN unnest(${deliveryIds}::text[]) WITH ORDINALITY AS d(id, n) ON d.n = h.n
      RETURNING 1
    )`;
  return { id, time, ctes };
}
