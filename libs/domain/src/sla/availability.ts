/**
 * From probe-derived availability intervals to per-minute states, downtime periods and exclusions
 * (docs/sla.md).
 *
 * A month has at most 44,640 minutes, so every minute gets one byte in a `Uint8Array` and all the
 * arithmetic is O(minutes + intervals): a report is a few linear passes, with no per-minute objects.
 * All instants are UTC; intervals are half-open `[start, end)`.
 */
import type { OperationType } from '../clusters/cluster-lifecycle';
import { FieldViolation, ValidationError } from '../errors/domain-error';
import { minuteRangeBounds, MS_PER_MINUTE } from './minute-range';

export type AvailabilityState = 'up' | 'down' | 'unknown';

/** What the monitor knew over `[start, end)`. `unknown` is the same as no interval at all. */
export interface StateInterval {
  state: AvailabilityState;
  start: Date;
  end: Date;
}

/** Whole minutes `[start, end)`: both ends on a minute boundary. */
export interface MinuteRange {
  start: Date;
  end: Date;
}

export interface MonthRange extends MinuteRange {
  minutes: number;
}

/** Per-minute state codes, one byte per minute (see {@link minuteStates}). */
export type MinuteStates = Uint8Array;
/** No probe result for any part of the minute (the monitor was down). A zeroed array is all unknown. */
export const MINUTE_UNKNOWN = 0;
export const MINUTE_UP = 1;
export const MINUTE_DOWN = 2;

/**
 * An outage on the continuous timeline (docs/sla.md, "Downtime periods"): from its first down
 * minute to its last, through the unknown minutes between them.
 */
export interface DowntimePeriod {
  start: Date;
  end: Date;
  /** Its length, `end - start` in minutes: the down minutes and the unknown minutes inside it. */
  minutes: number;
  downMinutes: number;
  unknownMinutes: number;
  /** At least the policy's minimum period (5 minutes): its down minutes cost error budget. Shorter blips are listed only. */
  counted: boolean;
}

/**
 * The longest run of unknown minutes that still joins the down minutes on either side into one
 * period (docs/sla.md, "Downtime periods"). Bounded so that a period can always be decided from a
 * fixed stretch of the adjacent months ({@link PERIOD_CONTEXT_MINUTES}); a monitor gap that long
 * shows as insufficient coverage anyway.
 */
export const MAX_UNKNOWN_GAP_MINUTES = 1_440;
/**
 * How far into the adjacent months a report must see to find the periods crossing its month's
 * boundaries: a period that runs on past this has a down minute more than
 * {@link MAX_UNKNOWN_GAP_MINUTES} past the boundary, so it is long enough to count whatever
 * follows, and both months agree on it.
 */
export const PERIOD_CONTEXT_MINUTES = 2 * MAX_UNKNOWN_GAP_MINUTES;

/** Why downtime is not held against the SLA (docs/sla.md, "Exclusions"). */
export type ExclusionReason = 'scheduled_maintenance' | 'customer_initiated' | 'organization_suspended';
export const EXCLUSION_REASONS: readonly ExclusionReason[] = Object.freeze(['scheduled_maintenance', 'customer_initiated', 'organization_suspended'] as const);

/**
 * The customer's operations that can affect the cluster's API server, and so excuse downtime while
 * they run (docs/sla.md, "Exclusions"): creating and deleting the cluster (it is not in service
 * yet, or any more), changing or upgrading its control plane, rotating its credentials (the API
 * server restarts with new certificates) and restoring a backup (etcd is reset). Node-pool work and
 * taking a backup leave the API server alone, so downtime during them counts.
 */
export const CONTROL_PLANE_OPERATION_TYPES: readonly OperationType[] = Object.freeze([
  'create_cluster',
  'delete_cluster',
  'update_cluster',
  'upgrade_cluster',
  'rotate_credentials',
  'restore_backup',
] as const);

/** A period the SLA does not cover, with its reason and what it refers to (maintenance window, operation id). */
export interface Exclusion {
  start: Date;
  end: Date;
  reason: ExclusionReason;
  reference?: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const HALF_MINUTE_MS = MS_PER_MINUTE / 2;

/**
 * The calendar month `YYYY-MM` in UTC, as `[first instant, first instant of the next month)`.
 * Throws a ValidationError on field `month` for anything else.
 */
export function monthRange(month: string): MonthRange {
  const m = typeof month === 'string' ? MONTH.exec(month) : null;
  if (!m) {
    throw new ValidationError([{ field: 'month', message: `must be a calendar month written as YYYY-MM, got ${JSON.stringify(month)}` }]);
  }
  const year = Number(m[1]);
  const monthIndex = Number(m[2]) - 1;
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const start = new Date(0);
  start.setUTCFullYear(year, monthIndex, 1);
  const end = new Date(0);
  end.setUTCFullYear(year, monthIndex + 1, 1);
  return { start, end, minutes: (end.getTime() - start.getTime()) / MS_PER_MINUTE };
}

/**
 * The state of every minute of `range` from one timeline (for several vantage points, merge them
 * first with {@link mergeVantagePoints}, or use {@link minuteStatesAcrossVantagePoints}).
 *
 * docs/sla.md, "Minute states": a minute is down when at least half of its probes failed, up when
 * fewer did, and unknown when no probe result exists for it. Intervals stand for the probes, so a minute is
 * down when the time observed down is at least the time observed up within it (with the whole
 * minute observed: at least 30 s down), up when less, unknown when nothing observed it. The share
 * is of the observed part rather than of 60 s, so a minute in which the monitor saw only failures
 * is not called up merely because it saw them for under 30 s.
 *
 * Overlapping intervals are resolved moment by moment as in {@link mergeVantagePoints} (up wins).
 * Returns one {@link MINUTE_UNKNOWN} / {@link MINUTE_UP} / {@link MINUTE_DOWN} byte per minute.
 */
export function minuteStates(intervals: readonly StateInterval[], range: MinuteRange): MinuteStates {
  return classifyMinutes(intervals, 'intervals', range);
}

/** {@link minuteStates}, naming invalid intervals under `field`. */
function classifyMinutes(intervals: readonly StateInterval[], field: string, range: MinuteRange): MinuteStates {
  const { startMs, minutes } = minuteRangeBounds(range);
  const timeline = resolveTimeline([{ intervals, field }]);
  const upMs = new Int32Array(minutes);
  const downMs = new Int32Array(minutes);
  const rangeEndMs = startMs + minutes * MS_PER_MINUTE;

  for (let k = 0; k < timeline.states.length; k++) {
    const from = Math.max(timeline.starts[k], startMs) - startMs;
    const until = Math.min(timeline.ends[k], rangeEndMs) - startMs;
    if (until <= from) continue;
    const observed = timeline.states[k] === MINUTE_UP ? upMs : downMs;
    const first = Math.floor(from / MS_PER_MINUTE);
    const last = Math.floor((until - 1) / MS_PER_MINUTE);
    if (first === last) {
      observed[first] += until - from;
      continue;
    }
    observed[first] += (first + 1) * MS_PER_MINUTE - from;
    observed.fill(MS_PER_MINUTE, first + 1, last); // disjoint intervals: inner minutes are wholly this state
    observed[last] += until - last * MS_PER_MINUTE;
  }

  const states = new Uint8Array(minutes);
  for (let i = 0; i < minutes; i++) {
    const down = downMs[i];
    const up = upMs[i];
    if (down === 0 && up === 0) continue; // unknown (0)
    states[i] = down >= up ? MINUTE_DOWN : MINUTE_UP;
  }
  return states;
}

/**
 * One timeline from several vantage points: at each moment, up if any vantage point with data says
 * up, down if every vantage point with data says down, and no interval (unknown) where none has data.
 * A cluster is not down because one probe location lost its route to it.
 *
 * Returns sorted, disjoint, coalesced `up`/`down` intervals; gaps are unknown.
 */
export function mergeVantagePoints(perVantage: readonly (readonly StateInterval[])[]): StateInterval[] {
  const timeline = resolveTimeline(perVantage.map((intervals, v) => ({ intervals, field: `vantage_points.${v}` })));
  const merged: StateInterval[] = [];
  for (let k = 0; k < timeline.states.length; k++) {
    merged.push({
      state: timeline.states[k] === MINUTE_UP ? 'up' : 'down',
      start: new Date(timeline.starts[k]),
      end: new Date(timeline.ends[k]),
    });
  }
  return merged;
}

/**
 * docs/sla.md's "Vantage points" rule taken literally, minute by minute: a minute is down when
 * at least half of its probes failed at every vantage point that has data for it. Each vantage point's minutes are
 * classified on their own ({@link minuteStates}), then combined with
 * {@link combineVantageMinuteStates}. Unlike {@link mergeVantagePoints}, two vantage points that are
 * each down for most of a minute, but not at the same seconds, make the minute down.
 */
export function minuteStatesAcrossVantagePoints(perVantage: readonly (readonly StateInterval[])[], range: MinuteRange): MinuteStates {
  return combineVantageMinuteStates(
    perVantage.map((intervals, v) => classifyMinutes(intervals, `vantage_points.${v}`, range)),
    minuteRangeBounds(range).minutes,
  );
}

/**
 * Per-minute combination of vantage points: down when every vantage point with data for the minute
 * says down, up when any of them says up, unknown when none has data.
 */
export function combineVantageMinuteStates(perVantage: readonly MinuteStates[], minutes = perVantage[0]?.length ?? 0): MinuteStates {
  const combined = new Uint8Array(minutes);
  for (const states of perVantage) {
    if (states.length !== minutes) throw new RangeError(`every vantage point needs ${minutes} minutes, got ${states.length}`);
    for (let i = 0; i < minutes; i++) {
      const s = states[i];
      if (s === MINUTE_UP || (s === MINUTE_DOWN && combined[i] === MINUTE_UNKNOWN)) combined[i] = s;
    }
  }
  return combined;
}

/**
 * Downtime periods, in order (docs/sla.md, "Downtime periods"). A period starts at a down minute
 * and runs on through down minutes and through runs of unknown minutes of at most `maxGapMinutes`
 * that are followed by another down minute: a monitor restart in the middle of an outage does
 * not split it. An up minute, any other code (a caller's own, such as future), or a longer run of
 * unknown minutes ends it at its last down minute. A period is `counted` when it lasts at least
 * `minMinutes` ("downtime periods of at least 5 consecutive minutes"); unknown minutes inside it
 * count toward its length but are not downtime themselves.
 *
 * Exclusions are deliberately not an input: an excluded minute keeps its measured state here, so
 * an exclusion can neither split an outage nor join two blips; the report removes the excluded
 * minutes from a period's count afterwards.
 */
export function downtimePeriods(minutes: MinuteStates, range: MinuteRange, minMinutes: number, maxGapMinutes = MAX_UNKNOWN_GAP_MINUTES): DowntimePeriod[] {
  const { startMs, minutes: length } = minuteRangeBounds(range);
  if (minutes.length !== length) throw new RangeError(`the range has ${length} minutes but ${minutes.length} states were given`);
  if (!Number.isInteger(minMinutes) || minMinutes < 1) throw new RangeError(`minMinutes must be a positive integer, got ${minMinutes}`);
  if (!Number.isInteger(maxGapMinutes) || maxGapMinutes < 0) throw new RangeError(`maxGapMinutes must be a non-negative integer, got ${maxGapMinutes}`);
  const periods: DowntimePeriod[] = [];
  let i = 0;
  while (i < length) {
    if (minutes[i] !== MINUTE_DOWN) {
      i++;
      continue;
    }
    const from = i;
    let end = i; // one past the last down minute seen
    let down = 0;
    while (i < length) {
      if (minutes[i] === MINUTE_DOWN) {
        down++;
        end = ++i;
        continue;
      }
      if (minutes[i] !== MINUTE_UNKNOWN) break;
      let gapEnd = i;
      while (gapEnd < length && minutes[gapEnd] === MINUTE_UNKNOWN) gapEnd++;
      if (gapEnd - i > maxGapMinutes || gapEnd === length || minutes[gapEnd] !== MINUTE_DOWN) break;
      i = gapEnd;
    }
    i = end;
    periods.push({
      start: new Date(startMs + from * MS_PER_MINUTE),
      end: new Date(startMs + end * MS_PER_MINUTE),
      minutes: end - from,
      downMinutes: down,
      unknownMinutes: end - from - down,
      counted: end - from >= minMinutes,
    });
  }
  return periods;
}

/**
 * The whole minutes of `range` an exclusion takes out, as minute indexes `[from, until)`: those it
 * covers for at least half (the same "at least half of the minute" rule as for downtime), so an
 * exclusion recorded to the second neither grabs nor loses a minute on a technicality.
 * `until === from` when it covers none.
 */
export function exclusionMinuteSpan(exclusion: Pick<Exclusion, 'start' | 'end'>, range: MinuteRange): { from: number; until: number } {
  const { startMs, minutes } = minuteRangeBounds(range);
  const s = Math.max(exclusion.start.getTime(), startMs);
  const e = Math.min(exclusion.end.getTime(), startMs + minutes * MS_PER_MINUTE);
  if (!(e > s)) return { from: 0, until: 0 };
  const covered = (i: number) => Math.min(e, startMs + (i + 1) * MS_PER_MINUTE) - Math.max(s, startMs + i * MS_PER_MINUTE);
  let from = Math.floor((s - startMs) / MS_PER_MINUTE);
  let last = Math.floor((e - 1 - startMs) / MS_PER_MINUTE);
  if (covered(from) < HALF_MINUTE_MS) from++;
  if (last >= from && covered(last) < HALF_MINUTE_MS) last--;
  return last >= from ? { from, until: last + 1 } : { from: 0, until: 0 };
}

/** 1 for every minute of `range` some exclusion takes out (see {@link exclusionMinuteSpan}), else 0. */
export function excludedMinuteMask(exclusions: readonly Exclusion[], range: MinuteRange): Uint8Array {
  const { minutes } = minuteRangeBounds(range);
  validateExclusions(exclusions);
  const mask = new Uint8Array(minutes);
  for (const exclusion of exclusions) {
    const { from, until } = exclusionMinuteSpan(exclusion, range);
    mask.fill(1, from, until);
  }
  return mask;
}

/** Throws a ValidationError naming every exclusion that is not a valid period with a known reason. */
export function validateExclusions(exclusions: readonly Exclusion[], field = 'exclusions'): void {
  const violations: FieldViolation[] = [];
  exclusions.forEach((x, i) => {
    checkPeriod(x, `${field}.${i}`, violations);
    if (!EXCLUSION_REASONS.includes(x.reason)) {
      violations.push({ field: `${field}.${i}.reason`, message: `must be one of ${EXCLUSION_REASONS.join(', ')}, got ${JSON.stringify(x.reason)}` });
    }
  });
  if (violations.length > 0) throw new ValidationError(violations);
}

function checkPeriod(period: { start: Date; end: Date }, field: string, violations: FieldViolation[]): void {
  const validDate = (d: unknown) => d instanceof Date && Number.isFinite(d.getTime());
  if (!validDate(period.start)) violations.push({ field: `${field}.start`, message: 'must be a valid instant' });
  if (!validDate(period.end)) violations.push({ field: `${field}.end`, message: 'must be a valid instant' });
  else if (validDate(period.start) && period.end.getTime() < period.start.getTime()) {
    violations.push({ field: `${field}.end`, message: `must not be before start (${period.start.toISOString()})` });
  }
}

const STATES: readonly AvailabilityState[] = ['up', 'down', 'unknown'];

/** Sorted, disjoint, coalesced up/down segments in parallel arrays (ms since epoch). */
interface Timeline {
  starts: number[];
  ends: number[];
  states: number[];
}

/**
 * Resolves any set of intervals to one timeline, moment by moment: up where any interval says up,
 * down where some say down and none says up, nothing where none has data. A sweep over the sorted
 * boundaries: O(n log n) in the number of intervals, independent of their length.
 */
function resolveTimeline(sources: readonly { intervals: readonly StateInterval[]; field: string }[]): Timeline {
  const violations: FieldViolation[] = [];
  const times: number[] = [];
  const upDelta: number[] = [];
  const downDelta: number[] = [];
  for (const { intervals, field } of sources) {
    intervals.forEach((interval, i) => {
      const before = violations.length;
      checkPeriod(interval, `${field}.${i}`, violations);
      if (!STATES.includes(interval.state)) {
        violations.push({ field: `${field}.${i}.state`, message: `must be one of ${STATES.join(', ')}, got ${JSON.stringify(interval.state)}` });
      }
      if (violations.length > before || interval.state === 'unknown') return;
      const s = interval.start.getTime();
      const e = interval.end.getTime();
      if (e <= s) return;
      const up = interval.state === 'up' ? 1 : 0;
      times.push(s, e);
      upDelta.push(up, -up);
      downDelta.push(1 - up, up - 1);
    });
  }
  if (violations.length > 0) throw new ValidationError(violations);

  const order = Array.from(times.keys()).sort((a, b) => times[a] - times[b]);
  const timeline: Timeline = { starts: [], ends: [], states: [] };
  let up = 0;
  let down = 0;
  let current = MINUTE_UNKNOWN;
  let since = 0;
  for (let k = 0; k < order.length;) {
    const t = times[order[k]];
    for (; k < order.length && times[order[k]] === t; k++) {
      up += upDelta[order[k]];
      down += downDelta[order[k]];
    }
    const next = up > 0 ? MINUTE_UP : down > 0 ? MINUTE_DOWN : MINUTE_UNKNOWN;
    if (next === current) continue;
    if (current !== MINUTE_UNKNOWN) {
      timeline.starts.push(since);
      timeline.ends.push(t);
      timeline.states.push(current);
    }
    current = next;
    since = t;
  }
  return timeline;
}
