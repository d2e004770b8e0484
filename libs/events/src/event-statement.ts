import { eventRoutes } from '@capstan/contracts';
import { jsonb, newId, Prisma, type UnitOfWork } from '@capstan/platform';
import { sql } from 'kysely';
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

/**
 * The Kysely form of `eventStatement` for callers on a unit of work: the event, the webhooks of
 * its organisation that subscribe to its type, and one delivery per such webhook, as one
 * statement (data-modifying CTEs) that answers how many deliveries were queued. Delivery ids are
 * minted here as in `eventStatement` and paired with the webhooks by their row number.
 * (`eventStatement` stays for the operations engine, which embeds its CTEs in Prisma.sql
 * statements of its own, until the engine is on Kysely.)
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
        .values({ id, organization_id: event.organizationId, type: event.type, source: event.source, subject: event.subject ?? null, data: jsonb(event.data), time })
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
