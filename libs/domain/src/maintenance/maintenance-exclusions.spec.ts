import { UnprocessableError, ValidationError } from '../errors/domain-error';
import { caught } from '../test/thrown';
import {
  assertExclusionAllowed,
  assertWindowKeepsAvailability,
  type ExclusionCheck,
  type ExclusionSpan,
  mostWithinAnySpan,
  worstAvailabilityMinutes,
} from './maintenance-exclusions';
import type { MaintenanceWindowSpec } from './maintenance-window';

const now = new Date('2026-06-01T00:00:00Z');
const day = (n: number) => new Date(now.getTime() + n * 86_400_000);
const span = (name: string, scope: ExclusionSpan['scope'], from: number, to: number): ExclusionSpan => ({ name, scope, startsAt: day(from), endsAt: day(to) });
// Saturdays and Sundays, 8 h each in UTC: 16 h a week, about 70 h in any 32 days.
const weekend: MaintenanceWindowSpec = { timeZone: 'UTC', days: ['SA', 'SU'], startTime: '00:00', durationMinutes: 480 };

const check = (candidate: ExclusionSpan, over: Partial<ExclusionCheck> = {}): ExclusionCheck => ({
  provider: 'gke',
  candidate,
  existing: [],
  now,
  supportEndsAt: day(200),
  window: null,
  ...over,
});
const refusal = (c: ExclusionCheck): UnprocessableError | undefined => {
  try {
    assertExclusionAllowed(c);
    return undefined;
  } catch (e) {
    if (e instanceof UnprocessableError) return e;
    throw e;
  }
};

describe('maintenance exclusions', () => {
  it('accepts a 10-day no_upgrades exclusion on gke and any length of no_minor_upgrades before end of support', () => {
    expect(refusal(check(span('freeze', 'no_upgrades', 1, 11), { window: weekend }))).toBeUndefined();
    expect(refusal(check(span('q3', 'no_minor_upgrades', 1, 150)))).toBeUndefined();
  });

  it('refuses an end not after the start with a 400 naming ends_at', () => {
    const error = caught(() => assertExclusionAllowed(check(span('x', 'no_upgrades', 5, 5))));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations[0]!.field).toBe('ends_at');
  });

  it('refuses an exclusion that has already ended, on every provider, but takes one that is running now', () => {
    expect(refusal(check(span('x', 'no_minor_upgrades', -5, -1), { provider: 'rke2' }))?.type).toBe('exclusion-in-the-past');
    expect(refusal(check(span('x', 'no_minor_upgrades', -5, 1), { provider: 'rke2' }))).toBeUndefined();
  });

  it('refuses an overlap with another exclusion of the same scope, naming it, and allows one of another scope', () => {
    const existing = [span('sale', 'no_minor_upgrades', 2, 20)];
    const error = refusal(check(span('audit', 'no_minor_upgrades', 19, 30), { provider: 'rke2', existing }));
    expect(error?.type).toBe('exclusion-overlaps');
    expect(error?.extensions).toMatchObject({ overlapping: 'sale' });
    expect(refusal(check(span('audit', 'no_upgrades', 10, 12), { provider: 'rke2', existing }))).toBeUndefined();
    // touching end to start is no overlap
    expect(refusal(check(span('next', 'no_minor_upgrades', 20, 30), { provider: 'rke2', existing }))).toBeUndefined();
  });

  it('holds no_upgrades to 30 days on gke only', () => {
    expect(refusal(check(span('long', 'no_upgrades', 1, 31.01)))?.type).toBe('exclusion-too-long');
    expect(refusal(check(span('long', 'no_upgrades', 1, 31)))).toBeUndefined();
    expect(refusal(check(span('long', 'no_upgrades', 1, 90), { provider: 'rke2' }))).toBeUndefined();
  });

  it('holds the minor scopes to the end of support on gke', () => {
    const error = refusal(check(span('q3', 'no_minor_or_node_upgrades', 1, 201)));
    expect(error?.type).toBe('exclusion-past-end-of-support');
    expect(error?.extensions).toMatchObject({ support_ends_at: day(200).toISOString() });
    expect(refusal(check(span('q3', 'no_minor_or_node_upgrades', 1, 201), { supportEndsAt: null }))).toBeUndefined();
  });

  it('allows three no_upgrades exclusions in 32 days on gke, not four', () => {
    const existing = [span('a', 'no_upgrades', 1, 2), span('b', 'no_upgrades', 5, 6), span('c', 'no_upgrades', 9, 10)];
    expect(refusal(check(span('d', 'no_upgrades', 20, 21), { existing }))?.type).toBe('too-many-exclusions');
    // 32 days after the first ended, the first no longer counts with it
    expect(refusal(check(span('d', 'no_upgrades', 34, 35), { existing }))).toBeUndefined();
    expect(refusal(check(span('d', 'no_upgrades', 20, 21), { existing, provider: 'rke2' }))).toBeUndefined();
  });

  it('counts the most spans any 32 days meet', () => {
    expect(mostWithinAnySpan([])).toBe(0);
    // a period starting just before day 1 still meets a day-32.5 start; one after day 33.5 does not meet [0, 1)
    expect(mostWithinAnySpan([span('a', 'no_upgrades', 0, 1), span('b', 'no_upgrades', 32.5, 33)])).toBe(2);
    expect(mostWithinAnySpan([span('a', 'no_upgrades', 0, 1), span('b', 'no_upgrades', 33.5, 34)])).toBe(1);
    expect(mostWithinAnySpan([span('a', 'no_upgrades', 0, 1), span('b', 'no_upgrades', 33.5, 34), span('c', 'no_upgrades', 30, 31)])).toBe(2);
    expect(mostWithinAnySpan([span('a', 'no_upgrades', 0, 1), span('b', 'no_upgrades', 31.5, 34), span('c', 'no_upgrades', 30, 31)])).toBe(3);
  });

  it('refuses a no_upgrades exclusion that leaves less than 48 h of window in some 32 days on gke', () => {
    // 29 days of freeze leave 3 days of the following 32 without the freeze: at most one weekend (16 h)
    const error = refusal(check(span('freeze', 'no_upgrades', 1, 30), { window: weekend }));
    expect(error?.type).toBe('exclusion-leaves-too-little-maintenance');
    expect((error?.extensions as { available_minutes: number }).available_minutes).toBeLessThan(48 * 60);
    // without a window maintenance may run at any time: 3 days free is 72 h
    expect(refusal(check(span('freeze', 'no_upgrades', 1, 30)))).toBeUndefined();
  });

  it('measures availability only from pieces of at least 4 h left by the exclusions', () => {
    const daily: MaintenanceWindowSpec = { timeZone: 'UTC', days: ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], startTime: '00:00', durationMinutes: 300 };
    // a block from 01:00 to 02:00 every day of one week would leave 1 h + 3 h pieces: nothing counted that week
    const blocks = Array.from({ length: 7 }, (_, i) => ({ startsAt: new Date(day(i).getTime() + 3_600_000), endsAt: new Date(day(i).getTime() + 7_200_000) }));
    const withBlocks = worstAvailabilityMinutes(daily, blocks, now);
    expect(withBlocks).toBeLessThanOrEqual((32 - 7) * 300);
    expect(withBlocks).toBeGreaterThanOrEqual((32 - 8) * 300);
    expect(worstAvailabilityMinutes(daily, [], now)).toBe(Infinity);
  });
});

describe('a GKE window change under existing exclusions', () => {
  // Every day 6 h in UTC: 192 h in 32 days without exclusions.
  const daily: MaintenanceWindowSpec = { timeZone: 'UTC', days: ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], startTime: '00:00', durationMinutes: 360 };
  const freeze = span('freeze', 'no_upgrades', 2, 22);

  it('keeps a window that leaves 48 h in any 32 days outside the no_upgrades exclusions', () => {
    // 12 days outside a 20-day freeze, 6 h each: 72 h
    expect(() => assertWindowKeepsAvailability(daily, [freeze], now)).not.toThrow();
    // no window at all: any time is maintenance time
    expect(() => assertWindowKeepsAvailability(null, [freeze], now)).not.toThrow();
  });

  it('refuses a window that would leave less, naming the exclusions and the minutes left', () => {
    // weekends only, 8 h a day: the 12 days outside the freeze hold at most two weekends, 32 h
    const error = caught(() => assertWindowKeepsAvailability(weekend, [freeze], now));
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error).toMatchObject({ type: 'window-leaves-too-little-maintenance' });
    expect((error as UnprocessableError).message).toContain('freeze');
    // the same window is fine once the freeze has ended, and other scopes never count
    expect(() => assertWindowKeepsAvailability(weekend, [span('old', 'no_upgrades', -30, -10)], now)).not.toThrow();
    expect(() => assertWindowKeepsAvailability(weekend, [span('minors', 'no_minor_upgrades', 2, 22)], now)).not.toThrow();
  });
});
