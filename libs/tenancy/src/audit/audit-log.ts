import { decodeCursor, newId, type Page, Prisma, type RawTx, PrismaService, RequestContext, toPage } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
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
export function auditEventInsert(entry: AuditEntry, request: Pick<RequestContext, 'requestId' | 'sourceIp'>): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO audit_events (id, organization_id, actor_type, actor_id, action, target_type, target_id, request_id, source_ip, changes, reason)
    VALUES (${newId('aud')}, ${entry.organizationId}, ${entry.actor.type}::"ActorType", ${entry.actor.id}, ${entry.action}, ${entry.target.type},
            ${entry.target.id}, ${request.requestId}, ${request.sourceIp}, ${JSON.stringify(entry.changes ?? {})}::jsonb, ${entry.reason ?? null})`;
}

/**
 * Audit events are written inside the transaction of the change they record, so a change without
 * its event (or an event without its change) cannot exist.
 */
@Injectable()
export class AuditLog {
  constructor(
    private readonly prisma: PrismaService,
    private readonly context: RequestContext,
  ) {}

  async record(tx: RawTx, entry: AuditEntry): Promise<void> {
    // Raw SQL: every change writes one, inside its transaction, so it must be cheap.
    await tx.$executeRaw(auditEventInsert(entry, this.context));
  }

  /** Newest first. `organizationId` undefined lists every organisation (staff only). */
  async list(filter: { organizationId?: string; action?: string; targetId?: string }, limit: number, cursor?: string): Promise<Page<AuditEventView>> {
    const after = decodeCursor(cursor);
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        organizationId: filter.organizationId,
        action: filter.action,
        targetId: filter.targetId,
        ...(after ? { id: { lt: after } } : {}),
      },
      orderBy: { id: 'desc' },
      take: limit + 1,
    });
    return toPage(rows, limit, (row) => ({
      id: row.id,
      organization_id: row.organizationId,
      actor: { type: row.actorType, id: row.actorId },
      action: row.action,
      target: { type: row.targetType, id: row.targetId },
      request_id: row.requestId,
      source_ip: row.sourceIp,
      changes: row.changes as Changes,
      reason: row.reason,
      created_at: row.createdAt.toISOString(),
    }));
  }
}
