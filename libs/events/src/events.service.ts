import { eventRoutes } from '@capstan/contracts';
import { Clock, decodeCursor, newId, type Page, PrismaService, type PrismaTx, toPage } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

type EventRow = Awaited<ReturnType<PrismaService['event']['findFirstOrThrow']>>;

/** What happened, in CloudEvents terms. */
export interface NewEvent {
  /** Null for fleet-wide events, which only staff see and no webhook receives. */
  organizationId: string | null;
  /** Reverse-DNS, e.g. `dev.capstan.operation.succeeded`. */
  type: string;
  /** The resource the event is about, e.g. `/v1/operations/op_...`. */
  source: string;
  subject?: string | null;
  data: Record<string, unknown>;
}

export interface RecordedEvent {
  id: string;
  time: Date;
  /** How many webhook deliveries were queued for it. */
  deliveries: number;
}

export interface EventView {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  time: string;
  data: Record<string, unknown>;
}

export interface AdminEventView extends EventView {
  organization_id: string | null;
}

/**
 * The event log and its fan-out to webhooks. `record` runs inside the caller's transaction, so an
 * event (and every delivery it owes) exists if and only if the change it reports committed; the
 * deliveries are then carried out by the WebhookDeliverer in the worker, never in the request.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
  ) {}

  /**
   * Writes the event and one pending delivery per enabled webhook of its organisation that
   * subscribes to its type: one insert, one indexed select and one multi-row insert, because the
   * operations engine calls it on every state change.
   */
  async record(tx: PrismaTx, event: NewEvent): Promise<RecordedEvent> {
    if (!eventRoutes.EVENT_TYPE_PATTERN.test(event.type)) throw new Error(`event type "${event.type}" is not a reverse-DNS name`);
    const id = newId('evt');
    const time = this.clock.now();
    // One statement for the common case (no webhook): the insert rides in a CTE of the lookup.
    // Raw SQL because this runs on every operation state change and Prisma compiles per query.
    const webhooks = await tx.$queryRaw<{ id: string }[]>`
      WITH recorded AS (
        INSERT INTO events (id, organization_id, type, source, subject, data, time)
        VALUES (${id}, ${event.organizationId}, ${event.type}, ${event.source}, ${event.subject ?? null}, ${JSON.stringify(event.data)}::jsonb, ${time})
      )
      SELECT w.id FROM webhooks w
      WHERE ${event.organizationId}::text IS NOT NULL AND w.organization_id = ${event.organizationId} AND w.disabled_at IS NULL
        AND (cardinality(w.event_types) = 0 OR ${event.type} = ANY(w.event_types))`;
    if (event.organizationId === null) return { id, time, deliveries: 0 };
    const organizationId = event.organizationId;
    if (webhooks.length > 0) {
      // next_attempt_at null: due at once.
      await tx.webhookDelivery.createMany({
        data: webhooks.map((webhook) => ({ id: newId('whd'), webhookId: webhook.id, organizationId, eventId: id, eventType: event.type })),
      });
    }
    return { id, time, deliveries: webhooks.length };
  }

  /** An organisation's events, newest first. */
  async listForOrganization(organizationId: string, filter: { type?: string }, limit: number, cursor?: string): Promise<Page<EventView>> {
    return toPage(await this.page({ organizationId, type: filter.type }, limit, cursor), limit, present);
  }

  /** Every organisation's events (staff), newest first. */
  async listAll(filter: { organizationId?: string; type?: string }, limit: number, cursor?: string): Promise<Page<AdminEventView>> {
    return toPage(await this.page(filter, limit, cursor), limit, (row) => ({ ...present(row), organization_id: row.organizationId }));
  }

  private page(filter: { organizationId?: string; type?: string }, limit: number, cursor: string | undefined): Promise<EventRow[]> {
    const before = decodeCursor(cursor);
    return this.prisma.event.findMany({
      where: { organizationId: filter.organizationId, type: filter.type, ...(before ? { id: { lt: before } } : {}) },
      orderBy: { id: 'desc' },
      take: limit + 1,
    });
  }
}

function present(row: EventRow): EventView {
  return {
    id: row.id,
    type: row.type,
    source: row.source,
    subject: row.subject,
    time: row.time.toISOString(),
    data: row.data as Record<string, unknown>,
  };
}
