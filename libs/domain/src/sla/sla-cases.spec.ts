/**
 * SLA cases at the edges a reviewer probes (docs/sla.md): budgets that are not whole minutes,
 * February, credit tiers exactly at their boundaries for GKE, and an outage across midnight with an
 * exclusion inside it.
 */
import { computeSlaReport } from './sla-report';
import { at, paintedMonth, type Paint } from './test/timelines';
import type { Exclusion } from './availability';
import type { Provider } from '../catalogue/provider';

const down = (from: string, minutes: number): Paint => ({ from, minutes, state: 'down' });
const report = (provider: Provider, month: string, paints: Paint[], exclusions: Exclusion[] = []) =>
  computeSlaReport({ provider, month, intervals: paintedMonth(month, paints), exclusions });

describe('budgets that are not whole minutes', () => {
  it.each([
    // GKE, 30 days: 21.6 min allowed, so 21 counted minutes keep the target and 22 miss it
    ['gke', '2026-11', 21, false, 0],
    ['gke', '2026-11', 22, true, 10],
    // GKE, 31 days: 22.32 min
    ['gke', '2026-12', 22, false, 0],
    ['gke', '2026-12', 23, true, 10],
    // RKE2, February 2027 (28 days): 201.6 min
    ['rke2', '2027-02', 201, false, 0],
    ['rke2', '2027-02', 202, true, 10],
    // RKE2, February 2028 (29 days): 208.8 min
    ['rke2', '2028-02', 208, false, 0],
    ['rke2', '2028-02', 209, true, 10],
  ] as const)('%s in %s with %i counted minutes: breached %s, credit %i%%', (provider, month, minutes, breached, credit) => {
    const r = report(provider, month, [down(`${month}-10T00:00:00Z`, minutes)]);
    expect(r.countedDowntimeMinutes).toBe(minutes);
    expect(r.breached).toBe(breached);
    expect(r.credit.percent).toBe(credit);
  });

  it('puts GKE at exactly 99.0% (432 of 43,200 minutes) in the 10% tier and one minute more in the 25% tier', () => {
    expect(report('gke', '2026-11', [down('2026-11-10T00:00:00Z', 432)]).credit).toEqual({ percent: 10, availabilityPercent: 99 });
    expect(report('gke', '2026-11', [down('2026-11-10T00:00:00Z', 433)]).credit.percent).toBe(25);
  });

  it('puts 95.0% of February 2027 (2,016 of 40,320 minutes) in the 25% tier and one minute more at 100%', () => {
    expect(report('rke2', '2027-02', [down('2027-02-10T00:00:00Z', 2_016)]).credit).toEqual({ percent: 25, availabilityPercent: 95 });
    expect(report('rke2', '2027-02', [down('2027-02-10T00:00:00Z', 2_017)]).credit.percent).toBe(100);
  });
});

describe('an outage across midnight with customer work inside it', () => {
  it('is one period; the days are charged their own down minutes, less the minutes the exclusion covers', () => {
    // 23:57 to 00:05 down (8 minutes); the customer's upgrade ran 23:59 to 00:01
    const exclusion: Exclusion = { start: at('2026-11-10T23:59:00Z'), end: at('2026-11-11T00:01:00Z'), reason: 'customer_initiated', reference: 'op_x' };
    const r = report('rke2', '2026-11', [down('2026-11-10T23:57:00Z', 8)], [exclusion]);
    expect(r.downtimePeriods).toEqual([expect.objectContaining({ minutes: 8, counted: true, countedMinutesInMonth: 6, excludedMinutesInMonth: 2 })]);
    const day = (d: string) => r.days.find((x) => x.date === d)!;
    expect([day('2026-11-10').countedDowntimeMinutes, day('2026-11-11').countedDowntimeMinutes]).toEqual([2, 4]);
  });

  it('does not let an exclusion in the middle turn an 8-minute outage into two blips', () => {
    // 3 down, 2 excluded (still down), 3 down: neither side reaches 5 minutes on its own
    const exclusion: Exclusion = { start: at('2026-11-10T12:03:00Z'), end: at('2026-11-10T12:05:00Z'), reason: 'organization_suspended', reference: 'ae_x' };
    expect(report('rke2', '2026-11', [down('2026-11-10T12:00:00Z', 8)], [exclusion]).countedDowntimeMinutes).toBe(6);
  });

  it('counts 5 consecutive down minutes across midnight, not 4', () => {
    expect(report('rke2', '2026-11', [down('2026-11-10T23:58:00Z', 5)]).countedDowntimeMinutes).toBe(5);
    expect(report('rke2', '2026-11', [down('2026-11-10T23:58:00Z', 4)]).countedDowntimeMinutes).toBe(0);
  });
});
