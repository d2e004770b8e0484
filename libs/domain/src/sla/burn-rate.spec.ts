import fc from 'fast-check';
import { MINUTE_DOWN, MINUTE_UNKNOWN, MINUTE_UP } from './availability';
import { burnRate, evaluateBurnRateAlerts, MIN_MEASURED_WINDOW_SHARE } from './burn-rate';
import { currentSlaPolicy } from './sla-policy';

const THREE_DAYS = 3 * 1440;

/** Per-minute states ending now: up for three days, then the painted minutes counted back from now. */
function endingNow(paints: { minutesAgo: number; minutes: number; state?: number }[], length = THREE_DAYS): Uint8Array {
  const states = new Uint8Array(length).fill(MINUTE_UP);
  for (const p of paints) states.fill(p.state ?? MINUTE_DOWN, length - p.minutesAgo, length - p.minutesAgo + p.minutes);
  return states;
}

describe('burnRate', () => {
  it('is the bad share of the window over the share the target allows', () => {
    // 99.5% allows 0.5%: 3 bad minutes of 60 is 5%, ten times the sustainable rate
    expect(burnRate(3, 60, 99.5)).toBe(10);
    // 99.95% allows 0.05%: 21.6 of 43,200 minutes spends the month's budget exactly
    expect(burnRate(21.6, 43_200, 99.95)).toBeCloseTo(1, 12);
    expect(burnRate(1, 200, 99.5)).toBe(1);
  });

  it('is 0 with nothing bad or nothing measured', () => {
    expect(burnRate(0, 60, 99.5)).toBe(0);
    expect(burnRate(5, 0, 99.5)).toBe(0);
  });
});

describe('evaluateBurnRateAlerts', () => {
  const policy = currentSlaPolicy();

  it('pages on a 5-minute outage going on now at 99.5%: 14.4x over both the hour and the last 5 minutes', () => {
    const result = evaluateBurnRateAlerts(endingNow([{ minutesAgo: 5, minutes: 5 }]), 99.5, policy);
    expect(result.fires).toBe('page');
    expect(result.rules[0]).toMatchObject({
      severity: 'page',
      factor: 14.4,
      fires: true,
      long: { minutes: 60, measuredMinutes: 60, badMinutes: 5 },
      short: { minutes: 5, measuredMinutes: 5, badMinutes: 5, rate: 200 },
    });
    expect(result.rules[0].long.rate).toBeCloseTo(16.6667, 4);
  });

  it('does not page on 4 bad minutes in the hour (13.3x), which is under 14.4x', () => {
    const result = evaluateBurnRateAlerts(endingNow([{ minutesAgo: 4, minutes: 4 }]), 99.5, policy);
    expect(result.rules[0]).toMatchObject({ fires: false, long: { badMinutes: 4 } });
    expect(result.fires).toBeNull();
  });

  it('stops paging once the outage is over, because the short window is clean', () => {
    // Given a 20-minute outage that ended 6 minutes ago
    const result = evaluateBurnRateAlerts(endingNow([{ minutesAgo: 26, minutes: 20 }]), 99.5, policy);
    // Then the hour still burns at 66x but the last 5 minutes do not, so the fast page is off;
    // the 6h/30m page still fires (30 minutes hold 20 bad ones)
    expect(result.rules[0]).toMatchObject({ fires: false, short: { badMinutes: 0 } });
    expect(result.rules[0].long.rate).toBeGreaterThan(14.4);
    expect(result.rules[1]).toMatchObject({ fires: true, long: { badMinutes: 20 }, short: { badMinutes: 20 } });
    expect(result.fires).toBe('page');

    // and 40 minutes later neither page fires
    expect(evaluateBurnRateAlerts(endingNow([{ minutesAgo: 66, minutes: 20 }]), 99.5, policy).rules.filter((r) => r.severity === 'page' && r.fires)).toEqual(
      [],
    );
  });

  it('opens a ticket for a slow burn: a 5-minute outage every 6 hours', () => {
    // 12 outages in 3 days = 60 minutes: 2.8x over 3 days and over the last 6 hours, under 3x for a day
    const outages = Array.from({ length: 12 }, (_, k) => ({ minutesAgo: 60 + k * 360, minutes: 5 }));
    const result = evaluateBurnRateAlerts(endingNow(outages), 99.5, policy);
    expect(result.fires).toBe('ticket');
    expect(result.rules.map((r) => r.fires)).toEqual([false, false, false, true]);
    expect(result.rules[3]).toMatchObject({ long: { badMinutes: 60 }, short: { badMinutes: 5 } });
  });

  it('ignores blips that ended, since they spend no budget, but counts a run still going on', () => {
    // Given 3-minute blips every half hour for the last 6 hours
    const blips = Array.from({ length: 12 }, (_, k) => ({ minutesAgo: 10 + k * 30, minutes: 3 }));
    expect(evaluateBurnRateAlerts(endingNow(blips), 99.5, policy).fires).toBeNull();
    // Given 2 down minutes right now at 99.95%, which may yet become a counted period
    const result = evaluateBurnRateAlerts(endingNow([{ minutesAgo: 2, minutes: 2 }]), 99.95, policy);
    expect(result.rules[0]).toMatchObject({ fires: true, long: { badMinutes: 2 }, short: { badMinutes: 2 } });
  });

  it('fires only when the rate is strictly above the factor, exactly as the SRE workbook writes it', () => {
    // Given 4,000 measured minutes of 3 days (the rest unknown) with 20 down minutes now: exactly 1x at 99.5%
    const exactlyOnce = endingNow([
      { minutesAgo: THREE_DAYS, minutes: THREE_DAYS - 4_000, state: MINUTE_UNKNOWN },
      { minutesAgo: 20, minutes: 20 },
    ]);
    const at1x = evaluateBurnRateAlerts(exactlyOnce, 99.5, policy);
    expect(at1x.rules[3]).toMatchObject({ fires: false, long: { measuredMinutes: 4_000, badMinutes: 20, rate: 1 } });
    // and with 3,999 measured minutes it is just above
    exactlyOnce[THREE_DAYS - 4_000] = MINUTE_UNKNOWN;
    expect(evaluateBurnRateAlerts(exactlyOnce, 99.5, policy).rules[3].fires).toBe(true);
  });

  it('does not page on a 2-minute blip of a cluster watched for 10 minutes (a 40x "burn" of almost no data)', () => {
    // Before: 2 bad of 10 measured minutes read as 40x over the hour, and paged
    const young = endingNow([
      { minutesAgo: THREE_DAYS, minutes: THREE_DAYS - 10, state: MINUTE_UNKNOWN },
      { minutesAgo: 2, minutes: 2 },
    ]);
    const result = evaluateBurnRateAlerts(young, 99.5, policy);
    expect(result.fires).toBeNull();
    expect(result.rules[0].long).toMatchObject({ measuredMinutes: 10, denominatorMinutes: 30, badMinutes: 2 });
    // A real outage on a young cluster still pages: 7 minutes down of 11 watched
    const outage = endingNow([
      { minutesAgo: THREE_DAYS, minutes: THREE_DAYS - 11, state: MINUTE_UNKNOWN },
      { minutesAgo: 7, minutes: 7 },
    ]);
    expect(evaluateBurnRateAlerts(outage, 99.5, policy).fires).toBe('page');
  });

  it('does not page on downtime the SLA excludes, nor count excluded minutes as measured', () => {
    // Given a 20-minute outage going on, all inside a customer's upgrade
    const states = endingNow([{ minutesAgo: 20, minutes: 20 }]);
    const excluded = new Uint8Array(THREE_DAYS);
    excluded.fill(1, THREE_DAYS - 20);
    const result = evaluateBurnRateAlerts(states, 99.5, policy, excluded);
    expect(result.fires).toBeNull();
    expect(result.rules[0].long).toMatchObject({ badMinutes: 0, measuredMinutes: 40 });
    // and an exclusion in the middle of an outage does not split it: 3 down, 1 excluded, 3 down pages
    const split = endingNow([{ minutesAgo: 7, minutes: 7 }]);
    const oneMinute = new Uint8Array(THREE_DAYS);
    oneMinute[THREE_DAYS - 4] = 1;
    const joined = evaluateBurnRateAlerts(split, 99.5, policy, oneMinute);
    expect(joined.fires).toBe('page');
    expect(joined.rules[0].long).toMatchObject({ badMinutes: 6, measuredMinutes: 59 });
  });

  it('leaves unknown minutes out of the rate, and never fires without data', () => {
    expect(evaluateBurnRateAlerts(new Uint8Array(THREE_DAYS), 99.5, policy).fires).toBeNull();
    expect(evaluateBurnRateAlerts(new Uint8Array(0), 99.5, policy).fires).toBeNull();
  });

  it('works on less history than the longest window', () => {
    const result = evaluateBurnRateAlerts(endingNow([{ minutesAgo: 10, minutes: 10 }], 30), 99.5, policy);
    expect(result.rules[3].long).toMatchObject({ minutes: THREE_DAYS, measuredMinutes: 30, badMinutes: 10 });
    expect(result.fires).toBe('page');
  });

  it('uses the current policy by default and reports every rule in policy order', () => {
    const result = evaluateBurnRateAlerts(endingNow([]), 99.5);
    expect(result.rules.map((r) => [r.severity, r.factor])).toEqual(policy.burnRate.rules.map((r) => [r.severity, r.factor]));
  });

  it('fires a rule exactly when both its windows burn faster than its factor', () => {
    const states = fc.array(fc.constantFrom(MINUTE_UP, MINUTE_UP, MINUTE_DOWN, MINUTE_UNKNOWN), { minLength: 0, maxLength: 500 });
    fc.assert(
      fc.property(states, fc.constantFrom(99.5, 99.95), (list, target) => {
        const result = evaluateBurnRateAlerts(Uint8Array.from(list), target, policy);
        for (const rule of result.rules) {
          const exceeds = (w: { rate: number }) => w.rate > rule.factor * (1 + 1e-12);
          for (const w of [rule.long, rule.short])
            expect(w.denominatorMinutes).toBe(Math.max(w.measuredMinutes, Math.ceil(w.minutes * MIN_MEASURED_WINDOW_SHARE)));
          expect(rule.fires).toBe(exceeds(rule.long) && exceeds(rule.short));
          expect(rule.short.badMinutes).toBeLessThanOrEqual(rule.long.badMinutes);
        }
        const firing = result.rules.filter((r) => r.fires).map((r) => r.severity);
        expect(result.fires).toBe(firing.includes('page') ? 'page' : firing.length > 0 ? 'ticket' : null);
      }),
    );
  });
});
