import { eventRoutes } from '@capstan/contracts';
import { NotFoundError, UnprocessableError } from '@capstan/domain';
import { Clock, Database, type DB, decodeCursor, newId, type Page, toPage, WebhookConfig } from '@capstan/platform';
import { type Actor, AuditLog, lockOrganization } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import { assertWebhookUrl } from './webhook-url';
import { WebhookSecrets } from './webhook-secrets';

type WebhookRow = Selectable<DB['webhooks']>;
type DeliveryRow = Selectable<DB['webhook_deliveries']>;

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
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock,
    private readonly config: WebhookConfig,
  ) {}

  async create(actor: Actor, organizationId: string, input: NewWebhook): Promise<WebhookView & { secret: string }> {
    assertWebhookUrl(input.url, this.config);
    const id = newId('wh');
    const issued = this.secrets.issue(id);
    const webhook = await this.db.transaction().execute(async (trx) => {
      // Serialises creates per organisation, so two concurrent requests cannot both be the 20th.
      await lockOrganization(trx, organizationId);
      const { existing } = await trx
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<bigint>().as('existing'))
        .where('organization_id', '=', organizationId)
        .where('disabled_at', 'is', null)
        .executeTakeFirstOrThrow();
      if (existing >= BigInt(eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION)) {
        throw new UnprocessableError(
          'webhook-limit-reached',
          `an organisation can have at most ${eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION} webhooks; delete one first`,
          { limit: eventRoutes.MAX_WEBHOOKS_PER_ORGANIZATION },
        );
      }
      const created = await trx
        .insertInto('webhooks')
        .values({
          id,
          organization_id: organizationId,
          url: input.url,
          description: input.description ?? null,
          event_types: input.eventTypes,
          secret_key_id: issued.secretKeyId,
          secret_sealed: Buffer.from(issued.secretSealed),
          created_at: this.clock.now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      // The secret stays out of the audit log: it is shown once, to the caller, and kept sealed.
      await this.audit.record(trx, {
        organizationId,
        actor,
        action: 'webhook.create',
        target: { type: 'webhook', id },
        changes: { url: { after: created.url }, event_types: { after: created.event_types }, description: { after: created.description } },
      });
      return created;
    });
    return { ...present(webhook), secret: issued.secret };
  }

  /** Oldest first, like API tokens: a short list people scan, not a feed. */
  async list(organizationId: string, limit: number, cursor?: string): Promise<Page<WebhookView>> {
    const after = decodeCursor(cursor, 'wh');
    let query = this.db.selectFrom('webhooks').selectAll().where('organization_id', '=', organizationId).where('disabled_at', 'is', null);
    if (after) query = query.where('id', '>', after);
    const rows = await query
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, present);
  }

  async get(organizationId: string, webhookId: string): Promise<WebhookView> {
    return present(await this.find(organizationId, webhookId));
  }

  /** Disables the webhook and abandons its pending deliveries, in one transaction. */
  async delete(actor: Actor, organizationId: string, webhookId: string): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const disabled = await trx
        .updateTable('webhooks')
        .set({ disabled_at: now })
        .where('id', '=', webhookId)
        .where('organization_id', '=', organizationId)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (disabled.numUpdatedRows === 0n) throw new NotFoundError('webhook', webhookId);
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'failed', last_error: 'the webhook was deleted', next_attempt_at: null, updated_at: now })
        .where('webhook_id', '=', webhookId)
        .where('status', '=', 'pending')
        .execute();
      await this.audit.record(trx, { organizationId, actor, action: 'webhook.delete', target: { type: 'webhook', id: webhookId } });
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
    const before = decodeCursor(cursor, 'whd');
    await this.find(organizationId, webhookId);
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('organization_id', '=', organizationId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (before) query = query.where('id', '<', before);
    const rows = await query
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, presentDelivery);
  }

  private async find(organizationId: string, webhookId: string): Promise<WebhookRow> {
    const webhook = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', webhookId)
      .where('organization_id', '=', organizationId)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (!webhook) throw new NotFoundError('webhook', webhookId);
    return webhook;
  }
}

function present(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.event_types,
    created_at: row.created_at.toISOString(),
  };
}

function presentDelivery(row: DeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    delivered_at: row.delivered_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}
