/**
 * Error-budget burn rates and the multiwindow alerts built on them (DOMAIN.md "SLA": "Burn-rate
 * alerts (SRE workbook, 30-day budget): page at 14.4x over 1h and 5m, or 6x over 6h and 30m;
 * ticket at 3x over 1d and 2h, or 1x over 3d and 6h"). The thresholds are policy data.
 */
import { MINUTE_DOWN, MINUTE_UP, MinuteStates } from './availability';
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
  /** Down minutes that spend budget (see {@link evaluateBurnRateAlerts}). */
  badMinutes: number;
  rate: number;
}

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
 * Bad minutes are the down minutes that spend budget in the report: those in runs of at least the
 * policy's minimum downtime period, plus the run still going on at the end, which may yet reach the
 * minimum (waiting for its 5th minute would delay every page by 5 minutes). Minutes the SLA
 * excludes should be passed as unknown (e.g. with `excludedMinuteMask`) so maintenance does not page.
 * The rate's denominator is the measured minutes of the window: unknown minutes dilute nothing.
 */
export function evaluateBurnRateAlerts(
  minutes: MinuteStates,
  targetPercent: number,
  policy: SlaPolicy = currentSlaPolicy(),
): BurnRateAlertEvaluation {
  const allowedPpm = PPM - percentToPpm(targetPercent);
  const n = minutes.length;

  // Prefix sums, so every window is two subtractions.
  const bad = new Int32Array(n + 1);
  const measured = new Int32Array(n + 1);
  const spends = budgetSpendingMinutes(minutes, policy.minDowntimePeriodMinutes);
  for (let i = 0; i < n; i++) {
    bad[i + 1] = bad[i] + spends[i];
    measured[i + 1] = measured[i] + (minutes[i] === MINUTE_UP || minutes[i] === MINUTE_DOWN ? 1 : 0);
  }

  const window = (length: number, factorMilli: number): BurnRateWindow & { exceeds: boolean } => {
    const from = Math.max(0, n - length);
    const badMinutes = bad[n] - bad[from];
    const measuredMinutes = measured[n] - measured[from];
    return {
      minutes: length,
      measuredMinutes,
      badMinutes,
      rate: burnRate(badMinutes, measuredMinutes, targetPercent),
      // bad / measured > factor × allowed, multiplied out in integers (factor in thousandths).
      exceeds: badMinutes > 0 && badMinutes * PPM * 1000 > factorMilli * allowedPpm * measuredMinutes,
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

/** 1 for down minutes in runs of at least `minRun`, or in the run that reaches the end; else 0. */
function budgetSpendingMinutes(minutes: MinuteStates, minRun: number): Uint8Array {
  const spends = new Uint8Array(minutes.length);
  let i = 0;
  while (i < minutes.length) {
    if (minutes[i] !== MINUTE_DOWN) {
      i++;
      continue;
    }
    const from = i;
    while (i < minutes.length && minutes[i] === MINUTE_DOWN) i++;
    if (i - from >= minRun || i === minutes.length) spends.fill(1, from, i);
  }
  return spends;
}
