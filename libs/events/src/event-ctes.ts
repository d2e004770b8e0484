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
 * The values of one event's rows, as plain SQL parameters (`withEventValues`): a statement that
 * records an event can then be compiled once (CompiledOnce) and given these on each call. A
 * statement that knows the event's row only in SQL gives expressions for what it reads there.
 */
export interface EventValues {
  id: string;
  /** A value, or an expression over the statement's earlier CTEs (the row the event is about). */
  organizationId: string | null | Expression<string | null>;
  /** The organisation whose webhooks receive it ('' for a fleet-wide event: none). */
  hookOrganizationId: string | Expression<string>;
  type: string;
  source: string;
  subject: string | null | Expression<string | null>;
  /** The event's data as JSON text. */
  data: string | Expression<string>;
  time: Date;
  /** One time-ordered id per webhook the organisation may have (none for a fleet-wide event). */
  deliveryIds: string[];
}

/** Event values that are all plain values (no expression), as `eventValues` makes them. */
export type PlainEventValues = EventValues & { organizationId: string | null; hookOrganizationId: string; subject: string | null; data: string };

/**
 * Delivery ids are time-ordered ULIDs, so they come from the application: one per webhook an
 * organisation may have at most, paired with the webhooks by their row number.
 */
export function eventValues(event: NewEvent, time: Date): PlainEventValues {
  if (!eventRoutes.EVENT_TYPE_PATTERN.test(event.type)) throw new Error(`event type "${event.type}" is not a reverse-DNS name`);
  return {
    id: newId('evt'),
    organizationId: event.organizationId,
    hookOrganizationId: event.organizationId ?? '',
    type: event.type,
    source: event.source,
    subject: event.subject ?? null,
    data: JSON.stringify(event.data),
    time,
    deliveryIds: event.organizationId === null ? [] : newDeliveryIds(),
  };
}

/** Ids for the deliveries of an organisation's event: one per webhook it may have at most. */
export function newDeliveryIds(): string[] {
  return Array.from({ length: eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION }, () => newId('whd'));
}

/**
 * Records an event, and queues one delivery per enabled webhook of its organisation that
 * subscribes to its type, as CTEs of the statement that makes the change the event reports: the
 * event exists if and only if the change commits, in the change's one round trip (the engine
 * writes one on every status change of every operation). The same rows as `recordEventQuery`,
 * as CTEs for the engine's statements.
 *
 * @param when  the event is recorded only if it holds (e.g. "the status changed"); it may refer
 *              to the statement's earlier CTEs.
 */
export function withEvent<C>(creator: QueryCreator<DB & C>, event: NewEvent, time: Date, when: Expression<SqlBool>): QueryCreator<DB & C & EventCtes> {
  return withEventValues(creator, eventValues(event, time), when);
}

/** `withEvent` from the event's values, each used as a plain SQL parameter (see `EventValues`). */
export function withEventValues<C>(creator: QueryCreator<DB & C>, event: EventValues, when: Expression<SqlBool>): QueryCreator<DB & C & EventCtes> {
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
              sql<string>`${event.id}::text`.as('id'),
              sql<string | null>`${event.organizationId}::text`.as('organization_id'),
              sql<string>`${event.type}::text`.as('type'),
              sql<string>`${event.source}::text`.as('source'),
              sql<string | null>`${event.subject}::text`.as('subject'),
              sql<unknown>`${event.data}::jsonb`.as('data'),
              sql<Date>`${event.time}::timestamptz`.as('time'),
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
            eb('w.organization_id', '=', event.hookOrganizationId),
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
              sql<string>`(${event.deliveryIds}::text[])[h.n]`.as('id'),
              'h.id as webhook_id',
              sql<string>`${event.organizationId}::text`.as('organization_id'),
              sql<string>`${event.id}::text`.as('event_id'),
              sql<string>`${event.type}::text`.as('event_type'),
              sql<Date>`${event.time}::timestamptz`.as('updated_at'),
            ]),
        )
        .returning(sql<number>`1`.as('one')),
    );
  return built as unknown as QueryCreator<DB & C & EventCtes>;
}
