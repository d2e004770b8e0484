/**
 * A cluster's SLA report for one calendar month (docs/sla.md): the figures a customer's credit
 * rests on, with every minute accounted for so the report can be audited minute by minute.
 */
import { isProvider, Provider } from '../catalogue/provider';
import { FieldViolation, ValidationError } from '../errors/domain-error';
import {
  downtimePeriods as findDowntimePeriods,
  Exclusion,
  ExclusionReason,
  exclusionMinuteSpan,
  MINUTE_DOWN,
  MINUTE_UNKNOWN,
  MINUTE_UP,
  MinuteRange,
  PERIOD_CONTEXT_MINUTES,
  minuteStates,
  minuteStatesAcrossVantagePoints,
  monthRange,
  StateInterval,
  validateExclusions,
} from './availability';
import { minuteRangeBounds, MINUTES_PER_DAY, MS_PER_MINUTE } from './minute-range';
import { percentRoundedDown, percentToPpm, PPM, roundMinutes } from './parts-per-million';
import { SlaPolicy, slaPolicyForMonth } from './sla-policy';

interface SlaReportCommonInput {
  provider: Provider;
  /** Calendar month in UTC, `YYYY-MM`. */
  month: string;
  exclusions: readonly Exclusion[];
  /** Defaults to the policy governing `month` ({@link slaPolicyForMonth}). */
  policy?: SlaPolicy;
  /** For the month in progress: minutes that have not ended by `now` are future, not unknown. */
  now?: Date;
  /**
   * The whole minutes the intervals describe, containing the month: downtime periods are found on
   * this continuous timeline, then only their minutes inside the month are attributed to it. Give
   * the month with {@link PERIOD_CONTEXT_MINUTES} on each side ({@link reportTimeline}) so that an
   * outage across a month boundary is judged whole. Defaults to the month alone.
   */
  timeline?: MinuteRange;
}

export type SlaReportInput = SlaReportCommonInput &
  (
    | {
        /** One timeline, already merged across vantage points ({@link mergeVantagePoints}). */
        intervals: readonly StateInterval[];
        vantagePoints?: undefined;
      }
    | {
        /** Each vantage point's own timeline, combined minute by minute ({@link minuteStatesAcrossVantagePoints}). */
        vantagePoints: readonly (readonly StateInterval[])[];
        intervals?: undefined;
      }
  );

/** A downtime period that has minutes in the month, as found on the continuous timeline. */
export interface SlaReportDowntimePeriod {
  /** Where the whole period starts and ends, possibly in the adjacent month. */
  start: string;
  end: string;
  /** Its whole length: down minutes plus the unknown minutes between them (what the 5-minute rule judges). */
  minutes: number;
  downMinutes: number;
  unknownMinutes: number;
  counted: boolean;
  /** Its down minutes inside this month that no exclusion takes out, when counted: what this month is charged. */
  countedMinutesInMonth: number;
  /** Its down minutes inside this month that an exclusion takes out. */
  excludedMinutesInMonth: number;
}

export interface SlaReportExclusion {
  /** As recorded. */
  start: string;
  end: string;
  reason: ExclusionReason;
  reference: string | null;
  /** The whole minutes of the month it takes out (those it covers for at least half); null when none. */
  excludedFrom: string | null;
  excludedUntil: string | null;
  minutes: number;
  /** How many of those minutes were down: the downtime this exclusion excused. */
  downMinutes: number;
}

export interface SlaReportDay {
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
  upMinutes: number;
  downMinutes: number;
  countedDowntimeMinutes: number;
  excludedMinutes: number;
  unknownMinutes: number;
  futureMinutes: number;
  availabilityPercent: number;
}

/** Plain JSON: ISO strings for instants, numbers, booleans, null. */
export interface MonthlySlaReport {
  month: string;
  provider: Provider;
  slaVersion: string;
  targetPercent: number;
  /** No minute of the month is still to come: the report will not change unless its inputs do. */
  final: boolean;
  minutesInMonth: number;
  /** Minutes with data that are not excluded: up + down, the eligible minutes measured so far. */
  measuredMinutes: number;
  upMinutes: number;
  /** Every down minute not excluded, blips included. */
  downMinutes: number;
  /** Down minutes in downtime periods of at least the policy's minimum: what the SLA holds against us. */
  countedDowntimeMinutes: number;
  excludedMinutes: number;
  unknownMinutes: number;
  /** Minutes after `now` that no exclusion takes out (0 for a past month). */
  futureMinutes: number;
  coveragePercent: number;
  /** The least coverage at which the report can be trusted: the target itself (docs/sla.md, "Coverage"). */
  minCoveragePercent: number;
  /**
   * Coverage reaches {@link minCoveragePercent}. When false, the unknown minutes could have held
   * more downtime than the whole error budget, so the figures cannot show whether the target was met.
   */
  trustworthy: boolean;
  availabilityPercent: number;
  errorBudget: { totalMinutes: number; usedMinutes: number; remainingMinutes: number };
  breached: boolean;
  credit: {
    /** The share of the cluster's charges for the month credited; billing owns the money (docs/billing.md). */
    percent: number;
    /** The availability the tier was chosen from (for a month in progress: if no further downtime occurs). */
    availabilityPercent: number;
  };
  downtimePeriods: SlaReportDowntimePeriod[];
  exclusions: SlaReportExclusion[];
  days: SlaReportDay[];
  /** For each figure of the report (by its API field name), the rule in docs/sla.md it follows. */
  rules: Readonly<Record<string, string>>;
}

/** The customer-facing rule behind each figure (docs/sla.md), cited in every report. */
export const SLA_REPORT_RULES: Readonly<Record<string, string>> = Object.freeze({
  up_minutes: 'docs/sla.md#minute-states',
  down_minutes: 'docs/sla.md#minute-states',
  unknown_minutes: 'docs/sla.md#minute-states',
  future_minutes: 'docs/sla.md#minute-states',
  measured_minutes: 'docs/sla.md#minute-states',
  downtime_periods: 'docs/sla.md#downtime-periods',
  counted_downtime_minutes: 'docs/sla.md#downtime-periods',
  excluded_minutes: 'docs/sla.md#exclusions',
  exclusions: 'docs/sla.md#exclusions',
  minutes_in_month: 'docs/sla.md#clusters-created-or-deleted-mid-month',
  availability_percent: 'docs/sla.md#availability',
  days: 'docs/sla.md#availability',
  coverage_percent: 'docs/sla.md#coverage',
  trustworthy: 'docs/sla.md#coverage',
  error_budget: 'docs/sla.md#error-budget',
  breached: 'docs/sla.md#error-budget',
  credit: 'docs/sla.md#credits',
  sla_version: 'docs/sla.md#versions',
});

/** The month `YYYY-MM` with {@link PERIOD_CONTEXT_MINUTES} of the adjacent months on each side: what a report should be given data for. */
export function reportTimeline(month: string): MinuteRange {
  const range = monthRange(month);
  const context = PERIOD_CONTEXT_MINUTES * MS_PER_MINUTE;
  return { start: new Date(range.start.getTime() - context), end: new Date(range.end.getTime() + context) };
}

// Per-minute codes beyond availability.ts's UNKNOWN/UP/DOWN, local to the report.
const EXCLUDED = 3;
const FUTURE = 4;
const COUNTED_DOWN = 5;

/**
 * Computes the SLA report of one cluster for one calendar month, by the rules customers read in
 * docs/sla.md (each figure's rule is cited in the report's `rules`).
 *
 * Every minute of the month is exactly one of: excluded, future, unknown, up, down (and a down
 * minute is counted or not), so up + down + unknown + excluded + future = minutes in the month.
 * Precedence: excluded (an exclusion covers at least half of it) > future > its measured state.
 *
 * - Downtime periods are found on the continuous measured timeline (`input.timeline`, the month
 *   and some of its neighbours), before exclusions: unknown minutes between down minutes do not
 *   split a period and neither does an exclusion. A period of at least
 *   `policy.minDowntimePeriodMinutes` is counted; this month is charged its down minutes that fall
 *   inside the month and that no exclusion takes out. So an outage across midnight or a month
 *   boundary is judged whole and each month is charged its own part, and the months' counts add
 *   up to the count over the joined timeline.
 * - availabilityPercent = 100 × (1 − C / M), C = counted downtime minutes, M = minutes in the
 *   calendar month; a day's figure is the same formula over the day's 1,440 minutes. Why M and not
 *   the measured minutes: with a measured-minutes denominator, excluding a stretch of uptime would
 *   *lower* availability and losing monitor data would move the figure; with M, an exclusion never
 *   lowers availability and the budget is the contractual one (216 min for 99.5% of 30 days).
 * - coveragePercent = 100 × E / (E + unknown), E = up + down minutes measured; the report is
 *   trustworthy when coverage reaches the target itself, i.e. when the unknown minutes could not
 *   by themselves have hidden more downtime than the error budget allows.
 * - Error budget total = (1 − target) × M; used = C; remaining = total − used, negative once overspent.
 * - breached = C > total, i.e. availability < target (for the month in progress: already lost).
 * - Credit: when breached, the first policy tier whose minimum the availability reaches; the fee
 *   share is rounded half up to a whole cent and never negative.
 * All comparisons are exact integer arithmetic in parts per million (see parts-per-million.ts).
 * Percentages are rounded down to four decimals only for output, so a breached month never shows
 * its target (99.49997% reads 99.4999, not 99.5); budget minutes are rounded to four decimals.
 */
export function computeSlaReport(input: SlaReportInput): MonthlySlaReport {
  const violations: FieldViolation[] = [];
  if (!isProvider(input.provider)) violations.push({ field: 'provider', message: `must be rke2 or gke, got ${JSON.stringify(input.provider)}` });
  if (input.now !== undefined && !(input.now instanceof Date && Number.isFinite(input.now.getTime()))) {
    violations.push({ field: 'now', message: 'must be a valid instant' });
  }
  if (violations.length > 0) throw new ValidationError(violations);

  const range = monthRange(input.month);
  validateExclusions(input.exclusions);
  const policy = input.policy ?? slaPolicyForMonth(input.month);
  const targetPercent = policy.targetPercent[input.provider];
  const targetPpm = percentToPpm(targetPercent);
  const allowedPpm = PPM - targetPpm;
  const monthStartMs = range.start.getTime();
  const minutesInMonth = range.minutes;

  const timeline = input.timeline ?? range;
  const { startMs: timelineStartMs, minutes: timelineMinutes } = minuteRangeBounds(timeline);
  const offset = (monthStartMs - timelineStartMs) / MS_PER_MINUTE;
  if (offset < 0 || offset + minutesInMonth > timelineMinutes) throw new RangeError('the timeline must contain the month');

  const measured = input.vantagePoints !== undefined ? minuteStatesAcrossVantagePoints(input.vantagePoints, timeline) : minuteStates(input.intervals, timeline);
  // Minutes not ended by `now` are not known yet: they end a period rather than extend it.
  const pastOfTimeline =
    input.now === undefined ? timelineMinutes : clamp(Math.floor((input.now.getTime() - timelineStartMs) / MS_PER_MINUTE), 0, timelineMinutes);
  measured.fill(FUTURE, pastOfTimeline);
  const periods = findDowntimePeriods(measured, timeline, policy.minDowntimePeriodMinutes);

  // One code per minute of the month, in order of precedence: excluded, future, then what was measured.
  const states = measured.subarray(offset, offset + minutesInMonth);
  const codes = states.slice();
  const pastMinutes = clamp(pastOfTimeline - offset, 0, minutesInMonth);
  const exclusions = input.exclusions
    .map((exclusion, order) => ({ exclusion, order, span: exclusionMinuteSpan(exclusion, range) }))
    .filter(({ exclusion }) => exclusion.end.getTime() > monthStartMs && exclusion.start.getTime() < range.end.getTime())
    .sort((a, b) => a.exclusion.start.getTime() - b.exclusion.start.getTime() || a.order - b.order);
  for (const { span } of exclusions) codes.fill(EXCLUDED, span.from, span.until);

  const monthPeriods: SlaReportDowntimePeriod[] = [];
  for (const period of periods) {
    const from = clamp(minuteIndex(period.start, monthStartMs), 0, minutesInMonth);
    const until = clamp(minuteIndex(period.end, monthStartMs), 0, minutesInMonth);
    if (until <= from) continue;
    let countedInMonth = 0;
    let excludedInMonth = 0;
    for (let i = from; i < until; i++) {
      if (states[i] !== MINUTE_DOWN) continue;
      if (codes[i] === EXCLUDED) excludedInMonth++;
      else if (period.counted) {
        codes[i] = COUNTED_DOWN;
        countedInMonth++;
      }
    }
    monthPeriods.push({
      start: period.start.toISOString(),
      end: period.end.toISOString(),
      minutes: period.minutes,
      downMinutes: period.downMinutes,
      unknownMinutes: period.unknownMinutes,
      counted: period.counted,
      countedMinutesInMonth: countedInMonth,
      excludedMinutesInMonth: excludedInMonth,
    });
  }

  const days: SlaReportDay[] = [];
  const tally = new Int32Array(6);
  const total = new Int32Array(6);
  for (let dayStart = 0; dayStart < minutesInMonth; dayStart += MINUTES_PER_DAY) {
    tally.fill(0);
    const dayEnd = dayStart + MINUTES_PER_DAY;
    for (let i = dayStart; i < dayEnd; i++) tally[codes[i]]++;
    for (let c = 0; c < tally.length; c++) total[c] += tally[c];
    days.push({
      date: new Date(monthStartMs + dayStart * MS_PER_MINUTE).toISOString().slice(0, 10),
      upMinutes: tally[MINUTE_UP],
      downMinutes: tally[MINUTE_DOWN] + tally[COUNTED_DOWN],
      countedDowntimeMinutes: tally[COUNTED_DOWN],
      excludedMinutes: tally[EXCLUDED],
      unknownMinutes: tally[MINUTE_UNKNOWN],
      futureMinutes: tally[FUTURE],
      // The month's definition over the day's minutes (docs/sla.md, "Availability").
      availabilityPercent: percentRoundedDown(MINUTES_PER_DAY - tally[COUNTED_DOWN], MINUTES_PER_DAY),
    });
  }

  const up = total[MINUTE_UP];
  const down = total[MINUTE_DOWN] + total[COUNTED_DOWN];
  const counted = total[COUNTED_DOWN];
  const unknown = total[MINUTE_UNKNOWN];
  const future = total[FUTURE];
  const measuredMinutes = up + down;
  // The whole month is the base (see the formula above), also for the month in progress.
  const budgetBase = minutesInMonth;
  const breached = counted * PPM > allowedPpm * budgetBase;
  const creditPercent = breached ? creditTierPercent(budgetBase - counted, budgetBase, policy) : 0;

  return {
    month: input.month,
    provider: input.provider,
    slaVersion: policy.version,
    targetPercent,
    final: pastMinutes === minutesInMonth,
    minutesInMonth,
    measuredMinutes,
    upMinutes: up,
    downMinutes: down,
    countedDowntimeMinutes: counted,
    excludedMinutes: total[EXCLUDED],
    unknownMinutes: unknown,
    futureMinutes: future,
    coveragePercent: measuredMinutes + unknown === 0 ? 100 : percentRoundedDown(measuredMinutes, measuredMinutes + unknown),
    minCoveragePercent: targetPercent,
    trustworthy: measuredMinutes * PPM >= targetPpm * (measuredMinutes + unknown),
    availabilityPercent: percentRoundedDown(budgetBase - counted, budgetBase),
    errorBudget: {
      totalMinutes: roundMinutes((allowedPpm * budgetBase) / PPM),
      usedMinutes: counted,
      remainingMinutes: roundMinutes((allowedPpm * budgetBase - counted * PPM) / PPM),
    },
    breached,
    credit: {
      percent: creditPercent,
      availabilityPercent: budgetBase === 0 ? 100 : percentRoundedDown(budgetBase - counted, budgetBase),
    },
    downtimePeriods: monthPeriods,
    exclusions: exclusions.map(({ exclusion, span }) => {
      let downMinutes = 0;
      for (let i = span.from; i < span.until; i++) if (states[i] === MINUTE_DOWN && i < pastMinutes) downMinutes++;
      const covers = span.until > span.from;
      return {
        start: exclusion.start.toISOString(),
        end: exclusion.end.toISOString(),
        reason: exclusion.reason,
        reference: exclusion.reference ?? null,
        excludedFrom: covers ? new Date(monthStartMs + span.from * MS_PER_MINUTE).toISOString() : null,
        excludedUntil: covers ? new Date(monthStartMs + span.until * MS_PER_MINUTE).toISOString() : null,
        minutes: span.until - span.from,
        downMinutes,
      };
    }),
    days,
    rules: SLA_REPORT_RULES,
  };
}

/** The credit percentage for an availability of `good / eligible` below target: the first tier it reaches. */
function creditTierPercent(good: number, eligible: number, policy: SlaPolicy): number {
  for (const tier of policy.creditTiers) {
    if (good * PPM >= percentToPpm(tier.minAvailabilityPercent) * eligible) return tier.creditPercent;
  }
  // Tiers should end at 0%; if a policy's do not, a breach below them still owes the largest credit.
  return Math.max(0, ...policy.creditTiers.map((t) => t.creditPercent));
}

function minuteIndex(instant: Date, startMs: number): number {
  return (instant.getTime() - startMs) / MS_PER_MINUTE;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
