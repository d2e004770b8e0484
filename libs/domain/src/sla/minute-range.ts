/**
 * Minute arithmetic shared by the SLA modules (internal: not exported from the library's index,
 * so these generic names cannot clash with anyone else's).
 */

export const MS_PER_MINUTE = 60_000;
export const MINUTES_PER_DAY = 1_440;

/**
 * A range's start in ms and its length in minutes, after checking it is whole minutes. Ranges come
 * from {@link monthRange} or the monitor's own clock, so a bad one is a bug: RangeError, not a 400.
 */
export function minuteRangeBounds(range: { start: Date; end: Date }): { startMs: number; minutes: number } {
  const startMs = range.start.getTime();
  const endMs = range.end.getTime();
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || startMs % MS_PER_MINUTE !== 0 || endMs % MS_PER_MINUTE !== 0 || endMs < startMs) {
    throw new RangeError('a minute range needs valid start <= end, both on whole minutes');
  }
  return { startMs, minutes: (endMs - startMs) / MS_PER_MINUTE };
}
