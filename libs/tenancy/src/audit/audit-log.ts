import { Database, type db, decodeCursor, jsonb, newId, type Page, RequestContext, toPage, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';

type ActorType = db.ActorType;
import type { Actor } from '../auth/caller';

export type Changes = Record<string, { before?: unknown; after?: unknown }>;

export interface AuditEntry {
  organizationId: string | null;
  actor: Actor;
  action: string;
  target: { type: string; id: string };
  changes?: Changes;
  reason?: string | null;
}

const SECRET_FIELD = /secret|token|password|kubeconfig|private|credential|key$/i;

/** Field-level before/after of what changed, secrets redacted before they reach the table. */
export function changesBetween<T extends Record<string, unknown>>(before: Partial<T> | null, after: Partial<T> | null, fields: (keyof T & string)[]): Changes {
  const changes: Changes = {};
  for (const field of fields) {
    const a = before?.[field];
    const b = after?.[field];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changes[field] = SECRET_FIELD.test(field)
      ? { before: a === undefined ? undefined : '[redacted]', after: b === undefined ? undefined : '[redacted]' }
      : { before: a, after: b };
  }
  return changes;
}

export interface AuditEventView {
  id: string;
  organization_id: string | null;
  actor: { type: Actor['type']; id: string };
  action: string;
  target: { type: string; id: string };
  request_id: string | null;
  source_ip: string | null;
  changes: Changes;
  reason: string | null;
  created_at: string;
}

/** The INSERT of one audit event, stamped with the request it came from. */
export function auditEventInsert(db: UnitOfWork, entry: AuditEntry, request: Pick<RequestContext, 'requestId' | 'sourceIp'>) {
  return db.insertInto('audit_events').values({
    id: newId('aud'),
    organization_id: entry.organizationId,
    actor_type: sql<ActorType>`${entry.actor.type}::"ActorType"`,
    actor_id: entry.actor.id,
    action: entry.action,
    target_type: entry.target.type,
    target_id: entry.target.id,
    request_id: request.requestId,
    source_ip: request.sourceIp,
    changes: jsonb(entry.changes ?? {}),
    reason: entry.reason ?? null,
  });
}

/** What an audit search narrows to; every field left out matches everything. */
export interface AuditFilter {
  /** Undefined lists every organisation (staff only). */
  organizationId?: string;
  action?: string;
  targetId?: string;
  actorId?: string;
  /** RFC 3339 instants: `since` inclusive, `until` exclusive. */
  since?: string;
  until?: string;
}

/**
 * Audit events are written inside the transaction of the change they record, so a change without
 * its event (or an event without its change) cannot exist.
 */
@Injectable()
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly context: RequestContext,
  ) {}

  /** One INSERT inside the caller's unit of work. */
  async record(tx: UnitOfWork, entry: AuditEntry): Promise<void> {
    await auditEventInsert(tx, entry, this.context).execute();
  }

  /**
   * Newest first: by `created_at`, then id (events of one transaction share their `created_at`).
   * The cursor stays the last event's id; the next page starts below that event's
   * `(created_at, id)`, read in the same statement and within the same organisation (a cursor of
   * another organisation's event matches nothing). Each filter has an index whose order is this
   * one (prisma/schema.prisma, `AuditEvent`; docs/staff.md, "What did customer X change"), so a
   * page reads its rows and stops instead of sorting every match.
   */
  async list(filter: AuditFilter, limit: number, cursor?: string): Promise<Page<AuditEventView>> {
    const after = decodeCursor(cursor, 'aud');
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filter.organizationId !== undefined) query = query.where('organization_id', '=', filter.organizationId);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
    if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
    if (filter.since !== undefined) query = query.where('created_at', '>=', new Date(filter.since));
    if (filter.until !== undefined) query = query.where('created_at', '<', new Date(filter.until));
    if (after) {
      let last = this.db.selectFrom('audit_events as last').select(['last.created_at', 'last.id']).where('last.id', '=', after);
      if (filter.organizationId !== undefined) last = last.where('last.organization_id', '=', filter.organizationId);
      query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', last.$asTuple('created_at', 'id')));
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, (row) => ({
      id: row.id,
      organization_id: row.organization_id,
      actor: { type: row.actor_type, id: row.actor_id },
      action: row.action,
      target: { type: row.target_type, id: row.target_id },
      request_id: row.request_id,
      source_ip: row.source_ip,
      changes: row.changes as Changes,
      reason: row.reason,
      created_at: row.created_at.toISOString(),
    }));
  }
}
