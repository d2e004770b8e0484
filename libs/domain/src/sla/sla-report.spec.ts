import fc from 'fast-check';
import { Provider } from '../catalogue/provider';
import { excludedMinuteMask, Exclusion, MINUTE_DOWN, MINUTE_UNKNOWN, MINUTE_UP, monthRange, StateInterval } from './availability';
import { MS_PER_MINUTE } from './minute-range';
import { currentSlaPolicy, SlaPolicy } from './sla-policy';
import { computeSlaReport, MonthlySlaReport, reportTimeline } from './sla-report';
import { at, exclusionArb, exclusionsArb, intervalsFromMinutes, minuteCodesArb, monthArb, Paint, paintedMonth } from './test/timelines';
import { validationError } from '../test/thrown';

interface Given {
  provider?: Provider;
  month?: string;
  paints?: Paint[];
  intervals?: StateInterval[];
  exclusions?: Exclusion[];
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

/**
 * Counted downtime by a second, independent reading of docs/sla.md: consecutive down minutes
 * (in order) belong to one period when only unknown minutes, at most 1,440 of them, lie between;
 * a period of at least 5 minutes from its first to its last down minute counts its down minutes
 * that no exclusion takes out.
 */
function countedByReference(codes: Uint8Array, excluded: Uint8Array): number {
  const downs: number[] = [];
  codes.forEach((c, i) => c === MINUTE_DOWN && downs.push(i));
  let counted = 0;
  let first = 0;
  for (let k = 0; k < downs.length; k++) {
    const next = downs[k + 1];
    const joined = next !== undefined && next - downs[k] - 1 <= 1_440 && codes.subarray(downs[k] + 1, next).every((c) => c === MINUTE_UNKNOWN);
    if (joined) continue;
    if (downs[k] - downs[first] + 1 >= 5) for (let j = first; j <= k; j++) if (!excluded[downs[j]]) counted++;
    first = k + 1;
  }
  return counted;
}

describe('computeSlaReport', () => {
  describe('error budget (docs/sla.md, "Error budget")', () => {
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
      expect(at216).toMatchObject({ countedDowntimeMinutes: 216, availabilityPercent: 99.5, breached: false, credit: { percent: 0 } });
      expect(at216.errorBudget).toEqual({ totalMinutes: 216, usedMinutes: 216, remainingMinutes: 0 });

      const at217 = reportFor({ paints: [down('2026-11-14T10:00:00Z', 217)] });
      expect(at217).toMatchObject({ countedDowntimeMinutes: 217, availabilityPercent: 99.4976, breached: true, credit: { percent: 10 } });
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
      [216, 99.5, 0],
      [217, 99.4976, 10], // 99.49768% shows rounded down
      [432, 99.0, 10], // exactly 99.0%: still the 10% tier
      [433, 98.9976, 25], // just below 99.0%
      [2_160, 95.0, 25], // exactly 95.0%: still the 25% tier
      [2_161, 94.9976, 100], // just below 95.0%: all of the charges
    ])('credits %i counted minutes of 43,200 (%d%%) with %i%% of the charges', (minutes, availability, percent) => {
      const report = reportFor({ paints: [down('2026-11-02T00:00:00Z', minutes)] });
      expect(report.availabilityPercent).toBe(availability);
      // The amount is billing's: the percentage of the cluster's charges (docs/billing.md).
      expect(report.credit).toEqual({ percent, availabilityPercent: availability });
    });
  });

  describe('measurement', () => {
    it('does not count a minute as down while one vantage point is down and another up', () => {
      // Given Zurich sees a 30-minute outage that Frankfurt does not
      const month = '2026-11';
      const zurich = paintedMonth(month, [down('2026-11-14T10:00:00Z', 30)]);
      const frankfurt = paintedMonth(month);
      // When reported from both vantage points, minute by minute or merged first
      const report = computeSlaReport({ provider: 'rke2', month, vantagePoints: [zurich, frankfurt], exclusions: [] });
      // Then there is no downtime, but Zurich alone would have made 30 minutes of it
      expect(report).toMatchObject({ downMinutes: 0, countedDowntimeMinutes: 0, availabilityPercent: 100 });
      expect(computeSlaReport({ provider: 'rke2', month, vantagePoints: [zurich], exclusions: [] }).countedDowntimeMinutes).toBe(30);
    });

    it('shows unknown minutes as reduced coverage, never as downtime', () => {
      // Given the monitor was down for 3 days of an otherwise healthy month
      const report = reportFor({ paints: [unknown('2026-11-10T00:00:00Z', 3 * 1440)] });
      // Then availability is untouched and coverage shows the gap
      expect(report).toMatchObject({ unknownMinutes: 4_320, measuredMinutes: 38_880, availabilityPercent: 100, coveragePercent: 90, breached: false });
      // and 90% coverage is below the 99.5% target: the report says it cannot be trusted
      expect(report).toMatchObject({ minCoveragePercent: 99.5, trustworthy: false });
      // and the budget is the contractual one for the month
      expect(report.errorBudget.totalMinutes).toBe(216);
    });

    it('does not let a minute the monitor missed split an outage (3 down, 1 unknown, 3 down)', () => {
      const report = reportFor({ paints: [down('2026-11-10T10:00:00Z', 7), unknown('2026-11-10T10:03:00Z', 1)] });
      // Before: two 3-minute blips, 0 counted. Now one 7-minute period whose 6 down minutes count.
      expect(report).toMatchObject({ downMinutes: 6, unknownMinutes: 1, countedDowntimeMinutes: 6 });
      expect(report.downtimePeriods.map((p) => [p.minutes, p.downMinutes, p.unknownMinutes, p.counted])).toEqual([[7, 6, 1, true]]);
    });

    it('counts a 7-minute outage with a 150 s monitor gap inside it', () => {
      // Down 10:00-10:07, the monitor away 10:02:00-10:04:30: minutes 10:02 and 10:03 are unknown,
      // 10:04 was seen down for its 30 s observed
      const intervals: StateInterval[] = [
        { state: 'up', start: at('2026-11-01T00:00:00Z'), end: at('2026-11-10T10:00:00Z') },
        { state: 'down', start: at('2026-11-10T10:00:00Z'), end: at('2026-11-10T10:02:00Z') },
        { state: 'down', start: at('2026-11-10T10:04:30Z'), end: at('2026-11-10T10:07:00Z') },
        { state: 'up', start: at('2026-11-10T10:07:00Z'), end: at('2026-12-01T00:00:00Z') },
      ];
      const report = reportFor({ intervals });
      expect(report).toMatchObject({ downMinutes: 5, unknownMinutes: 2, countedDowntimeMinutes: 5 });
    });

    it('flags a report as untrustworthy when the unknown minutes could hide more than the error budget', () => {
      // A 5-hour outage with no data at all: availability cannot show it, so the flag must
      const hidden = reportFor({ paints: [unknown('2026-11-10T10:00:00Z', 300)] });
      expect(hidden).toMatchObject({ availabilityPercent: 100, trustworthy: false, minCoveragePercent: 99.5 });
      // 216 unknown minutes of an RKE2 month is exactly the budget: still conclusive
      expect(reportFor({ paints: [unknown('2026-11-10T10:00:00Z', 216)] }).trustworthy).toBe(true);
      expect(reportFor({ paints: [unknown('2026-11-10T10:00:00Z', 217)] }).trustworthy).toBe(false);
      // GKE's 99.95% tolerates 21 unknown minutes in 30 days, not 22
      expect(reportFor({ provider: 'gke', paints: [unknown('2026-11-10T10:00:00Z', 21)] }).trustworthy).toBe(true);
      expect(reportFor({ provider: 'gke', paints: [unknown('2026-11-10T10:00:00Z', 22)] }).trustworthy).toBe(false);
    });
  });

  describe('outages across a month boundary', () => {
    /** Up from 1 November to 1 January except for the painted stretches, reported with the adjacent month in view. */
    const acrossMonths = (paints: Paint[]) => {
      const timeline = reportTimeline('2026-11');
      const joined = { start: monthRange('2026-11').start, end: monthRange('2026-12').end };
      const codes = new Uint8Array((joined.end.getTime() - joined.start.getTime()) / MS_PER_MINUTE).fill(MINUTE_UP);
      for (const p of paints) {
        const from = (at(p.from).getTime() - joined.start.getTime()) / MS_PER_MINUTE;
        codes.fill(p.state === 'down' ? MINUTE_DOWN : MINUTE_UNKNOWN, from, from + p.minutes);
      }
      const intervals = intervalsFromMinutes(codes, joined.start);
      const report = (month: string) =>
        computeSlaReport({
          provider: 'rke2',
          month,
          intervals,
          exclusions: [],
          timeline: { start: timeline.start, end: reportTimeline(month).end },
        });
      return { november: report('2026-11'), december: report('2026-12') };
    };

    it('counts a 5-minute outage from 23:57 on 30 November to 00:02 on 1 December: 3 minutes in November, 2 in December', () => {
      // Before: 3 + 2, neither part reached 5 minutes, and the outage counted in neither month
      const { november, december } = acrossMonths([down('2026-11-30T23:57:00Z', 5)]);
      expect(november.countedDowntimeMinutes).toBe(3);
      expect(december.countedDowntimeMinutes).toBe(2);
      // Both months list the whole period, each with its own share
      for (const [report, share] of [
        [november, 3],
        [december, 2],
      ] as const) {
        expect(report.downtimePeriods).toEqual([
          expect.objectContaining({
            start: '2026-11-30T23:57:00.000Z',
            end: '2026-12-01T00:02:00.000Z',
            minutes: 5,
            counted: true,
            countedMinutesInMonth: share,
          }),
        ]);
      }
    });

    it('charges December its 4 minutes of a 14-minute outage from 23:50', () => {
      const { november, december } = acrossMonths([down('2026-11-30T23:50:00Z', 14)]);
      expect([november.countedDowntimeMinutes, december.countedDowntimeMinutes]).toEqual([10, 4]);
    });

    it('joins an outage across the boundary through unknown minutes', () => {
      // 3 down before midnight, the monitor away for 2 minutes across it, 2 down after
      const { november, december } = acrossMonths([
        down('2026-11-30T23:56:00Z', 3),
        { from: '2026-11-30T23:59:00Z', minutes: 2, state: 'unknown' },
        down('2026-12-01T00:01:00Z', 2),
      ]);
      expect([november.countedDowntimeMinutes, december.countedDowntimeMinutes]).toEqual([3, 2]);
    });

    it('still does not count a 4-minute blip across the boundary', () => {
      const { november, december } = acrossMonths([down('2026-11-30T23:58:00Z', 4)]);
      expect([november.countedDowntimeMinutes, december.countedDowntimeMinutes]).toEqual([0, 0]);
      expect(november.downtimePeriods).toEqual([expect.objectContaining({ minutes: 4, counted: false })]);
    });

    it('refuses a timeline that does not contain the month', () => {
      expect(() => computeSlaReport({ provider: 'rke2', month: '2026-11', intervals: [], exclusions: [], timeline: reportTimeline('2026-12') })).toThrow(
        RangeError,
      );
    });
  });

  describe('per-day breakdown', () => {
    it('splits a downtime period across midnight and still counts both halves', () => {
      // Given a 6-minute outage from 23:57 on 14 November to 00:03 on the 15th
      const report = reportFor({ paints: [down('2026-11-14T23:57:00Z', 6)] });
      // Then it is one counted period, and each day carries its 3 minutes although each part is under 5
      expect(report.downtimePeriods).toEqual([
        {
          start: '2026-11-14T23:57:00.000Z',
          end: '2026-11-15T00:03:00.000Z',
          minutes: 6,
          downMinutes: 6,
          unknownMinutes: 0,
          counted: true,
          countedMinutesInMonth: 6,
          excludedMinutesInMonth: 0,
        },
      ]);
      expect(report.days[13]).toMatchObject({ date: '2026-11-14', downMinutes: 3, countedDowntimeMinutes: 3, upMinutes: 1_437, availabilityPercent: 99.7916 });
      expect(report.days[14]).toMatchObject({ date: '2026-11-15', downMinutes: 3, countedDowntimeMinutes: 3, upMinutes: 1_437 });
      expect(report.days[12]).toMatchObject({ date: '2026-11-13', downMinutes: 0, availabilityPercent: 100 });
    });

    it("uses the month's definition of availability for a day: the day's minutes, not only the measured ones", () => {
      // Given a day with 12 unknown hours and a 30-minute counted outage
      const report = reportFor({ paints: [unknown('2026-11-14T00:00:00Z', 720), down('2026-11-14T13:00:00Z', 30)] });
      // Then the day reads 1 - 30/1440 (before: 1 - 30/720 = 95.8333%), the same formula as the month's 1 - 30/43200
      expect(report.days[13].availabilityPercent).toBe(97.9166);
      expect(report.availabilityPercent).toBe(99.9305);
      expect(report.rules.availability_percent).toBe('docs/sla.md#availability');
      expect(report.rules.days).toBe(report.rules.availability_percent);
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

    it("treats minutes after now as future, not unknown, and keeps the whole month's budget", () => {
      const report = reportFor({ intervals: observedUntilNow, now });
      // 9.5 days have ended; the minute in progress (12:00) is still future
      expect(report).toMatchObject({
        final: false,
        upMinutes: 13_680,
        unknownMinutes: 0,
        futureMinutes: 29_520,
        coveragePercent: 100,
        availabilityPercent: 100,
      });
      expect(report.errorBudget).toEqual({ totalMinutes: 216, usedMinutes: 0, remainingMinutes: 216 });
      expect(report.days[9]).toMatchObject({ upMinutes: 720, futureMinutes: 720 });
      expect(report.days[29]).toMatchObject({ upMinutes: 0, unknownMinutes: 0, futureMinutes: 1_440 });
    });

    it("calls it breached only once the month's target is already lost", () => {
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
      expect(reportFor({ now: at('2026-10-31T23:59:59Z') })).toMatchObject({
        final: false,
        futureMinutes: 43_200,
        measuredMinutes: 0,
        availabilityPercent: 100,
      });
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
      expect(report).toMatchObject({ downMinutes: 0, countedDowntimeMinutes: 0, excludedMinutes: 30, availabilityPercent: 100 });
      expect(report.downtimePeriods).toEqual([expect.objectContaining({ minutes: 30, counted: true, countedMinutesInMonth: 0, excludedMinutesInMonth: 30 })]);
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

    it("takes an exclusion's own minutes out of an outage without splitting it", () => {
      // 8 minutes down with one excluded minute at minute 5: before, two blips (4 + 3) and 0 counted
      const one = reportFor({
        paints: [down('2026-11-14T10:00:00Z', 8)],
        exclusions: [excluded('2026-11-14T10:04:00Z', '2026-11-14T10:05:00Z', 'customer_initiated', 'op-1')],
      });
      expect(one).toMatchObject({ downMinutes: 7, countedDowntimeMinutes: 7, excludedMinutes: 1 });
      expect(one.downtimePeriods).toEqual([expect.objectContaining({ minutes: 8, counted: true, countedMinutesInMonth: 7, excludedMinutesInMonth: 1 })]);
      // 12 minutes down, the middle 4 customer-initiated: the 8 outside it count
      const split = reportFor({
        paints: [down('2026-11-14T10:00:00Z', 12)],
        exclusions: [excluded('2026-11-14T10:04:00Z', '2026-11-14T10:08:00Z', 'customer_initiated', 'op-1')],
      });
      expect(split).toMatchObject({ downMinutes: 8, countedDowntimeMinutes: 8, excludedMinutes: 4 });
      // and an exclusion over uptime never joins two blips into a period
      const blips = reportFor({
        paints: [down('2026-11-14T10:00:00Z', 3), down('2026-11-14T10:04:00Z', 3)],
        exclusions: [excluded('2026-11-14T10:03:00Z', '2026-11-14T10:04:00Z')],
      });
      expect(blips.countedDowntimeMinutes).toBe(0);
      // 14 minutes down: 4 before and 6 after; the 6 count
      const longer = reportFor({
        paints: [down('2026-11-14T10:00:00Z', 14)],
        exclusions: [excluded('2026-11-14T10:04:00Z', '2026-11-14T10:08:00Z', 'customer_initiated')],
      });
      expect(longer).toMatchObject({ downMinutes: 10, countedDowntimeMinutes: 10 });
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
      const report = reportFor({
        paints: [down('2026-11-14T10:00:00Z', 30)],
        exclusions: [excluded('2026-11-20T00:00:00Z', '2026-11-20T01:00:00Z', 'scheduled_maintenance', 'mw-1')],
      });
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
        now: s.nowMinute === undefined ? undefined : new Date(range.start.getTime() + s.nowMinute * MS_PER_MINUTE),
      });
    };

    it('keeps availability, coverage and credit within their bounds', () => {
      fc.assert(
        fc.property(scenarioArb, (s) => {
          const report = run(s);
          for (const percent of [
            report.availabilityPercent,
            report.coveragePercent,
            report.credit.availabilityPercent,
            ...report.days.map((d) => d.availabilityPercent),
          ]) {
            expect(percent).toBeGreaterThanOrEqual(0);
            expect(percent).toBeLessThanOrEqual(100);
          }
          expect([0, 10, 25, 100]).toContain(report.credit.percent);
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
          expect(r.downtimePeriods.reduce((n, p) => n + p.countedMinutesInMonth, 0)).toBe(r.countedDowntimeMinutes);
          for (const p of r.downtimePeriods) {
            expect(p.minutes).toBe(p.downMinutes + p.unknownMinutes);
            if (!p.counted) expect(p.countedMinutesInMonth).toBe(0);
          }
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
          let unknownCount = 0;
          for (let i = 0; i < range.minutes; i++) {
            const code = mask[i] ? -1 : s.codes[i];
            if (code === MINUTE_DOWN) downCount++;
            if (code === MINUTE_UP) up++;
            if (code === MINUTE_UNKNOWN) unknownCount++;
          }
          const counted = countedByReference(s.codes, mask);
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

    it('never counts less downtime when a down minute is added', () => {
      fc.assert(
        fc.property(scenarioArb, fc.nat(), (s, pick) => {
          const finished = { ...s, nowMinute: undefined };
          const before = run(finished);
          // When one minute that was up or unknown is seen down
          const candidates = [...s.codes.keys()].filter((i) => s.codes[i] !== MINUTE_DOWN);
          fc.pre(candidates.length > 0);
          const codes = s.codes.slice();
          codes[candidates[pick % candidates.length]] = MINUTE_DOWN;
          const after = run({ ...finished, codes });
          expect(after.countedDowntimeMinutes).toBeGreaterThanOrEqual(before.countedDowntimeMinutes);
        }),
        { numRuns: 60 },
      );
    });

    it('never counts less downtime when an unknown minute between two down minutes becomes down', () => {
      fc.assert(
        fc.property(scenarioArb, fc.nat(), (s, pick) => {
          const finished = { ...s, nowMinute: undefined };
          const before = run(finished);
          const between: number[] = [];
          let lastDown = -1;
          s.codes.forEach((c, i) => {
            if (c === MINUTE_DOWN) lastDown = i;
            else if (c === MINUTE_UNKNOWN && lastDown >= 0 && s.codes.indexOf(MINUTE_DOWN, i) > i) between.push(i);
          });
          fc.pre(between.length > 0);
          const codes = s.codes.slice();
          codes[between[pick % between.length]] = MINUTE_DOWN;
          const after = run({ ...finished, codes });
          expect(after.countedDowntimeMinutes).toBeGreaterThanOrEqual(before.countedDowntimeMinutes);
        }),
        { numRuns: 60 },
      );
    });

    it('charges two adjacent months together exactly what the joined timeline counts', () => {
      const twoMonthsArb = monthArb.chain((first) => {
        const a = monthRange(first);
        const second = new Date(a.end).toISOString().slice(0, 7);
        const joined = { start: a.start, end: monthRange(second).end };
        const minutes = (joined.end.getTime() - joined.start.getTime()) / MS_PER_MINUTE;
        // Outages near the boundary are what matters: shift the timeline's runs to end around it
        return fc.record({
          first: fc.constant(first),
          second: fc.constant(second),
          joined: fc.constant(joined),
          codes: minuteCodesArb(minutes),
          shift: fc.integer({ min: 0, max: a.minutes }),
          exclusions: exclusionsArb(joined),
        });
      });
      fc.assert(
        fc.property(twoMonthsArb, ({ first, second, joined, codes: raw, shift, exclusions }) => {
          const codes = new Uint8Array(raw.length).fill(MINUTE_UP);
          codes.set(raw.subarray(0, raw.length - shift), shift);
          const intervals = intervalsFromMinutes(codes, joined.start);
          const report = (month: string) => computeSlaReport({ provider: 'rke2', month, intervals, exclusions, timeline: joined });
          const expected = countedByReference(codes, excludedMinuteMask(exclusions, joined));
          expect(report(first).countedDowntimeMinutes + report(second).countedDowntimeMinutes).toBe(expected);
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
          const range = monthRange(s.month);
          const mask = excludedMinuteMask(s.exclusions, range);
          let newlyExcludedDown = 0;
          for (let i = (from - range.start.getTime()) / MS_PER_MINUTE; i < (until - range.start.getTime()) / MS_PER_MINUTE; i++) {
            if (s.codes[i] === MINUTE_DOWN && !mask[i]) newlyExcludedDown++;
          }
          expect(after.countedDowntimeMinutes).toBe(before.countedDowntimeMinutes - newlyExcludedDown);
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
      const exclusions = [
        excluded(new Date(range.start.getTime() + random() * 20 * 86_400_000).toISOString(), new Date(range.start.getTime() + 21 * 86_400_000).toISOString()),
      ];
      const report = computeSlaReport({ provider: random() < 0.5 ? 'rke2' : 'gke', month, intervals, exclusions });
      if (report.breached) breaches++;
    }
    expect(breaches).toBeGreaterThan(0);
  });
});
