import { eventRoutes } from '@capstan/contracts';
import { NotFoundError, UnprocessableError } from '@capstan/domain';
import { Clock, decodeCursor, newId, type Page, PrismaService, toPage, WebhookConfig } from '@capstan/platform';
import { type Actor, AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { assertWebhookUrl } from './webhook-url';
import { WebhookSecrets } from './webhook-secrets';

type WebhookRow = Awaited<ReturnType<PrismaService['webhook']['findFirstOrThrow']>>;
type DeliveryRow = Awaited<ReturnType<PrismaService['webhookDelivery']['findFirstOrThrow']>>;

export interface WebhookView {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  created_at: string;
}

export interface WebhookDeliveryView {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
}

export interface NewWebhook {
  url: string;
  eventTypes: string[];
  description?: string;
}

/**
 * An organisation's webhooks. Every query takes the caller's organisation, so another tenant's
 * webhook is simply not found (404). Deleting one keeps its row (disabled) so the delivery log
 * and the audit trail still resolve, but it is gone from every customer-facing answer.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditLog,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock,
    private readonly config: WebhookConfig,
  ) {}

  async create(actor: Actor, organizationId: string, input: NewWebhook): Promise<WebhookView & { secret: string }> {
    assertWebhookUrl(input.url, this.config);
    const id = newId('wh');
    const issued = this.secrets.issue(id);
    const webhook = await this.prisma.$transaction(async (tx) => {
      // Serialises creates per organisation, so two concurrent requests cannot both be the 20th.
      const [org] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM organizations WHERE id = ${organizationId} FOR UPDATE`;
      if (!org) throw new NotFoundError('organization', organizationId);
      const existing = await tx.webhook.count({ where: { organizationId, disabledAt: null } });
      if (existing >= eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION) {
        throw new UnprocessableError(
          'webhook-limit-reached',
          `an organisation can have at most ${eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION} webhooks; delete one first`,
          { limit: eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION },
        );
      }
      const created = await tx.webhook.create({
        data: {
          id,
          organizationId,
          url: input.url,
          description: input.description ?? null,
          eventTypes: input.eventTypes,
          secretKeyId: issued.secretKeyId,
          secretSealed: issued.secretSealed,
          createdAt: this.clock.now(),
        },
      });
      // The secret stays out of the audit log: it is shown once, to the caller, and kept sealed.
      await this.audit.record(tx, {
        organizationId,
        actor,
        action: 'webhook.create',
        target: { type: 'webhook', id },
        changes: { url: { after: created.url }, event_types: { after: created.eventTypes }, description: { after: created.description } },
      });
      return created;
    });
    return { ...present(webhook), secret: issued.secret };
  }

  /** Oldest first, like API tokens: a short list people scan, not a feed. */
  async list(organizationId: string, limit: number, cursor?: string): Promise<Page<WebhookView>> {
    const after = decodeCursor(cursor);
    const rows = await this.prisma.webhook.findMany({
      where: { organizationId, disabledAt: null, ...(after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    return toPage(rows, limit, present);
  }

  async get(organizationId: string, webhookId: string): Promise<WebhookView> {
    return present(await this.find(organizationId, webhookId));
  }

  /** Disables the webhook and abandons its pending deliveries, in one transaction. */
  async delete(actor: Actor, organizationId: string, webhookId: string): Promise<void> {
    const now = this.clock.now();
    await this.prisma.$transaction(async (tx) => {
      const disabled = await tx.webhook.updateMany({ where: { id: webhookId, organizationId, disabledAt: null }, data: { disabledAt: now } });
      if (disabled.count === 0) throw new NotFoundError('webhook', webhookId);
      await tx.webhookDelivery.updateMany({
        where: { webhookId, status: 'pending' },
        data: { status: 'failed', lastError: 'the webhook was deleted', nextAttemptAt: null },
      });
      await this.audit.record(tx, { organizationId, actor, action: 'webhook.delete', target: { type: 'webhook', id: webhookId } });
    });
  }

  /** The delivery log, newest first. */
  async listDeliveries(
    organizationId: string,
    webhookId: string,
    filter: { status?: 'pending' | 'succeeded' | 'failed' },
    limit: number,
    cursor?: string,
  ): Promise<Page<WebhookDeliveryView>> {
    const before = decodeCursor(cursor);
    await this.find(organizationId, webhookId);
    const rows = await this.prisma.webhookDelivery.findMany({
      where: { webhookId, organizationId, status: filter.status, ...(before ? { id: { lt: before } } : {}) },
      orderBy: { id: 'desc' },
      take: limit + 1,
    });
    return toPage(rows, limit, presentDelivery);
  }

  private async find(organizationId: string, webhookId: string): Promise<WebhookRow> {
    const webhook = await this.prisma.webhook.findFirst({ where: { id: webhookId, organizationId, disabledAt: null } });
    if (!webhook) throw new NotFoundError('webhook', webhookId);
    return webhook;
  }
}

function present(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.eventTypes,
    created_at: row.createdAt.toISOString(),
  };
}

function presentDelivery(row: DeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    webhook_id: row.webhookId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}
