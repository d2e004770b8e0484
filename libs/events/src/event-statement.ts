import { eventRoutes } from '@capstan/contracts';
import { jsonb, newId, type UnitOfWork } from '@capstan/platform';
import { sql } from 'kysely';
import type { NewEvent } from './events.service';

/**
 * Records an event for a caller on a unit of work: the event, the webhooks of its organisation
 * that subscribe to its type, and one delivery per such webhook, as one statement (data-modifying
 * CTEs) that answers how many deliveries were queued, so the event and what it owes webhooks
 * exist if and only if the change commits. Delivery ids are minted here, one per webhook an
 * organisation may have at most (time-ordered ULIDs come from the application), and paired with
 * the webhooks by their row number.
 */
export function recordEventQuery(db: UnitOfWork, event: NewEvent, time: Date): { id: string; query: ReturnType<typeof buildRecordEventQuery> } {
  if (!eventRoutes.EVENT_TYPE_PATTERN.test(event.type)) throw new Error(`event type "${event.type}" is not a reverse-DNS name`);
  const id = newId('evt');
  const deliveryIds = event.organizationId === null ? [] : Array.from({ length: eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION }, () => newId('whd'));
  return { id, query: buildRecordEventQuery(db, event, time, id, deliveryIds) };
}

function buildRecordEventQuery(db: UnitOfWork, event: NewEvent, time: Date, id: string, deliveryIds: string[]) {
  return db
    .with('recorded_event', (q) =>
      q
        .insertInto('events')
        .values({
          id,
          organization_id: event.organizationId,
          type: event.type,
          source: event.source,
          subject: event.subject ?? null,
          data: jsonb(event.data),
          time,
        })
        .returning('id'),
    )
    .with('event_hooks', (q) =>
      q
        .selectFrom('webhooks as w')
        .select(['w.id', sql<number>`row_number() OVER (ORDER BY w.id)::int`.as('n')])
        .where((eb) => eb.exists(eb.selectFrom('recorded_event').select('recorded_event.id')))
        .where('w.organization_id', '=', sql<string>`${event.organizationId}::text`)
        .where('w.disabled_at', 'is', null)
        .where((eb) => eb.or([eb(eb.fn('cardinality', ['w.event_types']), '=', 0), eb(sql.val(event.type), '=', eb.fn.any('w.event_types'))])),
    )
    .with('event_deliveries', (q) =>
      q
        .insertInto('webhook_deliveries')
        .columns(['id', 'webhook_id', 'organization_id', 'event_id', 'event_type', 'updated_at'])
        .expression((eb) =>
          eb
            .selectFrom('event_hooks as h')
            .select([
              sql<string>`(${deliveryIds}::text[])[h.n]`.as('id'),
              'h.id as webhook_id',
              sql<string>`${event.organizationId}::text`.as('organization_id'),
              sql<string>`${id}::text`.as('event_id'),
              sql<string>`${event.type}::text`.as('event_type'),
              sql<Date>`${time}::timestamptz`.as('updated_at'),
            ])
            .where('h.n', '<=', deliveryIds.length),
        )
        .returning('id'),
    )
    .selectFrom('event_deliveries')
    .select(sql<number>`count(*)::int`.as('deliveries'));
}
