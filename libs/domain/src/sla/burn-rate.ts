/**
 * Error-budget burn rates and the multiwindow alerts built on them (docs/sla.md, "Burn-rate
 * alerts": page at 14.4x over 1h and 5m, or 6x over 6h and 30m; ticket at 3x over 1d and 2h, or
 * 1x over 3d and 6h, after the SRE workbook). The thresholds are policy data.
 */
import { downtimePeriods, MINUTE_DOWN, MINUTE_UP, MinuteStates } from './availability';
import { MS_PER_MINUTE } from './minute-range';
import { percentToPpm, PPM } from './parts-per-million';
import { BurnRateRule, BurnRateSeverity, currentSlaPolicy, SlaPolicy } from './sla-policy';

/**
 * How many times faster than sustainable the budget is being spent: the bad share of the window
 * divided by the share the target allows (1 − target). 1 spends exactly the budget over its
 * period; 14.4 over a 30-day budget spends 2% of it in an hour. 0 for an empty window.
 */
export function burnRate(badMinutes: number, windowMinutes: number, targetPercent: number): number {
  if (windowMinutes <= 0 || badMinutes <= 0) return 0;
  const allowedPpm = PPM - percentToPpm(targetPercent);
  if (allowedPpm === 0) return Number.POSITIVE_INFINITY;
  return (badMinutes * PPM) / (windowMinutes * allowedPpm);
}

export interface BurnRateWindow {
  /** The rule's window length. */
  minutes: number;
  /** Minutes in the window with data (up or down); unknown minutes are neither good nor bad. */
  measuredMinutes: number;
  /** What the rate divides by: the measured minutes, but at least {@link MIN_MEASURED_WINDOW_SHARE} of the window. */
  denominatorMinutes: number;
  /** Down minutes that spend budget (see {@link evaluateBurnRateAlerts}). */
  badMinutes: number;
  rate: number;
}

/**
 * The least share of a window a rate is divided by. A rate over a few measured minutes is noise:
 * a 2-minute blip on a cluster measured for 10 minutes read as a 40x burn of a 99.5% budget over
 * the hour, and paged. Dividing by at least half the window (30 minutes of the hour) keeps that
 * blip under 14.4x, while a real outage on a young cluster (7 minutes down of 11) still pages.
 */
export const MIN_MEASURED_WINDOW_SHARE = 0.5;

export interface BurnRateRuleEvaluation extends BurnRateRule {
  long: BurnRateWindow;
  short: BurnRateWindow;
  /** Both windows burn faster than `factor`. */
  fires: boolean;
}

export interface BurnRateAlertEvaluation {
  /** The most severe alert that fires: a page outranks a ticket. */
  fires: BurnRateSeverity | null;
  /** Every rule of the policy, in policy order, firing or not. */
  rules: BurnRateRuleEvaluation[];
}

/**
 * Which burn-rate alert fires, given per-minute states ending now (the last element is the most
 * recent complete minute; pass at least the longest window, 3 days, when there is that much
 * history). A rule fires only when BOTH its long and its short window burn faster than its factor
 * (strictly, as in the SRE workbook's `> factor * (1 - SLO)`), so a page stops soon after the
 * outage ends while a short spike alone never pages.
 *
 * Bad minutes are the down minutes that spend budget in the report: those in downtime periods of at
 * least the policy's minimum (found as the report finds them, through unknown minutes), plus the
 * period still going on at the end, which may yet reach the minimum (waiting for its 5th minute
 * would delay every page by 5 minutes). Minutes the SLA excludes (`excluded`, 1 per minute, e.g.
 * from `excludedMinuteMask`) are neither bad nor measured, and, as in the report, they do not split
 * a period. The rate's denominator is the measured minutes of the window, but at least
 * {@link MIN_MEASURED_WINDOW_SHARE} of the window, so a few minutes of data cannot make a blip a page.
 */
export function evaluateBurnRateAlerts(
  minutes: MinuteStates,
  targetPercent: number,
  policy: SlaPolicy = currentSlaPolicy(),
  excluded?: Uint8Array,
): BurnRateAlertEvaluation {
  const allowedPpm = PPM - percentToPpm(targetPercent);
  const n = minutes.length;
  if (excluded !== undefined && excluded.length !== n) throw new RangeError(`the excluded mask needs ${n} minutes, got ${excluded.length}`);

  // Prefix sums, so every window is two subtractions.
  const bad = new Int32Array(n + 1);
  const measured = new Int32Array(n + 1);
  const spends = budgetSpendingMinutes(minutes, policy.minDowntimePeriodMinutes);
  for (let i = 0; i < n; i++) {
    const counts = excluded === undefined || excluded[i] === 0;
    bad[i + 1] = bad[i] + (counts ? spends[i] : 0);
    measured[i + 1] = measured[i] + (counts && (minutes[i] === MINUTE_UP || minutes[i] === MINUTE_DOWN) ? 1 : 0);
  }

  const window = (length: number, factorMilli: number): BurnRateWindow & { exceeds: boolean } => {
    const from = Math.max(0, n - length);
    const badMinutes = bad[n] - bad[from];
    const measuredMinutes = measured[n] - measured[from];
    const denominatorMinutes = Math.max(measuredMinutes, Math.ceil(length * MIN_MEASURED_WINDOW_SHARE));
    return {
      minutes: length,
      measuredMinutes,
      denominatorMinutes,
      badMinutes,
      rate: burnRate(badMinutes, denominatorMinutes, targetPercent),
      // bad / denominator > factor × allowed, multiplied out in integers (factor in thousandths).
      exceeds: badMinutes > 0 && badMinutes * PPM * 1000 > factorMilli * allowedPpm * denominatorMinutes,
    };
  };

  const rules = policy.burnRate.rules.map((rule): BurnRateRuleEvaluation => {
    const factorMilli = Math.round(rule.factor * 1000);
    const { exceeds: longExceeds, ...long } = window(rule.longWindowMinutes, factorMilli);
    const { exceeds: shortExceeds, ...short } = window(rule.shortWindowMinutes, factorMilli);
    return { ...rule, long, short, fires: longExceeds && shortExceeds };
  });
  const fires = rules.some((r) => r.fires && r.severity === 'page') ? 'page' : rules.some((r) => r.fires) ? 'ticket' : null;
  return { fires, rules };
}

/** 1 for the down minutes of periods of at least `minMinutes`, or of the period still going on at the end; else 0. */
function budgetSpendingMinutes(minutes: MinuteStates, minMinutes: number): Uint8Array {
  const spends = new Uint8Array(minutes.length);
  // Any whole-minute range of the right length: only the indexes matter here.
  const range = { start: new Date(0), end: new Date(minutes.length * MS_PER_MINUTE) };
  let last = minutes.length;
  while (last > 0 && minutes[last - 1] !== MINUTE_DOWN && minutes[last - 1] !== MINUTE_UP) last--;
  for (const period of downtimePeriods(minutes, range, minMinutes)) {
    const from = period.start.getTime() / MS_PER_MINUTE;
    const until = period.end.getTime() / MS_PER_MINUTE;
    // Still going on: nothing but unknown minutes after it (the current minute may not be measured yet).
    if (!period.counted && until !== last) continue;
    for (let i = from; i < until; i++) if (minutes[i] === MINUTE_DOWN) spends[i] = 1;
  }
  return spends;
}
