import type { slaRoutes } from '@capstan/contracts';
import type { z } from 'zod';
import { type MonthlySlaReport, SLA_REPORT_RULES } from '@capstan/domain';
import type { ClusterSlaReport } from './sla-reports.service';

export type SlaReportView = z.infer<typeof slaRoutes.slaReportSchema>;
export type SlaSummaryView = z.infer<typeof slaRoutes.slaSummarySchema>;

/**
 * A report frozen before reports carried coverage trust, period shares and rule citations, read
 * with the values those fields have for it: frozen numbers are never recomputed, and every period
 * then was a run of down minutes charged whole to its month.
 */
function withCurrentFields(r: MonthlySlaReport): MonthlySlaReport {
  if (r.rules !== undefined) return r;
  return {
    ...r,
    minCoveragePercent: r.targetPercent,
    trustworthy: r.coveragePercent >= r.targetPercent,
    downtimePeriods: r.downtimePeriods.map((p) => ({
      ...p,
      downMinutes: p.minutes,
      unknownMinutes: 0,
      countedMinutesInMonth: p.counted ? p.minutes : 0,
      excludedMinutesInMonth: 0,
    })),
    rules: SLA_REPORT_RULES,
  };
}

/** The full report, as the API shows it (snake_case, ISO instants). */
export function presentReport({ cluster, final, computedAt, report }: ClusterSlaReport): SlaReportView {
  const r = withCurrentFields(report);
  return {
    cluster_id: cluster.id,
    month: r.month,
    provider: r.provider,
    sla_version: r.slaVersion,
    target_percent: r.targetPercent,
    final,
    computed_at: computedAt.toISOString(),
    minutes_in_month: r.minutesInMonth,
    measured_minutes: r.measuredMinutes,
    up_minutes: r.upMinutes,
    down_minutes: r.downMinutes,
    counted_downtime_minutes: r.countedDowntimeMinutes,
    excluded_minutes: r.excludedMinutes,
    unknown_minutes: r.unknownMinutes,
    future_minutes: r.futureMinutes,
    coverage_percent: r.coveragePercent,
    min_coverage_percent: r.minCoveragePercent,
    trustworthy: r.trustworthy,
    availability_percent: r.availabilityPercent,
    error_budget: { total_minutes: r.errorBudget.totalMinutes, used_minutes: r.errorBudget.usedMinutes, remaining_minutes: r.errorBudget.remainingMinutes },
    breached: r.breached,
    credit: { percent: r.credit.percent, availability_percent: r.credit.availabilityPercent },
    downtime_periods: r.downtimePeriods.map((p) => ({
      start: p.start,
      end: p.end,
      minutes: p.minutes,
      down_minutes: p.downMinutes,
      unknown_minutes: p.unknownMinutes,
      counted: p.counted,
      counted_minutes_in_month: p.countedMinutesInMonth,
      excluded_minutes_in_month: p.excludedMinutesInMonth,
    })),
    exclusions: r.exclusions.map((x) => ({
      start: x.start,
      end: x.end,
      reason: x.reason,
      reference: x.reference,
      excluded_from: x.excludedFrom,
      excluded_until: x.excludedUntil,
      minutes: x.minutes,
      down_minutes: x.downMinutes,
    })),
    days: r.days.map((d) => ({
      date: d.date,
      up_minutes: d.upMinutes,
      down_minutes: d.downMinutes,
      counted_downtime_minutes: d.countedDowntimeMinutes,
      excluded_minutes: d.excludedMinutes,
      unknown_minutes: d.unknownMinutes,
      future_minutes: d.futureMinutes,
      availability_percent: d.availabilityPercent,
    })),
    rules: { ...r.rules },
  };
}

export function presentSummary({ cluster, final, report }: ClusterSlaReport): SlaSummaryView {
  const r = withCurrentFields(report);
  return {
    cluster_id: cluster.id,
    cluster_name: cluster.name,
    provider: r.provider,
    month: r.month,
    sla_version: r.slaVersion,
    target_percent: r.targetPercent,
    final,
    availability_percent: r.availabilityPercent,
    coverage_percent: r.coveragePercent,
    trustworthy: r.trustworthy,
    counted_downtime_minutes: r.countedDowntimeMinutes,
    error_budget: { total_minutes: r.errorBudget.totalMinutes, used_minutes: r.errorBudget.usedMinutes, remaining_minutes: r.errorBudget.remainingMinutes },
    breached: r.breached,
    credit: { percent: r.credit.percent },
  };
}
