/**
 * Exact arithmetic for SLA percentages (internal to libs/domain/src/sla).
 *
 * Targets such as 99.95% have no exact binary floating-point form, so `1 - 0.9995` is not 0.0005
 * and a month at exactly its target could read as breached. Every percentage in a policy has at
 * most four decimals, so it is an integer number of parts per million (99.95% = 999,500 ppm), and
 * each comparison below multiplies minute counts (at most 44,640 in a month) by ppm: products stay
 * far below 2^53, so the answers are exact.
 */

export const PPM = 1_000_000;

/** 99.95 -> 999,500. Throws for a percentage that is not a whole number of ppm (a policy typo). */
export function percentToPpm(percent: number): number {
  const ppm = Math.round(percent * 10_000);
  if (!Number.isFinite(percent) || Math.abs(ppm - percent * 10_000) > 1e-6 || ppm < 0 || ppm > PPM) {
    throw new RangeError(`${percent} is not a percentage between 0 and 100 with at most four decimals`);
  }
  return ppm;
}

/**
 * `part / whole` as a percentage to four decimals, for display and storage
 * (sla_reports.availability is DECIMAL(9,6)), computed from the integers.
 *
 * Rounded down, not to nearest: targets and credit tiers sit on the four-decimal grid, so a
 * figure rounded down is below a threshold exactly when the exact value is. Rounding to nearest
 * would show 216 counted minutes of 43,197 (99.49997%, breached) as "99.5".
 */
export function percentRoundedDown(part: number, whole: number): number {
  const scaled = part * PPM;
  return (scaled - (scaled % whole)) / whole / 10_000;
}

/** A number of minutes rounded to four decimals, for display (budgets such as 22.32 min). */
export function roundMinutes(minutes: number): number {
  return Math.round(minutes * 10_000) / 10_000;
}
