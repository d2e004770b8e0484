import { monthlyDowntimeBudgetMinutes, slaTargetPercent } from './sla-tier';

describe('SLA targets', () => {
  it('promises 99.5% for RKE2 and 99.95% for GKE', () => {
    expect(slaTargetPercent('rke2')).toBe(99.5);
    expect(slaTargetPercent('gke')).toBe(99.95);
  });

  it.each([
    ['rke2', 30, 216],
    ['rke2', 31, 223.2],
    ['gke', 30, 21.6],
    ['gke', 31, 22.32],
  ] as const)('allows %s %i days of month %d minutes of downtime', (provider, days, minutes) => {
    expect(monthlyDowntimeBudgetMinutes(provider, days)).toBe(minutes);
  });
});
