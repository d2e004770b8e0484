/**
 * Builders for SLA tests: timelines painted minute by minute, and fast-check arbitraries for months,
 * timelines and exclusions. Test-only (imported by the sla specs, not by the library's index).
 */
import fc from 'fast-check';
import { AvailabilityState, Exclusion, ExclusionReason, MINUTE_DOWN, MINUTE_UNKNOWN, MINUTE_UP, monthRange, StateInterval } from '../availability';
import { MS_PER_MINUTE } from '../minute-range';

export const at = (iso: string): Date => new Date(iso);

const CODE: Record<AvailabilityState, number> = { unknown: MINUTE_UNKNOWN, up: MINUTE_UP, down: MINUTE_DOWN };

/** Runs of equal minute codes as intervals; unknown minutes become gaps. */
export function intervalsFromMinutes(codes: Uint8Array, start: Date): StateInterval[] {
  const intervals: StateInterval[] = [];
  let i = 0;
  while (i < codes.length) {
    const from = i;
    while (i < codes.length && codes[i] === codes[from]) i++;
    if (codes[from] === MINUTE_UNKNOWN) continue;
    intervals.push({
      state: codes[from] === MINUTE_UP ? 'up' : 'down',
      start: new Date(start.getTime() + from * MS_PER_MINUTE),
      end: new Date(start.getTime() + i * MS_PER_MINUTE),
    });
  }
  return intervals;
}

export interface Paint {
  from: string;
  minutes: number;
  state: AvailabilityState;
}

/** A month that is up throughout except for the painted stretches (later paints win). */
export function paintedMonth(month: string, paints: readonly Paint[] = [], background: AvailabilityState = 'up'): StateInterval[] {
  const range = monthRange(month);
  const codes = new Uint8Array(range.minutes).fill(CODE[background]);
  for (const p of paints) {
    const from = (at(p.from).getTime() - range.start.getTime()) / MS_PER_MINUTE;
    codes.fill(CODE[p.state], Math.max(0, from), Math.max(0, from + p.minutes));
  }
  return intervalsFromMinutes(codes, range.start);
}

/** The UTC calendar month `YYYY-MM`. */
export const monthArb: fc.Arbitrary<string> = fc
  .record({ year: fc.integer({ min: 2000, max: 2199 }), month: fc.integer({ min: 1, max: 12 }) })
  .map(({ year, month }) => `${year}-${String(month).padStart(2, '0')}`);

/** Minute codes for `minutes` minutes, as runs: mostly up, with outages, blips and monitor gaps. */
export function minuteCodesArb(minutes: number): fc.Arbitrary<Uint8Array> {
  const run = fc.record({
    length: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 6000 })),
    code: fc.constantFrom(MINUTE_UP, MINUTE_UP, MINUTE_UP, MINUTE_DOWN, MINUTE_DOWN, MINUTE_UNKNOWN),
  });
  return fc.array(run, { maxLength: 60 }).map((runs) => {
    const codes = new Uint8Array(minutes).fill(MINUTE_UP);
    let i = 0;
    for (const r of runs) {
      codes.fill(r.code, i, Math.min(minutes, i + r.length));
      i += r.length;
      if (i >= minutes) break;
    }
    // A counterexample prints as its runs (then up), not as 44,640 numbers.
    const summary = `minutes(${runs.map((r) => `${'?uD'[r.code]}x${r.length}`).join(' ')}, then up)`;
    Object.defineProperty(codes, fc.toStringMethod, { value: () => summary });
    return codes;
  });
}

const REASONS: ExclusionReason[] = ['scheduled_maintenance', 'customer_initiated', 'organization_suspended'];

/** Exclusions anywhere in (and a little around) the range, to the second. */
export function exclusionsArb(range: { start: Date; end: Date }): fc.Arbitrary<Exclusion[]> {
  const span = range.end.getTime() - range.start.getTime();
  return fc.array(exclusionArb(range.start.getTime() - 3_600_000, span + 7_200_000), { maxLength: 6 });
}

export function exclusionArb(fromMs: number, spanMs: number): fc.Arbitrary<Exclusion> {
  return fc
    .record({
      offset: fc.integer({ min: 0, max: Math.floor(spanMs / 1000) }),
      seconds: fc.integer({ min: 0, max: 3 * 24 * 3600 }),
      reason: fc.constantFrom(...REASONS),
    })
    .map(({ offset, seconds, reason }) => ({
      start: new Date(fromMs + offset * 1000),
      end: new Date(fromMs + (offset + seconds) * 1000),
      reason,
      reference: `ref-${offset}`,
    }));
}
