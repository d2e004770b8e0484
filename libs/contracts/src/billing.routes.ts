import { idOf, timestamp } from './common.schema';
import { providerSchema } from './clusters.routes';
import { defineRoute } from './route';
import { month, monthQuery } from './sla.routes';
import { z } from './zod';

/*
 * Billing (docs/billing.md): the price catalogue, customers' usage, staff invoices in JSON, CSV and
 * the FinOps FOCUS 1.0 column set, and the SLA credits owed. Money is integer cents (`*_cents`)
 * with its currency; prices and quantities are exact decimals written as strings.
 */

export const usageKindSchema = z.enum(['cluster_fee', 'node', 'addon', 'backup_storage']).openapi({
  description:
    'cluster_fee per cluster-hour (sku: provider), node per node-hour (sku: machine type), addon per add-on-hour (sku: add-on), backup_storage per GiB-month (sku: backup)',
});
const decimal = z.string().openapi({ description: 'An exact decimal, written as a string', example: '0.164384' });
const staffReason = z.string().min(3).max(500).openapi({ description: 'Why; kept in the audit log' });

export const priceSchema = z
  .object({
    id: z.string(),
    kind: usageKindSchema,
    sku: z.string(),
    unit: z.string(),
    unit_price: decimal,
    currency: z.string(),
    effective_from: timestamp,
    effective_until: timestamp.nullable().openapi({ description: 'When the next price of the same kind and sku takes over; null while none does' }),
  })
  .openapi('Price');

export const listPrices = defineRoute({
  operationId: 'listPrices',
  method: 'GET',
  path: '/v1/prices',
  summary: 'The price catalogue: every price with the span it applies to (past, current and scheduled)',
  tags: ['Billing'],
  access: 'customer:read',
  query: z.object({ kind: usageKindSchema.optional() }).strict(),
  responses: { 200: { description: 'Prices, by kind, sku and instant', schema: z.object({ items: z.array(priceSchema) }).openapi('PriceList') } },
});

export const adminListPrices = defineRoute({
  operationId: 'adminListPrices',
  method: 'GET',
  path: '/admin/v1/prices',
  summary: 'The price catalogue with where each price came from',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ kind: usageKindSchema.optional() }).strict(),
  responses: {
    200: {
      description: 'Prices, by kind, sku and instant',
      schema: z
        .object({
          items: z.array(
            priceSchema.extend({ seed_revision: z.number().int().nullable(), reason: z.string().nullable(), created_at: timestamp }).openapi('AdminPrice'),
          ),
        })
        .openapi('AdminPriceList'),
    },
  },
});

export const adminCreatePrice = defineRoute({
  operationId: 'adminCreatePrice',
  method: 'POST',
  path: '/admin/v1/prices',
  summary: 'Set a price from an instant on (audited)',
  description:
    'The price holds from `effective_from` until a later price of the same kind and sku. `effective_from` may not fall before the ' +
    'current calendar month (UTC): a closed month is never rewritten (422). A second price at the same instant is a 409.',
  tags: ['Admin'],
  access: 'staff:operator',
  body: z
    .object({
      kind: usageKindSchema,
      sku: z
        .string()
        .min(1)
        .max(63)
        .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and "-"'),
      unit_price: z.string().max(32).openapi({ description: 'Non-negative decimal, at most 9 decimal places', example: '0.25' }),
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
        .optional()
        .openapi({ description: "The catalogue's currency (CHF); another is refused" }),
      effective_from: timestamp,
      reason: staffReason,
    })
    .strict()
    .openapi('CreatePriceRequest'),
  responses: { 201: { description: 'The price', schema: priceSchema } },
  errors: [409, 422],
});

export const invoiceLineSchema = z
  .object({
    cluster_id: z.string(),
    cluster_name: z.string(),
    region: z.string(),
    category: z.enum(['usage', 'credit']),
    item: z.enum(['cluster_fee', 'node', 'addon', 'backup_storage', 'sla_credit']),
    sku: z.string(),
    description: z.string(),
    quantity: decimal,
    unit: z.string(),
    unit_price: decimal.openapi({ description: 'Negative on a credit: the share of `quantity` (the charges) credited' }),
    amount_cents: z.number().int().openapi({ description: 'quantity × unit_price, rounded once to the cent (half away from zero); negative on a credit' }),
    currency: z.string(),
    charge_period_start: timestamp,
    charge_period_end: timestamp,
  })
  .openapi('InvoiceLine');

const totals = {
  charges_cents: z.number().int(),
  credits_cents: z.number().int().openapi({ description: 'SLA credits, negative' }),
  total_cents: z.number().int(),
  currency: z.string(),
};

export const usageSchema = z
  .object({
    month: z.string(),
    final: z.boolean().openapi({ description: 'A closed month is frozen: its figures never change again' }),
    as_of: timestamp.openapi({ description: 'Usage is counted up to here (the month end once it is over)' }),
    lines: z.array(invoiceLineSchema),
    ...totals,
    projection: z
      .object({ charges_cents: z.number().int(), currency: z.string(), through: timestamp })
      .nullable()
      .openapi({ description: "The current month only: the charges if every cluster keeps its size and prices to the month's end (before SLA credits)" }),
  })
  .openapi('BillingUsage');

export const getUsage = defineRoute({
  operationId: 'getBillingUsage',
  method: 'GET',
  path: '/v1/billing/usage',
  summary: "Your organisation's usage and charges for a month, per cluster, with SLA credits",
  description: 'The current month shows usage so far and a projection to its end. A future month is a 422.',
  tags: ['Billing'],
  access: 'customer:read',
  query: monthQuery,
  responses: { 200: { description: 'Usage lines and totals', schema: usageSchema } },
  errors: [422],
});

export const organizationInvoiceSchema = z
  .object({ organization_id: z.string(), organization_name: z.string(), lines: z.array(invoiceLineSchema), ...totals })
  .openapi('OrganizationInvoice');

/** The CSV export's columns, in order: one line item per row, then one `total` row per organisation. */
export const INVOICE_CSV_COLUMNS = [
  'organization_id',
  'organization_name',
  'cluster_id',
  'cluster_name',
  'category',
  'item',
  'sku',
  'description',
  'quantity',
  'unit',
  'unit_price',
  'amount',
  'amount_cents',
  'currency',
  'charge_period_start',
  'charge_period_end',
] as const;

export const adminListInvoices = defineRoute({
  operationId: 'adminListInvoices',
  method: 'GET',
  path: '/admin/v1/billing/invoices',
  summary: "Every organisation's invoice for a month: JSON, or CSV with Accept: text/csv",
  description:
    'One invoice per organisation with usage in the month: its line items, SLA credit lines (negative) and totals. A month over for ' +
    'more than an hour is frozen the first time it is asked for, and served as stored from then on. `Accept: text/csv` gives ' +
    '`text/csv; charset=utf-8` (RFC 4180) with one line item per row and a `total` row per organisation; fields that a spreadsheet ' +
    'would read as a formula are prefixed with a single quote. For the FinOps FOCUS 1.0 columns see /admin/v1/billing/focus.',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ month: month.optional(), organization_id: idOf('org').optional() }).strict(),
  responses: {
    200: {
      alternativeContentTypes: ['text/csv'],
      description: 'The invoices (application/json; text/csv when asked for with Accept)',
      schema: z
        .object({ month: z.string(), final: z.boolean(), computed_at: timestamp, invoices: z.array(organizationInvoiceSchema), ...totals })
        .openapi('InvoiceList'),
    },
  },
  errors: [422],
});

export const adminFocusExport = defineRoute({
  operationId: 'adminFocusExport',
  method: 'GET',
  path: '/admin/v1/billing/focus',
  summary: 'The month as a FinOps FOCUS 1.0 cost and usage dataset (CSV)',
  description:
    "Every column of FOCUS 1.0 (FinOps Open Cost and Usage Specification), one row per invoice line: usage rows with ChargeCategory 'Usage' " +
    "and SLA credits with 'Credit'. BilledCost sums to the invoices' totals. Formula-like fields are prefixed with a single quote.",
  tags: ['Admin'],
  access: 'staff:viewer',
  query: monthQuery,
  responses: { 200: { description: 'FOCUS 1.0 rows', contentType: 'text/csv' } },
  errors: [422],
});

/** One row per cluster owed an SLA credit. The CSV export has these columns, in this order. */
export const slaCreditSchema = z
  .object({
    organization_id: z.string(),
    cluster_id: z.string(),
    cluster_name: z.string(),
    provider: providerSchema,
    month: z.string(),
    sla_version: z.string(),
    target_percent: z.number(),
    availability_percent: z.number(),
    counted_downtime_minutes: z.number().int(),
    credit_percent: z.number().int(),
    charges_cents: z.number().int().openapi({ description: "All of the cluster's charges for the month (management fee, nodes, add-ons, backup storage)" }),
    credit_amount_cents: z
      .number()
      .int()
      .openapi({ description: 'credit_percent of charges_cents, rounded once to the cent; positive here, negative on the invoice' }),
    currency: z.string(),
    final: z.boolean().openapi({ description: 'false while the month is not frozen yet: the amounts may still change' }),
  })
  .openapi('SlaCreditRow');

export const SLA_CREDIT_CSV_COLUMNS = Object.keys(slaCreditSchema.shape) as (keyof z.infer<typeof slaCreditSchema>)[];

export const adminListCredits = defineRoute({
  operationId: 'adminListCredits',
  method: 'GET',
  path: '/admin/v1/billing/credits',
  summary: 'SLA credits owed for a month, for billing: JSON, or CSV with Accept: text/csv',
  description:
    "Every cluster whose month fell below its target, with the credit tier and the amount: that share of the cluster's charges. " +
    'The whole month in one answer (no pages), so the CSV is a complete file. Send `Accept: text/csv` for `text/csv; charset=utf-8` ' +
    '(RFC 4180, header row, columns as in the JSON rows, attachment `capstan-credits-YYYY-MM.csv`).',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z
    .object({
      month: month.optional(),
      organization_id: idOf('org').optional().openapi({ description: "Only this organisation's clusters (billing one customer, or answering its question)" }),
    })
    .strict(),
  responses: {
    200: {
      alternativeContentTypes: ['text/csv'],
      description: 'The credits (application/json; text/csv when asked for with Accept)',
      schema: z.object({ month: z.string(), items: z.array(slaCreditSchema) }).openapi('SlaCreditList'),
    },
  },
  errors: [422],
});
