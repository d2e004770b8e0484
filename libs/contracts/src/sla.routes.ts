import { idOf, page, paginationQuery, timestamp } from './common.schema';
import { providerSchema } from './clusters.routes';
import { defineRoute } from './route';
import { z } from './zod';

/**
 * `YYYY-MM` from 2000-01 to 9999-12: the domain's monthRange accepts any four-digit year, but
 * year 0000 does not exist for Postgres (docs/input-rules.md), and no SLA month precedes 2000.
 * Checked here so a bad value is a 400 naming `month` on every route that takes one.
 */
export const month = z
  .string()
  .regex(/^([2-9]\d{3})-(0[1-9]|1[0-2])$/, 'must be a calendar month from 2000-01 to 9999-12 written as YYYY-MM')
  .openapi({ example: '2026-10', description: 'Calendar month in UTC, YYYY-MM; defaults to the current month' });

export const monthQuery = z.object({ month: month.optional() }).strict();
const exclusionReason = z.enum(['scheduled_maintenance', 'customer_initiated', 'organization_suspended']);
const percent = z.number().min(0).max(100);

const errorBudget = z
  .object({
    total_minutes: z.number().openapi({ description: '(1 − target) × minutes in the month: 216 for 99.5% of 30 days' }),
    used_minutes: z.number().int().openapi({ description: 'Counted downtime minutes' }),
    remaining_minutes: z.number().openapi({ description: 'Negative once overspent' }),
  })
  .openapi('SlaErrorBudget');

/** The SLA owns the percentage; the amount is billing's (GET /v1/billing/usage, docs/billing.md). */
const creditOwed = {
  percent: z.number().int().min(0).max(100).openapi({ description: "Share of the cluster's charges for the month credited (docs/billing.md)" }),
};
const credit = z
  .object({ ...creditOwed, availability_percent: percent.openapi({ description: 'The availability the credit tier was chosen from' }) })
  .openapi('SlaCredit');

export const slaReportSchema = z
  .object({
    cluster_id: z.string(),
    month: z.string(),
    provider: providerSchema,
    sla_version: z.string(),
    target_percent: percent,
    final: z.boolean().openapi({ description: 'Frozen: the month is over and these numbers will not change' }),
    computed_at: timestamp,
    minutes_in_month: z.number().int(),
    measured_minutes: z.number().int().openapi({ description: 'Up + down minutes: those with probe data and no exclusion' }),
    up_minutes: z.number().int(),
    down_minutes: z.number().int().openapi({ description: 'Every down minute not excluded, blips included' }),
    counted_downtime_minutes: z.number().int().openapi({ description: 'Down minutes in periods of at least 5 consecutive minutes' }),
    excluded_minutes: z.number().int(),
    unknown_minutes: z.number().int().openapi({ description: 'No probe result (the monitor was down): neither up nor down' }),
    future_minutes: z.number().int(),
    coverage_percent: percent.openapi({
      description: 'Measured minutes / (measured + unknown minutes): how much of the month the monitor saw (docs/sla.md, Coverage)',
    }),
    min_coverage_percent: percent.openapi({ description: 'The least coverage at which the report is conclusive: the target itself' }),
    trustworthy: z
      .boolean()
      .openapi({ description: 'false when coverage is below min_coverage_percent: the unknown minutes could hide more downtime than the whole error budget' }),
    availability_percent: percent.openapi({ description: '100 × (1 − counted downtime / minutes in the month), rounded down to 4 decimals' }),
    error_budget: errorBudget,
    breached: z.boolean(),
    credit,
    downtime_periods: z.array(
      z.object({
        start: timestamp.openapi({ description: 'Start of the whole period, possibly in the previous month' }),
        end: timestamp.openapi({ description: 'End of the whole period, possibly in the next month' }),
        minutes: z.number().int().openapi({ description: 'Length of the whole period: down minutes and the unknown minutes between them' }),
        down_minutes: z.number().int(),
        unknown_minutes: z.number().int(),
        counted: z.boolean().openapi({ description: 'At least 5 minutes long: its down minutes cost error budget' }),
        counted_minutes_in_month: z.number().int().openapi({ description: 'Its down minutes in this month that no exclusion takes out, when counted' }),
        excluded_minutes_in_month: z.number().int().openapi({ description: 'Its down minutes in this month that an exclusion takes out' }),
      }),
    ),
    exclusions: z.array(
      z.object({
        start: timestamp,
        end: timestamp,
        reason: exclusionReason,
        reference: z.string().nullable().openapi({ description: 'The operation id, audit event id, or `cluster-not-present`' }),
        excluded_from: timestamp.nullable(),
        excluded_until: timestamp.nullable(),
        minutes: z.number().int(),
        down_minutes: z.number().int().openapi({ description: 'Down minutes this exclusion excused' }),
      }),
    ),
    days: z.array(
      z.object({
        date: z.string(),
        up_minutes: z.number().int(),
        down_minutes: z.number().int(),
        counted_downtime_minutes: z.number().int(),
        excluded_minutes: z.number().int(),
        unknown_minutes: z.number().int(),
        future_minutes: z.number().int(),
        availability_percent: percent.openapi({ description: "100 × (1 − counted downtime / 1,440): the month's definition over the day" }),
      }),
    ),
    rules: z
      .record(z.string(), z.string())
      .openapi({ description: 'For each figure of the report, the section of the published SLA text (docs/sla.md) that defines it' }),
  })
  .openapi('SlaReport');

export const slaSummarySchema = z
  .object({
    cluster_id: z.string(),
    cluster_name: z.string(),
    provider: providerSchema,
    month: z.string(),
    sla_version: z.string(),
    target_percent: percent,
    final: z.boolean(),
    availability_percent: percent,
    coverage_percent: percent,
    trustworthy: z.boolean(),
    counted_downtime_minutes: z.number().int(),
    error_budget: errorBudget,
    breached: z.boolean(),
    credit: z.object(creditOwed),
  })
  .openapi('SlaSummary');

export const getClusterSla = defineRoute({
  operationId: 'getClusterSla',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/sla',
  summary: "A cluster's SLA report for one calendar month",
  description:
    'Per-day breakdown, downtime periods (blips under 5 minutes are listed but not counted), exclusions with their reasons, ' +
    'coverage, error budget, breach and credit. Past months are frozen the first time they are asked for; the current month is live. ' +
    'A future month, or one in which the cluster did not exist, is a 422.',
  tags: ['SLA'],
  access: 'customer:read',
  params: z.object({ cluster_id: idOf('cl') }).strict(),
  query: monthQuery,
  responses: { 200: { description: 'The report', schema: slaReportSchema } },
  errors: [422],
});

export const listSla = defineRoute({
  operationId: 'listSla',
  method: 'GET',
  path: '/v1/sla',
  summary: 'One SLA summary per cluster of your organisation that existed during the month (deleted ones included)',
  tags: ['SLA'],
  access: 'customer:read',
  query: z.object({ ...paginationQuery, month: month.optional() }).strict(),
  responses: { 200: { description: 'A page of summaries, by cluster id', schema: page(slaSummarySchema, 'SlaSummaryPage') } },
  errors: [422],
});

export const adminListSlaBreaches = defineRoute({
  operationId: 'adminListSlaBreaches',
  method: 'GET',
  path: '/admin/v1/sla/breaches',
  summary: 'Clusters of every organisation that missed their SLA target in the month',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ ...paginationQuery, month: month.optional(), organization_id: idOf('org').optional() }).strict(),
  responses: {
    200: {
      description: 'A page of breached clusters, by cluster id',
      schema: page(slaSummarySchema.extend({ organization_id: z.string() }), 'AdminSlaBreachPage'),
    },
  },
  errors: [422],
});

export const slaAlertSchema = z
  .object({
    severity: z
      .enum(['page', 'ticket'])
      .openapi({ description: 'page: 14.4x over 1 h or 6x over 6 h; ticket: 3x over 1 day or 1x over 3 days (docs/sla.md, "Burn-rate alerts")' }),
    firing_since: timestamp.openapi({ description: 'When the alert was raised, or last changed severity' }),
  })
  .openapi('SlaAlert');

export const adminListSlaAlerts = defineRoute({
  operationId: 'adminListSlaAlerts',
  method: 'GET',
  path: '/admin/v1/sla/alerts',
  summary: 'Clusters of every organisation whose error budget is burning now (a burn-rate alert firing), with their month so far',
  description:
    'Pages first, then tickets, oldest alert first. Each cluster comes with its SLA summary of the month in progress (availability, ' +
    'error budget used and left). The whole list in one answer: alerts fire for few clusters at a time.',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ organization_id: idOf('org').optional() }).strict(),
  responses: {
    200: {
      description: 'The clusters with an alert firing',
      schema: z.object({ items: z.array(slaSummarySchema.extend({ organization_id: z.string(), alert: slaAlertSchema })) }).openapi('AdminSlaAlertList'),
    },
  },
});
