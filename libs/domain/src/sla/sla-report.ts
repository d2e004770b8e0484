/**
 * A cluster's SLA report for one calendar month (DOMAIN.md "SLA"): the figures a customer's credit
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
  minuteStates,
  minuteStatesAcrossVantagePoints,
  monthRange,
  StateInterval,
  validateExclusions,
} from './availability';
import { MINUTES_PER_DAY, MS_PER_MINUTE } from './minute-range';
import { percentRoundedDown, percentToPpm, PPM, roundMinutes } from './parts-per-million';
import { SlaPolicy, slaPolicyForMonth } from './sla-policy';

interface SlaReportCommonInput {
  provider: Provider;
  /** Calendar month in UTC, `YYYY-MM`. */
  month: string;
  exclusions: readonly Exclusion[];
  /** The cluster's fee for the month, in integer cents; the credit is a share of it. */
  monthlyFeeCents: number;
  /** Defaults to the policy governing `month` ({@link slaPolicyForMonth}). */
  policy?: SlaPolicy;
  /** For the month in progress: minutes that have not ended by `now` are future, not unknown. */
  now?: Date;
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

export interface SlaReportDowntimePeriod {
  start: string;
  end: string;
  minutes: number;
  counted: boolean;
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
  availabilityPercent: number;
  errorBudget: { totalMinutes: number; usedMinutes: number; remainingMinutes: number };
  breached: boolean;
  credit: {
    percent: number;
    amountCents: number;
    /** The availability the tier was chosen from (for a month in progress: if no further downtime occurs). */
    availabilityPercent: number;
  };
  downtimePeriods: SlaReportDowntimePeriod[];
  exclusions: SlaReportExclusion[];
  days: SlaReportDay[];
}

// Per-minute codes beyond availability.ts's UNKNOWN/UP/DOWN, local to the report.
const EXCLUDED = 3;
const FUTURE = 4;
const COUNTED_DOWN = 5;

/**
 * Computes the SLA report of one cluster for one calendar month.
 *
 * Every minute of the month is exactly one of: excluded, future, unknown, up, down (and a down
 * minute is counted or not), so up + down + unknown + excluded + future = minutes in the month.
 * Precedence: excluded (an exclusion covers at least half of it) > future > its measured state.
 *
 * The formula (DOMAIN.md "SLA"; the month-based form EKS, GKE and DOKS use in their SLAs):
 * - Counted downtime C = down minutes in runs of at least `policy.minDowntimePeriodMinutes`
 *   ("counts only downtime periods of at least 5 consecutive minutes"). An excluded, unknown or up
 *   minute ends a run, so an exclusion never joins two blips into a counted period.
 * - availabilityPercent = 100 × (1 − C / M), M = minutes in the calendar month. Excluded minutes
 *   ("scheduled maintenance ... excluded") can never be counted downtime, and unknown minutes
 *   ("neither downtime nor uptime") are not downtime either; they show as reduced coverage.
 *   Why M and not the measured minutes: with a measured-minutes denominator, excluding a stretch
 *   of uptime would *lower* availability, and losing monitor data would move the figure, so a
 *   customer could be worse off for our maintenance. With M, adding an exclusion never lowers
 *   availability, and the budget is the contractual one (216 min for 99.5% of 30 days).
 * - coveragePercent = 100 × E / (E + unknown), E = up + down minutes measured.
 * - Error budget total = (1 − target) × M (216 min for 99.5% of a 30-day month, 22.32 min for
 *   99.95% of 31 days); used = C; remaining = total − used, negative once overspent.
 * - breached = C > total, i.e. availability < target. For the month in progress this means the
 *   target is already lost whatever happens next.
 * - Credit: when breached, the first policy tier whose minimum the availability reaches
 *   (below target but ≥ 99.0% → 10%, ≥ 95.0% → 25%, below → 100%); the fee share is rounded half
 *   up to a whole cent and never negative.
 * All comparisons are exact integer arithmetic in parts per million (see parts-per-million.ts).
 * Percentages are rounded down to four decimals only for output, so a breached month never shows
 * its target (99.49997% reads 99.4999, not 99.5); budget minutes are rounded to four decimals.
 */
export function computeSlaReport(input: SlaReportInput): MonthlySlaReport {
  const violations: FieldViolation[] = [];
  if (!isProvider(input.provider)) violations.push({ field: 'provider', message: `must be rke2 or gke, got ${JSON.stringify(input.provider)}` });
  if (!Number.isSafeInteger(input.monthlyFeeCents) || input.monthlyFeeCents < 0) {
    violations.push({ field: 'monthly_fee_cents', message: `must be a non-negative whole number of cents, got ${input.monthlyFeeCents}` });
  }
  if (input.now !== undefined && !(input.now instanceof Date && Number.isFinite(input.now.getTime()))) {
    violations.push({ field: 'now', message: 'must be a valid instant' });
  }
  if (violations.length > 0) throw new ValidationError(violations);

  const range = monthRange(input.month);
  validateExclusions(input.exclusions);
  const policy = input.policy ?? slaPolicyForMonth(input.month);
  const targetPercent = policy.targetPercent[input.provider];
  const allowedPpm = PPM - percentToPpm(targetPercent);
  const monthStartMs = range.start.getTime();
  const minutesInMonth = range.minutes;

  const states =
    input.vantagePoints !== undefined
      ? minuteStatesAcrossVantagePoints(input.vantagePoints, range)
      : minuteStates(input.intervals, range);

  // One code per minute, in order of precedence: excluded, future, then what was measured.
  const codes = states.slice();
  const pastMinutes =
    input.now === undefined ? minutesInMonth : clamp(Math.floor((input.now.getTime() - monthStartMs) / MS_PER_MINUTE), 0, minutesInMonth);
  codes.fill(FUTURE, pastMinutes);
  const exclusions = input.exclusions
    .map((exclusion, order) => ({ exclusion, order, span: exclusionMinuteSpan(exclusion, range) }))
    .filter(({ exclusion }) => exclusion.end.getTime() > monthStartMs && exclusion.start.getTime() < range.end.getTime())
    .sort((a, b) => a.exclusion.start.getTime() - b.exclusion.start.getTime() || a.order - b.order);
  for (const { span } of exclusions) codes.fill(EXCLUDED, span.from, span.until);

  const periods = findDowntimePeriods(codes, range, policy.minDowntimePeriodMinutes);
  for (const period of periods) {
    if (period.counted) codes.fill(COUNTED_DOWN, minuteIndex(period.start, monthStartMs), minuteIndex(period.end, monthStartMs));
  }

  const days: SlaReportDay[] = [];
  const tally = new Int32Array(6);
  const total = new Int32Array(6);
  for (let dayStart = 0; dayStart < minutesInMonth; dayStart += MINUTES_PER_DAY) {
    tally.fill(0);
    const dayEnd = dayStart + MINUTES_PER_DAY;
    for (let i = dayStart; i < dayEnd; i++) tally[codes[i]]++;
    for (let c = 0; c < tally.length; c++) total[c] += tally[c];
    const measured = tally[MINUTE_UP] + tally[MINUTE_DOWN] + tally[COUNTED_DOWN];
    days.push({
      date: new Date(monthStartMs + dayStart * MS_PER_MINUTE).toISOString().slice(0, 10),
      upMinutes: tally[MINUTE_UP],
      downMinutes: tally[MINUTE_DOWN] + tally[COUNTED_DOWN],
      countedDowntimeMinutes: tally[COUNTED_DOWN],
      excludedMinutes: tally[EXCLUDED],
      unknownMinutes: tally[MINUTE_UNKNOWN],
      futureMinutes: tally[FUTURE],
      availabilityPercent: measured === 0 ? 100 : percentRoundedDown(measured - tally[COUNTED_DOWN], measured),
    });
  }

  const up = total[MINUTE_UP];
  const down = total[MINUTE_DOWN] + total[COUNTED_DOWN];
  const counted = total[COUNTED_DOWN];
  const unknown = total[MINUTE_UNKNOWN];
  const future = total[FUTURE];
  const measured = up + down;
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
    measuredMinutes: measured,
    upMinutes: up,
    downMinutes: down,
    countedDowntimeMinutes: counted,
    excludedMinutes: total[EXCLUDED],
    unknownMinutes: unknown,
    futureMinutes: future,
    coveragePercent: measured + unknown === 0 ? 100 : percentRoundedDown(measured, measured + unknown),
    availabilityPercent: percentRoundedDown(budgetBase - counted, budgetBase),
    errorBudget: {
      totalMinutes: roundMinutes((allowedPpm * budgetBase) / PPM),
      usedMinutes: counted,
      remainingMinutes: roundMinutes((allowedPpm * budgetBase - counted * PPM) / PPM),
    },
    breached,
    credit: {
      percent: creditPercent,
      amountCents: creditAmountCents(input.monthlyFeeCents, creditPercent),
      availabilityPercent: budgetBase === 0 ? 100 : percentRoundedDown(budgetBase - counted, budgetBase),
    },
    downtimePeriods: periods.map((p) => ({ start: p.start.toISOString(), end: p.end.toISOString(), minutes: p.minutes, counted: p.counted })),
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

/** `percent` of the fee in whole cents, halves rounded up; BigInt so large fees stay exact. */
function creditAmountCents(feeCents: number, percent: number): number {
  if (percent <= 0 || feeCents <= 0) return 0;
  const numerator = BigInt(feeCents) * BigInt(percentToPpm(percent));
  return Number((2n * numerator + BigInt(PPM)) / (2n * BigInt(PPM)));
}

function minuteIndex(instant: Date, startMs: number): number {
  return (instant.getTime() - startMs) / MS_PER_MINUTE;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
