/**
 * Availability targets per provider, per cluster per calendar month (docs/sla.md, "Targets"):
 * RKE2 on own infrastructure 99.5%, Managed GKE 99.95%.
 */
import { Provider } from '../catalogue/provider';

export const SLA_TARGET_PERCENT: Readonly<Record<Provider, number>> = Object.freeze({ rke2: 99.5, gke: 99.95 });

export function slaTargetPercent(provider: Provider): number {
  return SLA_TARGET_PERCENT[provider];
}

/**
 * Minutes of downtime the target allows in a month of `daysInMonth` days: 216 min for RKE2 and
 * 21.6 min for GKE in 30 days (docs/sla.md, "Targets"). Computed in hundredths of a percent so 99.95
 * does not pick up a binary floating-point tail.
 */
export function monthlyDowntimeBudgetMinutes(provider: Provider, daysInMonth: number): number {
  const allowedBasisPoints = 10_000 - Math.round(slaTargetPercent(provider) * 100);
  return (daysInMonth * 24 * 60 * allowedBasisPoints) / 10_000;
}
