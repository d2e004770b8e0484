import { eventRoutes } from '@capstan/contracts';
import type { NewEvent } from './events.service';
import { type DB, newId } from '@capstan/platform';
import { type Expression, type QueryCreator, sql, type SqlBool } from 'kysely';

/** The CTEs `withEvent` adds; `event_deliveries` has one row per webhook delivery queued. */
export interface EventCtes {
  recorded_event: { id: string };
  event_hooks: { id: string; n: number };
  event_deliveries: { one: number };
}

/**
 * Records an event, and queues one delivery per enabled webhook of its organisation that
 * subscribes to its type, as CTEs of the statement that makes the change the event reports: the
 * event exists if and only if the change commits, in the change's one round trip (the engine
 * writes one on every status change of every operation). The same rows as `recordEventQuery`,
 * as CTEs for the engine's statements.
 *
 * Delivery ids are time-ordered ULIDs, so they come from the application: one per webhook an
 * organisation may have at most, paired with the webhooks by their row number.
 *
 * @param when  the event is recorded only if it holds (e.g. "the status changed"); it may refer
 *              to the statement's earlier CTEs.
 */
export function withEvent<C>(creator: QueryCreator<DB & C>, event: NewEvent, time: Date, when: Expression<SqlBool>): QueryCreator<DB & C & EventCtes> {
  if (!eventRoutes.EVENT_TYPE_PATTERN.test(event.type)) throw new Error(`event type "${event.type}" is not a reverse-DNS name`);
  const id = newId('evt');
  const deliveryIds = event.organizationId === null ? [] : Array.from({ length: eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION }, () => newId('whd'));
  // The earlier CTEs are only referred to by `when`, which the caller typed against them.
  const base = creator as unknown as QueryCreator<DB>;
  const built = base
    .with('recorded_event', (db) =>
      db
        .insertInto('events')
        .columns(['id', 'organization_id', 'type', 'source', 'subject', 'data', 'time'])
        .expression(
          db
            .selectNoFrom([
              sql<string>`${id}::text`.as('id'),
              sql<string | null>`${event.organizationId}::text`.as('organization_id'),
              sql<string>`${event.type}::text`.as('type'),
              sql<string>`${event.source}::text`.as('source'),
              sql<string | null>`${event.subject ?? null}::text`.as('subject'),
              sql<unknown>`${JSON.stringify(event.data)}::jsonb`.as('data'),
              sql<Date>`${time}::timestamptz`.as('time'),
            ])
            .where(when),
        )
        .returning('id'),
    )
    .with('event_hooks', (db) =>
      db
        .selectFrom('webhooks as w')
        .select(['w.id', sql<number>`row_number() OVER (ORDER BY w.id)`.as('n')])
        .where((eb) =>
          eb.and([
            eb.exists(eb.selectFrom('recorded_event').select('recorded_event.id')),
            eb('w.organization_id', '=', event.organizationId ?? ''),
            eb('w.disabled_at', 'is', null),
            eb.or([eb(eb.fn<number>('cardinality', ['w.event_types']), '=', 0), eb(eb.val(event.type), '=', eb.fn.any('w.event_types'))]),
          ]),
        ),
    )
    .with('event_deliveries', (db) =>
      db
        .insertInto('webhook_deliveries')
        .columns(['id', 'webhook_id', 'organization_id', 'event_id', 'event_type', 'updated_at'])
        .expression(
          db
            .selectFrom('event_hooks as h')
            .select([
              sql<string>`(${deliveryIds}::text[])[h.n]`.as('id'),
              'h.id as webhook_id',
              sql<string>`${event.organizationId}::text`.as('organization_id'),
              sql<string>`${id}::text`.as('event_id'),
              sql<string>`${event.type}::text`.as('event_type'),
              sql<Date>`${time}::timestamptz`.as('updated_at'),
            ]),
        )
        .returning(sql<number>`1`.as('one')),
    );
  return built as unknown as QueryCreator<DB & C & EventCtes>;
}
