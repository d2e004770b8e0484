import fc from 'fast-check';
import { Provider } from '../catalogue/provider';
import { excludedMinuteMask, Exclusion, MINUTE_DOWN, MINUTE_UNKNOWN, MINUTE_UP, monthRange, StateInterval } from './availability';
import { MS_PER_MINUTE } from './minute-range';
import { currentSlaPolicy, SlaPolicy } from './sla-policy';
import { computeSlaReport, MonthlySlaReport } from './sla-report';
import { at, exclusionArb, exclusionsArb, intervalsFromMinutes, minuteCodesArb, monthArb, Paint, paintedMonth } from './test/timelines';
import { validationError } from '../test/thrown';

interface Given {
  provider?: Provider;
  month?: string;
  paints?: Paint[];
  intervals?: StateInterval[];
  exclusions?: Exclusion[];
  fee?: number;
  now?: Date;
  policy?: SlaPolicy;
}

/** A report for a month that is up throughout unless painted otherwise (RKE2, November 2026: 30 days). */
function reportFor(given: Given = {}): MonthlySlaReport {
  const month = given.month ?? '2026-11';
  return computeSlaReport({
    provider: given.provider ?? 'rke2',
    month,
    intervals: given.intervals ?? paintedMonth(month, given.paints ?? []),
    exclusions: given.exclusions ?? [],
    monthlyFeeCents: given.fee ?? 10_000,
    policy: given.policy,
    now: given.now,
  });
}

const down = (from: string, minutes: number): Paint => ({ from, minutes, state: 'down' });
const unknown = (from: string, minutes: number): Paint => ({ from, minutes, state: 'unknown' });
const excluded = (start: string, end: string, reason: Exclusion['reason'] = 'scheduled_maintenance', reference?: string): Exclusion => ({
  start: at(start),
  end: at(end),
  reason,
  ...(reference === undefined ? {} : { reference }),
});

describe('computeSlaReport', () => {
  describe('error budget (DOMAIN.md worked figures)', () => {
    it.each([
      ['rke2', '2026-11', 43_200, 216],
      ['rke2', '2026-12', 44_640, 223.2],
      ['gke', '2026-11', 43_200, 21.6],
      ['gke', '2026-12', 44_640, 22.32],
      ['rke2', '2026-02', 40_320, 201.6],
      ['gke', '2028-02', 41_760, 20.88],
    ] as const)('gives %s in %s (%i minutes) a budget of %d minutes', (provider, month, minutes, budget) => {
      // Given a month fully observed with no downtime, when reported
      const report = reportFor({ provider, month });
      // Then the whole budget remains
      expect(report.minutesInMonth).toBe(minutes);
      expect(report.errorBudget).toEqual({ totalMinutes: budget, usedMinutes: 0, remainingMinutes: budget });
      expect(report.availabilityPercent).toBe(100);
      expect(report.coveragePercent).toBe(100);
      expect(report.breached).toBe(false);
    });

    it('does not breach at 216 counted minutes in a 30-day month at 99.5%, and breaches at 217', () => {
      const at216 = reportFor({ paints: [down('2026-11-14T10:00:00Z', 216)] });
      expect(at216).toMatchObject({ countedDowntimeMinutes: 216, availabilityPercent: 99.5, breached: false, credit: { percent: 0, amountCents: 0 } });
      expect(at216.errorBudget).toEqual({ totalMinutes: 216, usedMinutes: 216, remainingMinutes: 0 });

      const at217 = reportFor({ paints: [down('2026-11-14T10:00:00Z', 217)] });
      expect(at217).toMatchObject({ countedDowntimeMinutes: 217, availabilityPercent: 99.4976, breached: true, credit: { percent: 10, amountCents: 1_000 } });
      expect(at217.errorBudget).toEqual({ totalMinutes: 216, usedMinutes: 217, remainingMinutes: -1 });
    });

    it.each([
      ['2026-11', 21, false],
      ['2026-11', 22, true],
      ['2026-12', 22, false],
      ['2026-12', 23, true],
    ] as const)('judges GKE at 99.95%% in %s with %i counted minutes: breached %s', (month, minutes, breached) => {
      const report = reportFor({ provider: 'gke', month, paints: [down(`${month}-03T08:00:00Z`, minutes)] });
      expect(report.countedDowntimeMinutes).toBe(minutes);
      expect(report.breached).toBe(breached);
    });

    it('costs no budget for a 4-minute outage and its full length for a 5-minute one, wherever it falls', () => {
      const range = monthRange('2026-11');
      fc.assert(
        fc.property(fc.integer({ min: 0, max: range.minutes - 12 }), fc.integer({ min: 1, max: 12 }), (startMinute, length) => {
          // Given one outage of `length` minutes, otherwise up
          const from = new Date(range.start.getTime() + startMinute * MS_PER_MINUTE).toISOString();
          const report = reportFor({ paints: [down(from, length)] });
          // Then it is always listed, and counted only from 5 minutes
          expect(report.downMinutes).toBe(length);
          expect(report.countedDowntimeMinutes).toBe(length >= 5 ? length : 0);
          expect(report.errorBudget.usedMinutes).toBe(length >= 5 ? length : 0);
          expect(report.downtimePeriods).toEqual([expect.objectContaining({ minutes: length, counted: length >= 5 })]);
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('credits', () => {
    it.each([
      [216, 99.5, 0, 0],
      [217, 99.4976, 10, 12_346], // 99.49768% shows rounded down; 12,345.7 cents rounds up
      [432, 99.0, 10, 12_346], // exactly 99.0%: still the 10% tier
      [433, 98.9976, 25, 30_864], // just below 99.0%: 30,864.25 rounds down
      [2_160, 95.0, 25, 30_864], // exactly 95.0%: still the 25% tier
      [2_161, 94.9976, 100, 123_457], // just below 95.0%: the whole fee
    ])('credits %i counted minutes of 43,200 (%d%%) with %i%% of the fee', (minutes, availability, percent, amountCents) => {
      const report = reportFor({ paints: [down('2026-11-02T00:00:00Z', minutes)], fee: 123_457 });
      expect(report.availabilityPercent).toBe(availability);
      expect(report.credit).toEqual({ percent, amountCents, availabilityPercent: availability });
    });

    it('rounds a credit half up to a whole cent', () => {
      expect(reportFor({ paints: [down('2026-11-02T00:00:00Z', 300)], fee: 12_345 }).credit.amountCents).toBe(1_235); // 1,234.5
      expect(reportFor({ paints: [down('2026-11-02T00:00:00Z', 300)], fee: 12_344 }).credit.amountCents).toBe(1_234); // 1,234.4
    });

    it('keeps a credit exact for the largest fee a number can hold', () => {
      const fee = Number.MAX_SAFE_INTEGER; // 9,007,199,254,740,991 cents; 10% ends in .1
      expect(reportFor({ paints: [down('2026-11-02T00:00:00Z', 300)], fee }).credit.amountCents).toBe(900_719_925_474_099);
    });

    it('credits nothing on a free cluster, and refuses a negative or fractional fee', () => {
      expect(reportFor({ paints: [down('2026-11-02T00:00:00Z', 5_000)], fee: 0 }).credit).toMatchObject({ percent: 100, amountCents: 0 });
      expect(validationError(() => reportFor({ fee: -1 })).violations[0].field).toBe('monthly_fee_cents');
      expect(validationError(() => reportFor({ fee: 10.5 })).violations[0].field).toBe('monthly_fee_cents');
    });
  });

  describe('measurement', () => {
    it('does not count a minute as down while one vantage point is down and another up', () => {
      // Given Zurich sees a 30-minute outage that Frankfurt does not
      const month = '2026-11';
      const zurich = paintedMonth(month, [down('2026-11-14T10:00:00Z', 30)]);
      const frankfurt = paintedMonth(month);
      // When reported from both vantage points, minute by minute or merged first
      const report = computeSlaReport({ provider: 'rke2', month, vantagePoints: [zurich, frankfurt], exclusions: [], monthlyFeeCents: 100 });
      // Then there is no downtime, but Zurich alone would have made 30 minutes of it
      expect(report).toMatchObject({ downMinutes: 0, countedDowntimeMinutes: 0, availabilityPercent: 100 });
      expect(computeSlaReport({ provider: 'rke2', month, vantagePoints: [zurich], exclusions: [], monthlyFeeCents: 100 }).countedDowntimeMinutes).toBe(30);
    });

    it('shows unknown minutes as reduced coverage, never as downtime', () => {
      // Given the monitor was down for 3 days of an otherwise healthy month
      const report = reportFor({ paints: [unknown('2026-11-10T00:00:00Z', 3 * 1440)] });
      // Then availability is untouched and coverage shows the gap
      expect(report).toMatchObject({ unknownMinutes: 4_320, measuredMinutes: 38_880, availabilityPercent: 100, coveragePercent: 90, breached: false });
      // and the budget is the contractual one for the month
      expect(report.errorBudget.totalMinutes).toBe(216);
    });

    it('does not join two blips across a minute the monitor missed', () => {
      const report = reportFor({ paints: [down('2026-11-10T10:00:00Z', 7), unknown('2026-11-10T10:03:00Z', 1)] });
      expect(report).toMatchObject({ downMinutes: 6, unknownMinutes: 1, countedDowntimeMinutes: 0 });
      expect(report.downtimePeriods.map((p) => [p.minutes, p.counted])).toEqual([
        [3, false],
        [3, false],
      ]);
    });
  });

  describe('per-day breakdown', () => {
    it('splits a downtime period across midnight and still counts both halves', () => {
      // Given a 6-minute outage from 23:57 on 14 November to 00:03 on the 15th
      const report = reportFor({ paints: [down('2026-11-14T23:57:00Z', 6)] });
      // Then it is one counted period, and each day carries its 3 minutes although each part is under 5
      expect(report.downtimePeriods).toEqual([{ start: '2026-11-14T23:57:00.000Z', end: '2026-11-15T00:03:00.000Z', minutes: 6, counted: true }]);
      expect(report.days[13]).toMatchObject({ date: '2026-11-14', downMinutes: 3, countedDowntimeMinutes: 3, upMinutes: 1_437, availabilityPercent: 99.7916 });
      expect(report.days[14]).toMatchObject({ date: '2026-11-15', downMinutes: 3, countedDowntimeMinutes: 3, upMinutes: 1_437 });
      expect(report.days[12]).toMatchObject({ date: '2026-11-13', downMinutes: 0, availabilityPercent: 100 });
    });

    it('lists one row per UTC day of the month, adding up to the month', () => {
      const report = reportFor({ month: '2028-02', paints: [down('2028-02-29T23:00:00Z', 60), unknown('2028-02-01T00:00:00Z', 30)] });
      expect(report.days.map((d) => d.date)).toEqual(Array.from({ length: 29 }, (_, i) => `2028-02-${String(i + 1).padStart(2, '0')}`));
      expect(report.days[28]).toMatchObject({ countedDowntimeMinutes: 60 });
      expect(report.days[0]).toMatchObject({ unknownMinutes: 30 });
    });
  });

  describe('the month in progress', () => {
    const now = at('2026-11-10T12:00:30Z');
    const observedUntilNow: StateInterval[] = [{ state: 'up', start: at('2026-11-01T00:00:00Z'), end: now }];

    it('treats minutes after now as future, not unknown, and keeps the whole month\'s budget', () => {
      const report = reportFor({ intervals: observedUntilNow, now });
      // 9.5 days have ended; the minute in progress (12:00) is still future
      expect(report).toMatchObject({ final: false, upMinutes: 13_680, unknownMinutes: 0, futureMinutes: 29_520, coveragePercent: 100, availabilityPercent: 100 });
      expect(report.errorBudget).toEqual({ totalMinutes: 216, usedMinutes: 0, remainingMinutes: 216 });
      expect(report.days[9]).toMatchObject({ upMinutes: 720, futureMinutes: 720 });
      expect(report.days[29]).toMatchObject({ upMinutes: 0, unknownMinutes: 0, futureMinutes: 1_440 });
    });

    it('calls it breached only once the month\'s target is already lost', () => {
      // Given 10 counted minutes by noon on the 1st: 206 minutes of the month's budget left
      const early = at('2026-11-01T12:00:00Z');
      const intervals = paintedMonth('2026-11', [down('2026-11-01T01:00:00Z', 10)]);
      const soFar = reportFor({ intervals, now: early });
      expect(soFar).toMatchObject({ availabilityPercent: 99.9768, breached: false, credit: { percent: 0 } });
      expect(soFar.errorBudget).toMatchObject({ totalMinutes: 216, remainingMinutes: 206 });

      // Given 217 counted minutes by the 2nd: nothing that happens later can save the month
      const lost = reportFor({ intervals: paintedMonth('2026-11', [down('2026-11-01T01:00:00Z', 217)]), now: at('2026-11-02T00:00:00Z') });
      expect(lost).toMatchObject({ breached: true, credit: { percent: 10, availabilityPercent: 99.4976 } });
    });

    it('treats a month that has not started as all future, and a past month as final', () => {
      expect(reportFor({ now: at('2026-10-31T23:59:59Z') })).toMatchObject({ final: false, futureMinutes: 43_200, measuredMinutes: 0, availabilityPercent: 100 });
      expect(reportFor({ now: at('2026-12-01T00:00:00Z') })).toMatchObject({ final: true, futureMinutes: 0, upMinutes: 43_200 });
    });

    it('excludes maintenance already scheduled for later in the month rather than counting it as future', () => {
      const report = reportFor({ intervals: observedUntilNow, now, exclusions: [excluded('2026-11-20T02:00:00Z', '2026-11-20T04:00:00Z')] });
      expect(report).toMatchObject({ excludedMinutes: 120, futureMinutes: 29_400 });
      expect(report.errorBudget.totalMinutes).toBe(216); // 0.5% of the month, whatever is excluded
      expect(report.exclusions[0]).toMatchObject({ minutes: 120, downMinutes: 0 });
    });
  });

  describe('exclusions', () => {
    it('does not hold downtime inside scheduled maintenance against the SLA, and lists it for audit', () => {
      // Given a 30-minute outage entirely inside an announced maintenance
      const report = reportFor({
        paints: [down('2026-11-14T10:00:00Z', 30)],
        exclusions: [excluded('2026-11-14T09:59:50Z', '2026-11-14T10:30:10Z', 'scheduled_maintenance', 'mw-42')],
      });
      // Then none of it is downtime and the exclusion says which minutes it took and why
      expect(report).toMatchObject({ downMinutes: 0, countedDowntimeMinutes: 0, excludedMinutes: 30, availabilityPercent: 100, downtimePeriods: [] });
      expect(report.exclusions).toEqual([
        {
          start: '2026-11-14T09:59:50.000Z',
          end: '2026-11-14T10:30:10.000Z',
          reason: 'scheduled_maintenance',
          reference: 'mw-42',
          excludedFrom: '2026-11-14T10:00:00.000Z',
          excludedUntil: '2026-11-14T10:30:00.000Z',
          minutes: 30,
          downMinutes: 30,
        },
      ]);
      expect(report.days[13]).toMatchObject({ excludedMinutes: 30, upMinutes: 1_410 });
    });

    it('judges the parts of an outage outside an exclusion on their own', () => {
      // 12 minutes down, the middle 4 customer-initiated: two 4-minute blips remain
      const split = reportFor({ paints: [down('2026-11-14T10:00:00Z', 12)], exclusions: [excluded('2026-11-14T10:04:00Z', '2026-11-14T10:08:00Z', 'customer_initiated', 'op-1')] });
      expect(split).toMatchObject({ downMinutes: 8, countedDowntimeMinutes: 0, excludedMinutes: 4 });
      // 14 minutes down: 4 before and 6 after; the 6 count
      const longer = reportFor({ paints: [down('2026-11-14T10:00:00Z', 14)], exclusions: [excluded('2026-11-14T10:04:00Z', '2026-11-14T10:08:00Z', 'customer_initiated')] });
      expect(longer).toMatchObject({ downMinutes: 10, countedDowntimeMinutes: 6 });
      expect(longer.exclusions[0].reference).toBeNull();
    });

    it('never tips a month at its target into breach by excluding uptime', () => {
      // Given 216 counted minutes (exactly 99.5%), when an hour of uptime is excluded,
      // then the month is still at 99.5%: an exclusion can only take downtime away
      const report = reportFor({ paints: [down('2026-11-02T00:00:00Z', 216)], exclusions: [excluded('2026-11-20T00:00:00Z', '2026-11-20T01:00:00Z')] });
      expect(report).toMatchObject({ availabilityPercent: 99.5, breached: false, excludedMinutes: 60 });
      expect(report.errorBudget.totalMinutes).toBe(216);
    });

    it('counts overlapping exclusions once, lists each, and leaves out those outside the month', () => {
      const report = reportFor({
        exclusions: [
          excluded('2026-11-14T11:00:00Z', '2026-11-14T13:00:00Z', 'organization_suspended', 'org-9'),
          excluded('2026-11-14T10:00:00Z', '2026-11-14T12:00:00Z', 'scheduled_maintenance', 'mw-1'),
          excluded('2026-10-14T10:00:00Z', '2026-10-14T12:00:00Z'),
          excluded('2026-10-31T23:00:00Z', '2026-11-01T01:00:00Z'),
        ],
      });
      expect(report.excludedMinutes).toBe(180 + 60);
      expect(report.exclusions.map((x) => [x.reference, x.minutes, x.excludedFrom])).toEqual([
        [null, 60, '2026-11-01T00:00:00.000Z'],
        ['mw-1', 120, '2026-11-14T10:00:00.000Z'],
        ['org-9', 120, '2026-11-14T11:00:00.000Z'],
      ]);
    });

    it('refuses an exclusion with an unknown reason, naming it', () => {
      const bad = { ...excluded('2026-11-14T10:00:00Z', '2026-11-14T11:00:00Z'), reason: 'bad_luck' as Exclusion['reason'] };
      expect(validationError(() => reportFor({ exclusions: [bad] })).violations[0].field).toBe('exclusions.0.reason');
    });
  });

  describe('inputs and output', () => {
    it('refuses an invalid month, provider or now, naming the field', () => {
      expect(validationError(() => reportFor({ month: '2026-13' })).violations[0].field).toBe('month');
      expect(validationError(() => reportFor({ provider: 'eks' as Provider })).violations[0].field).toBe('provider');
      expect(validationError(() => reportFor({ now: new Date(Number.NaN) })).violations[0].field).toBe('now');
    });

    it('records the policy version and follows the policy it is given', () => {
      expect(reportFor().slaVersion).toBe('2026-11');
      const stricter: SlaPolicy = { ...currentSlaPolicy(), version: 'test-1', targetPercent: { rke2: 99.9, gke: 99.99 }, minDowntimePeriodMinutes: 1 };
      const report = reportFor({ policy: stricter, paints: [down('2026-11-14T10:00:00Z', 44)] });
      expect(report).toMatchObject({ slaVersion: 'test-1', targetPercent: 99.9, countedDowntimeMinutes: 44, breached: true });
      expect(report.errorBudget.totalMinutes).toBe(43.2);
    });

    it('is plain JSON that survives a round trip unchanged', () => {
      const report = reportFor({ paints: [down('2026-11-14T10:00:00Z', 30)], exclusions: [excluded('2026-11-20T00:00:00Z', '2026-11-20T01:00:00Z', 'scheduled_maintenance', 'mw-1')] });
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    });
  });

  describe('properties', () => {
    /** A random month with a random timeline, exclusions and (sometimes) a `now` inside it. */
    const scenarioArb = monthArb.chain((month) => {
      const range = monthRange(month);
      return fc.record({
        month: fc.constant(month),
        provider: fc.constantFrom<Provider>('rke2', 'gke'),
        codes: minuteCodesArb(range.minutes),
        exclusions: exclusionsArb(range),
        extraExclusion: exclusionArb(range.start.getTime(), range.minutes * MS_PER_MINUTE),
        nowMinute: fc.option(fc.integer({ min: -10, max: range.minutes + 10 }), { nil: undefined }),
      });
    });
    type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;
    const run = (s: Scenario, exclusions = s.exclusions) => {
      const range = monthRange(s.month);
      return computeSlaReport({
        provider: s.provider,
        month: s.month,
        intervals: intervalsFromMinutes(s.codes, range.start),
        exclusions,
        monthlyFeeCents: 50_000,
        now: s.nowMinute === undefined ? undefined : new Date(range.start.getTime() + s.nowMinute * MS_PER_MINUTE),
      });
    };

    it('keeps availability, coverage and credit within their bounds', () => {
      fc.assert(
        fc.property(scenarioArb, (s) => {
          const report = run(s);
          for (const percent of [report.availabilityPercent, report.coveragePercent, report.credit.availabilityPercent, ...report.days.map((d) => d.availabilityPercent)]) {
            expect(percent).toBeGreaterThanOrEqual(0);
            expect(percent).toBeLessThanOrEqual(100);
          }
          expect([0, 10, 25, 100]).toContain(report.credit.percent);
          expect(report.credit.amountCents).toBeGreaterThanOrEqual(0);
          expect(report.credit.amountCents).toBeLessThanOrEqual(50_000);
        }),
        { numRuns: 60 },
      );
    });

    it('accounts for every minute of the month exactly once, by day and in total', () => {
      fc.assert(
        fc.property(scenarioArb, (s) => {
          const r = run(s);
          expect(r.upMinutes + r.downMinutes + r.unknownMinutes + r.excludedMinutes + r.futureMinutes).toBe(r.minutesInMonth);
          expect(r.days).toHaveLength(r.minutesInMonth / 1440);
          expect(r.measuredMinutes).toBe(r.upMinutes + r.downMinutes);
          expect(r.countedDowntimeMinutes).toBeLessThanOrEqual(r.downMinutes);
          for (const key of ['upMinutes', 'downMinutes', 'countedDowntimeMinutes', 'excludedMinutes', 'unknownMinutes', 'futureMinutes'] as const) {
            expect(r.days.reduce((n, d) => n + d[key], 0)).toBe(r[key]);
          }
          expect(r.downtimePeriods.reduce((n, p) => n + p.minutes, 0)).toBe(r.downMinutes);
          expect(r.downtimePeriods.filter((p) => p.counted).reduce((n, p) => n + p.minutes, 0)).toBe(r.countedDowntimeMinutes);
          expect(r.final).toBe(r.futureMinutes === 0 && (s.nowMinute === undefined || s.nowMinute >= r.minutesInMonth));
        }),
        { numRuns: 60 },
      );
    });

    it('agrees with a minute-by-minute reference for a finished month', () => {
      fc.assert(
        fc.property(scenarioArb, (s) => {
          const report = run({ ...s, nowMinute: undefined });
          const range = monthRange(s.month);
          const mask = excludedMinuteMask(s.exclusions, range);
          let up = 0;
          let downCount = 0;
          let counted = 0;
          let unknownCount = 0;
          let runLength = 0;
          const closeRun = () => {
            if (runLength >= 5) counted += runLength;
            runLength = 0;
          };
          for (let i = 0; i < range.minutes; i++) {
            const code = mask[i] ? -1 : s.codes[i];
            if (code === MINUTE_DOWN) {
              downCount++;
              runLength++;
              continue;
            }
            closeRun();
            if (code === MINUTE_UP) up++;
            if (code === MINUTE_UNKNOWN) unknownCount++;
          }
          closeRun();
          // The whole month is the base (see computeSlaReport).
          const eligible = range.minutes;
          const allowedPerMillion = s.provider === 'rke2' ? 5_000 : 500;
          expect(report).toMatchObject({ upMinutes: up, downMinutes: downCount, countedDowntimeMinutes: counted, unknownMinutes: unknownCount });
          // rounded down to four decimals
          expect(report.availabilityPercent).toBe(eligible === 0 ? 100 : Math.floor(((eligible - counted) * 1_000_000) / eligible) / 10_000);
          expect(report.availabilityPercent).toBeLessThanOrEqual(eligible === 0 ? 100 : 100 * (1 - counted / eligible));
          // a finished month breaches exactly when availability is below target
          expect(report.breached).toBe(counted * 1_000_000 > allowedPerMillion * eligible);
          const tier = !report.breached ? 0 : (eligible - counted) * 100 >= 99 * eligible ? 10 : (eligible - counted) * 100 >= 95 * eligible ? 25 : 100;
          expect(report.credit.percent).toBe(tier);
        }),
        { numRuns: 60 },
      );
    });

    it('never counts more downtime for an added exclusion', () => {
      fc.assert(
        fc.property(scenarioArb, (s) => {
          const before = run(s);
          const after = run(s, [...s.exclusions, s.extraExclusion]);
          expect(after.countedDowntimeMinutes).toBeLessThanOrEqual(before.countedDowntimeMinutes);
          expect(after.downMinutes).toBeLessThanOrEqual(before.downMinutes);
          expect(after.excludedMinutes).toBeGreaterThanOrEqual(before.excludedMinutes);
        }),
        { numRuns: 60 },
      );
    });

    it('never lowers availability by excluding minutes of counted downtime', () => {
      fc.assert(
        fc.property(scenarioArb, fc.nat(), fc.nat(), fc.nat(), (s, pick, skip, take) => {
          // Given a finished month with counted downtime
          const finished = { ...s, nowMinute: undefined };
          const before = run(finished);
          const counted = before.downtimePeriods.filter((p) => p.counted);
          fc.pre(counted.length > 0);
          // When an exclusion covers part of one counted period
          const period = counted[pick % counted.length];
          const from = Date.parse(period.start) + (skip % period.minutes) * MS_PER_MINUTE;
          const until = Math.min(Date.parse(period.end), from + (1 + (take % period.minutes)) * MS_PER_MINUTE);
          const after = run(finished, [...s.exclusions, excluded(new Date(from).toISOString(), new Date(until).toISOString(), 'customer_initiated')]);
          // Then availability does not fall and the credit does not grow
          expect(after.countedDowntimeMinutes).toBeLessThanOrEqual(before.countedDowntimeMinutes - (until - from) / MS_PER_MINUTE);
          expect(after.availabilityPercent).toBeGreaterThanOrEqual(before.availabilityPercent);
          expect(after.credit.percent).toBeLessThanOrEqual(before.credit.percent);
        }),
        { numRuns: 60 },
      );
    });

    it('never lowers availability for an added excluded period', () => {
      fc.assert(
        fc.property(scenarioArb, (s) => {
          const before = run(s);
          const after = run(s, [...s.exclusions, s.extraExclusion]);
          expect(after.availabilityPercent).toBeGreaterThanOrEqual(before.availabilityPercent);
          expect(after.credit.percent).toBeLessThanOrEqual(before.credit.percent);
        }),
        { numRuns: 100 },
      );
    });
  });

  it('computes 1,000 reports of random months in one pass each (O(minutes), typed arrays)', () => {
    // Not a timed assertion: a sanity run that would take minutes if the report were quadratic.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let breaches = 0;
    for (let n = 0; n < 1_000; n++) {
      const month = `${2026 + Math.floor(random() * 10)}-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}`;
      const range = monthRange(month);
      const intervals: StateInterval[] = [];
      let t = range.start.getTime();
      while (t < range.end.getTime()) {
        const length = Math.floor(random() * 3 * 24 * 3_600_000);
        const state = random() < 0.8 ? 'up' : random() < 0.7 ? 'down' : 'unknown';
        intervals.push({ state, start: new Date(t), end: new Date(Math.min(t + (state === 'up' ? length : length / 50), range.end.getTime())) });
        t = intervals[intervals.length - 1].end.getTime();
      }
      const exclusions = [excluded(new Date(range.start.getTime() + random() * 20 * 86_400_000).toISOString(), new Date(range.start.getTime() + 21 * 86_400_000).toISOString())];
      const report = computeSlaReport({ provider: random() < 0.5 ? 'rke2' : 'gke', month, intervals, exclusions, monthlyFeeCents: 9_900 });
      if (report.breached) breaches++;
    }
    expect(breaches).toBeGreaterThan(0);
  });
});
