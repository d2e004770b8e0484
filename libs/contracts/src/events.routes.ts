import { idOf, page, paginationQuery, timestamp } from './common.schema';
import { defineRoute } from './route';
import { printableText } from './text.schema';
import { z } from './zod';

/**
 * CloudEvents `type`s are reverse-DNS names (CloudEvents 1.0, "type" attribute), e.g.
 * `dev.capstan.operation.succeeded`: lower-case segments of letters, digits, `-` and `_`.
 */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9_-]*)+$/;

/** Limits a customer can rely on (and that keep fan-out and delivery bounded). */
export const MAX_WEBHOOKS_PER_ORGANIZATION = 20;
export const MAX_EVENT_TYPES_PER_WEBHOOK = 50;

export const eventType = z
  .string()
  .max(200)
  .regex(EVENT_TYPE_PATTERN, 'must be a reverse-DNS event type such as dev.capstan.operation.succeeded')
  .openapi({ example: 'dev.capstan.operation.succeeded' });

export const eventSchema = z
  .object({
    id: z.string().openapi({ example: 'evt_01jd3z6q4e5k8w2x9v7b0c1n2m' }),
    type: eventType,
    source: z.string().openapi({ description: 'The resource the event is about', example: '/v1/operations/op_01jd3z6q4e5k8w2x9v7b0c1n2m' }),
    subject: z.string().nullable(),
    time: timestamp,
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('Event', { description: 'A CloudEvents 1.0 event, as webhooks deliver it' });

export const adminEventSchema = eventSchema
  .extend({ organization_id: z.string().nullable().openapi({ description: 'Null for fleet-wide events' }) })
  .openapi('AdminEvent');

export const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()).openapi({ description: 'Event types delivered; empty means every type' }),
    created_at: timestamp,
  })
  .openapi('Webhook');

export const createdWebhookSchema = webhookSchema
  .extend({
    secret: z.string().openapi({
      description:
        'The signing secret (`whsec_` + base64 of 32 random bytes), shown once; store it now. Deliveries carry ' +
        '`webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the ' +
        'base64-decoded part after `whsec_` (the Standard Webhooks scheme).',
    }),
  })
  .openapi('CreatedWebhook');

const deliveryStatus = z.enum(['pending', 'succeeded', 'failed']);

export const webhookDeliverySchema = z
  .object({
    id: z.string(),
    webhook_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    status: deliveryStatus,
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable().openapi({ description: "The endpoint's last HTTP status; null if it never answered" }),
    last_error: z.string().nullable(),
    next_attempt_at: timestamp.nullable().openapi({ description: 'When the next attempt is due; null once succeeded or failed' }),
    delivered_at: timestamp.nullable(),
    created_at: timestamp,
  })
  .openapi('WebhookDelivery');

export const createWebhookBody = z
  .object({
    // The https-only rule depends on a setting, and credentials in URLs are refused outright: both
    // are checked by the service (422), so this schema only asks for an http(s) URL.
    url: z
      .string()
      .max(2048)
      .refine((value) => /^https?:\/\//i.test(value) && URL.canParse(value), 'must be an https:// URL')
      .openapi({ example: 'https://hooks.example.com/capstan' }),
    event_types: z
      .array(eventType)
      .max(MAX_EVENT_TYPES_PER_WEBHOOK)
      .refine((types) => new Set(types).size === types.length, 'must not repeat a type')
      .default([])
      .openapi({ description: 'Event types to deliver; empty (the default) means every type' }),
    description: printableText(1, 500).optional(),
  })
  .strict()
  .openapi('CreateWebhookRequest');

const webhookParams = z.object({ webhook_id: idOf('wh') }).strict();

// ------------------------------------------------------------------ customers

export const listEvents = defineRoute({
  operationId: 'listEvents',
  method: 'GET',
  path: '/v1/events',
  summary: "Your organisation's events, newest first",
  tags: ['Events'],
  access: 'customer:read',
  query: z.object({ ...paginationQuery, type: eventType.optional() }).strict(),
  responses: { 200: { description: 'A page of events', schema: page(eventSchema, 'EventPage') } },
});

export const createWebhook = defineRoute({
  operationId: 'createWebhook',
  method: 'POST',
  path: '/v1/webhooks',
  summary: 'Subscribe an HTTPS endpoint to events; the signing secret is shown once',
  description:
    `Events are POSTed as CloudEvents (structured mode, \`application/cloudevents+json\`) and signed with the ` +
    `Standard Webhooks headers \`webhook-id\`, \`webhook-timestamp\` and \`webhook-signature\`. A delivery that ` +
    `does not get a 2xx within 5 s is retried with exponential backoff for 24 h. At most ` +
    `${MAX_WEBHOOKS_PER_ORGANIZATION} webhooks per organisation; URLs must be https:// and carry no credentials.`,
  tags: ['Webhooks'],
  access: 'customer:write',
  body: createWebhookBody,
  // Not `idempotent`: a replayed answer would have to be kept, and it holds the signing secret,
  // which Capstan stores only sealed (docs/observability.md, "Secrets in logs").
  oneTimeSecret: true,
  responses: {
    201: {
      description: 'The webhook and its signing secret',
      schema: createdWebhookSchema,
      headers: { Location: 'The new webhook (/v1/webhooks/{webhook_id})' },
    },
  },
  errors: [422],
});

export const listWebhooks = defineRoute({
  operationId: 'listWebhooks',
  method: 'GET',
  path: '/v1/webhooks',
  summary: "Your organisation's webhooks, oldest first (never their secrets)",
  tags: ['Webhooks'],
  access: 'customer:read',
  query: z.object(paginationQuery).strict(),
  responses: { 200: { description: 'A page of webhooks', schema: page(webhookSchema, 'WebhookPage') } },
});

export const getWebhook = defineRoute({
  operationId: 'getWebhook',
  method: 'GET',
  path: '/v1/webhooks/{webhook_id}',
  summary: 'One webhook (never its secret)',
  tags: ['Webhooks'],
  access: 'customer:read',
  params: webhookParams,
  responses: { 200: { description: 'The webhook', schema: webhookSchema } },
});

export const deleteWebhook = defineRoute({
  operationId: 'deleteWebhook',
  method: 'DELETE',
  path: '/v1/webhooks/{webhook_id}',
  summary: 'Delete a webhook; its pending deliveries are abandoned',
  tags: ['Webhooks'],
  access: 'customer:write',
  params: webhookParams,
  responses: { 204: { description: 'Deleted' } },
});

export const listWebhookDeliveries = defineRoute({
  operationId: 'listWebhookDeliveries',
  method: 'GET',
  path: '/v1/webhooks/{webhook_id}/deliveries',
  summary: "A webhook's delivery log, newest first",
  tags: ['Webhooks'],
  access: 'customer:read',
  params: webhookParams,
  query: z.object({ ...paginationQuery, status: deliveryStatus.optional() }).strict(),
  responses: { 200: { description: 'A page of deliveries', schema: page(webhookDeliverySchema, 'WebhookDeliveryPage') } },
});

// ------------------------------------------------------------------ staff

export const adminListEvents = defineRoute({
  operationId: 'adminListEvents',
  method: 'GET',
  path: '/admin/v1/events',
  summary: 'Events across all organisations, newest first',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ ...paginationQuery, organization_id: idOf('org').optional(), type: eventType.optional() }).strict(),
  responses: { 200: { description: 'A page of events', schema: page(adminEventSchema, 'AdminEventPage') } },
});
