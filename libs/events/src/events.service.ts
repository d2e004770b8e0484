import { Clock, Database, type DB, decodeCursor, type Page, toPage, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import { recordEventQuery } from './event-statement';

type EventRow = Selectable<DB['events']>;

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
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Writes the event and the deliveries it owes inside the caller's unit of work, in one statement
   * (see recordEventQuery).
   */
  async record(tx: UnitOfWork, event: NewEvent): Promise<RecordedEvent> {
    const time = this.clock.now();
    const { id, query } = recordEventQuery(tx, event, time);
    const [row] = await query.execute();
    return { id, time, deliveries: row?.deliveries ?? 0 };
  }

  /** An organisation's events, newest first. */
  async listForOrganization(organizationId: string, filter: { type?: string }, limit: number, cursor?: string): Promise<Page<EventView>> {
    return toPage(await this.page({ organizationId, type: filter.type }, limit, cursor), limit, present);
  }

  /** Every organisation's events (staff), newest first. */
  async listAll(filter: { organizationId?: string; type?: string }, limit: number, cursor?: string): Promise<Page<AdminEventView>> {
    return toPage(await this.page(filter, limit, cursor), limit, (row) => ({ ...present(row), organization_id: row.organization_id }));
  }

  private page(filter: { organizationId?: string; type?: string }, limit: number, cursor: string | undefined): Promise<EventRow[]> {
    const before = decodeCursor(cursor, 'evt');
    let query = this.db.selectFrom('events').selectAll();
    if (filter.organizationId !== undefined) query = query.where('organization_id', '=', filter.organizationId);
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    if (before) query = query.where('id', '<', before);
    return query
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
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
