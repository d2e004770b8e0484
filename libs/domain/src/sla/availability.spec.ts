import fc from 'fast-check';
import {
  AvailabilityState,
  combineVantageMinuteStates,
  downtimePeriods,
  MAX_UNKNOWN_GAP_MINUTES,
  excludedMinuteMask,
  Exclusion,
  exclusionMinuteSpan,
  MINUTE_DOWN,
  MINUTE_UNKNOWN,
  MINUTE_UP,
  mergeVantagePoints,
  minuteStates,
  minuteStatesAcrossVantagePoints,
  monthRange,
  StateInterval,
} from './availability';
import { at, intervalsFromMinutes } from './test/timelines';
import { validationError } from '../test/thrown';

const interval = (state: AvailabilityState, start: string, end: string): StateInterval => ({ state, start: at(start), end: at(end) });
/** Ten minutes from 10:00 UTC, the range most examples below classify. */
const tenMinutes = { start: at('2026-11-14T10:00:00Z'), end: at('2026-11-14T10:10:00Z') };
const codes = (s: Uint8Array) => Array.from(s, (c) => ['?', 'u', 'D'][c]).join('');

describe('monthRange', () => {
  it.each([
    ['2026-11', 30],
    ['2026-12', 31],
    ['2026-02', 28],
    ['2028-02', 29], // leap year
    ['2100-02', 28], // divisible by 100, not by 400: not a leap year
    ['2000-02', 29], // divisible by 400: a leap year
  ])('gives %s %i days, in UTC minutes', (month, days) => {
    const range = monthRange(month);
    expect(range.minutes).toBe(days * 1440);
    expect(range.start.toISOString()).toBe(`${month}-01T00:00:00.000Z`);
    expect(range.end.getTime() - range.start.getTime()).toBe(days * 86_400_000);
  });

  it('ends where the next month starts, across the year boundary', () => {
    expect(monthRange('2026-12').end.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('gives every month 28 to 31 whole days, matching the calendar', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1970, max: 9999 }), fc.integer({ min: 1, max: 12 }), (year, month) => {
        const range = monthRange(`${year}-${String(month).padStart(2, '0')}`);
        const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
        expect(range.minutes).toBe(days * 1440);
        expect(days).toBeGreaterThanOrEqual(28);
        expect(days).toBeLessThanOrEqual(31);
        expect(range.end.getUTCDate()).toBe(1);
      }),
    );
  });

  it.each(['2026-13', '2026-00', '2026-1', '26-01', '2026-01-01', '', ' 2026-01'])('refuses %j on field month', (month) => {
    expect(validationError(() => monthRange(month)).violations).toEqual([{ field: 'month', message: expect.stringContaining('YYYY-MM') }]);
  });
});

describe('minuteStates', () => {
  it('calls a minute down from 30 s of 60 down, and up at 29.999 s', () => {
    // Given minute 10:00 down for its first 30 s and minute 10:01 down for 29.999 s, up otherwise
    const intervals = [
      interval('down', '2026-11-14T10:00:00Z', '2026-11-14T10:00:30Z'),
      interval('up', '2026-11-14T10:00:30Z', '2026-11-14T10:01:00Z'),
      interval('down', '2026-11-14T10:01:00Z', '2026-11-14T10:01:29.999Z'),
      interval('up', '2026-11-14T10:01:29.999Z', '2026-11-14T10:10:00Z'),
    ];
    // When classified / Then only the first minute is down
    expect(codes(minuteStates(intervals, tenMinutes))).toBe('Duuuuuuuuu');
  });

  it('calls minutes no interval touches unknown, and treats unknown intervals as no data', () => {
    const intervals = [
      interval('up', '2026-11-14T10:00:00Z', '2026-11-14T10:03:00Z'),
      interval('unknown', '2026-11-14T10:03:00Z', '2026-11-14T10:05:00Z'),
      interval('down', '2026-11-14T10:07:00Z', '2026-11-14T10:08:00Z'),
    ];
    expect(codes(minuteStates(intervals, tenMinutes))).toBe('uuu????D??');
  });

  it('judges a partly observed minute on the part observed, as "half of its probes" does', () => {
    // Given the monitor only saw the last 20 s of 10:00 (all failures) and the last 20 s of 10:01 (10 s each)
    const intervals = [
      interval('down', '2026-11-14T10:00:40Z', '2026-11-14T10:01:00Z'),
      interval('up', '2026-11-14T10:01:40Z', '2026-11-14T10:01:50Z'),
      interval('down', '2026-11-14T10:01:50Z', '2026-11-14T10:02:00Z'),
      interval('up', '2026-11-14T10:02:40Z', '2026-11-14T10:02:51Z'),
      interval('down', '2026-11-14T10:02:51Z', '2026-11-14T10:03:00Z'),
    ];
    // Then every probe failed in 10:00, half did in 10:01, fewer than half in 10:02
    expect(codes(minuteStates(intervals, tenMinutes)).slice(0, 3)).toBe('DDu');
  });

  it('resolves overlapping intervals moment by moment, up winning over down', () => {
    const intervals = [interval('down', '2026-11-14T10:00:00Z', '2026-11-14T10:04:00Z'), interval('up', '2026-11-14T10:01:00Z', '2026-11-14T10:02:00Z')];
    expect(codes(minuteStates(intervals, tenMinutes))).toBe('DuDD??????');
  });

  it('clips intervals to the range', () => {
    const intervals = [interval('down', '2026-11-14T09:00:00Z', '2026-11-14T10:02:00Z'), interval('up', '2026-11-14T10:02:00Z', '2026-11-14T12:00:00Z')];
    expect(codes(minuteStates(intervals, tenMinutes))).toBe('DDuuuuuuuu');
  });

  it('refuses an interval that ends before it starts, naming it', () => {
    const error = validationError(() => minuteStates([interval('up', '2026-11-14T10:05:00Z', '2026-11-14T10:04:00Z')], tenMinutes));
    expect(error.violations).toEqual([{ field: 'intervals.0.end', message: expect.stringContaining('before start') }]);
    expect(
      validationError(() =>
        minuteStates([{ state: 'sideways' as AvailabilityState, start: at('2026-11-14T10:00:00Z'), end: at('2026-11-14T10:01:00Z') }], tenMinutes),
      ).violations[0].field,
    ).toBe('intervals.0.state');
  });

  it('refuses a range that is not whole minutes, as a programming error', () => {
    expect(() => minuteStates([], { start: at('2026-11-14T10:00:01Z'), end: at('2026-11-14T10:10:00Z') })).toThrow(RangeError);
  });

  it('agrees with a second-by-second reference on any intervals, overlapping or not', () => {
    // Given intervals on whole seconds over a 30-minute range, when classified,
    // then each minute matches: up if any interval says up at a second, down if only down ones do;
    // a minute is down when its down seconds are at least its up seconds, unknown with neither.
    const start = at('2026-11-14T10:00:00Z').getTime();
    const seconds = 30 * 60;
    const arbInterval = fc
      .record({
        from: fc.integer({ min: -60, max: seconds + 60 }),
        length: fc.integer({ min: 0, max: 600 }),
        state: fc.constantFrom<AvailabilityState>('up', 'down', 'down', 'unknown'),
      })
      .map(({ from, length, state }) => ({ state, start: new Date(start + from * 1000), end: new Date(start + (from + length) * 1000) }));
    fc.assert(
      fc.property(fc.array(arbInterval, { maxLength: 25 }), (intervals) => {
        const expected = new Uint8Array(30);
        for (let m = 0; m < 30; m++) {
          let up = 0;
          let down = 0;
          for (let s = m * 60; s < m * 60 + 60; s++) {
            const t = start + s * 1000;
            const covering = intervals.filter((x) => x.start.getTime() <= t && t < x.end.getTime()).map((x) => x.state);
            if (covering.includes('up')) up++;
            else if (covering.includes('down')) down++;
          }
          expected[m] = up === 0 && down === 0 ? MINUTE_UNKNOWN : down >= up ? MINUTE_DOWN : MINUTE_UP;
        }
        expect(codes(minuteStates(intervals, { start: new Date(start), end: new Date(start + seconds * 1000) }))).toBe(codes(expected));
      }),
    );
  });

  it('classifies a whole month in one pass (44,640 minutes)', () => {
    const range = monthRange('2026-12');
    const states = minuteStates([interval('up', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z')], range);
    expect(states).toHaveLength(44_640);
    expect(states.every((s) => s === MINUTE_UP)).toBe(true);
  });
});

describe('mergeVantagePoints', () => {
  it('does not call the cluster down while one vantage point is down and another up', () => {
    // Given Zurich sees the API server down while Frankfurt sees it up
    const zurich = [interval('down', '2026-11-14T10:00:00Z', '2026-11-14T10:10:00Z')];
    const frankfurt = [interval('up', '2026-11-14T10:00:00Z', '2026-11-14T10:10:00Z')];
    // When merged / Then it is up throughout
    expect(mergeVantagePoints([zurich, frankfurt])).toEqual([interval('up', '2026-11-14T10:00:00Z', '2026-11-14T10:10:00Z')]);
  });

  it('calls it down where every vantage point with data says down, and leaves gaps where none has data', () => {
    const zurich = [interval('down', '2026-11-14T10:00:00Z', '2026-11-14T10:06:00Z')];
    const frankfurt = [
      interval('up', '2026-11-14T10:00:00Z', '2026-11-14T10:02:00Z'),
      interval('down', '2026-11-14T10:02:00Z', '2026-11-14T10:04:00Z'),
      // no data from 10:04: Zurich's word stands
    ];
    expect(mergeVantagePoints([zurich, frankfurt, []])).toEqual([
      interval('up', '2026-11-14T10:00:00Z', '2026-11-14T10:02:00Z'),
      interval('down', '2026-11-14T10:02:00Z', '2026-11-14T10:06:00Z'),
    ]);
    expect(mergeVantagePoints([])).toEqual([]);
  });

  it('returns sorted, disjoint, coalesced intervals whose state at every moment follows the rule', () => {
    const start = at('2026-11-14T10:00:00Z').getTime();
    const arbInterval = fc
      .record({
        from: fc.integer({ min: 0, max: 3600 }),
        length: fc.integer({ min: 0, max: 900 }),
        state: fc.constantFrom<AvailabilityState>('up', 'down', 'unknown'),
      })
      .map(({ from, length, state }) => ({ state, start: new Date(start + from * 1000), end: new Date(start + (from + length) * 1000) }));
    const stateAt = (intervals: StateInterval[], t: number) => {
      const covering = intervals.filter((x) => x.start.getTime() <= t && t < x.end.getTime()).map((x) => x.state);
      return covering.includes('up') ? 'up' : covering.includes('down') ? 'down' : 'unknown';
    };
    fc.assert(
      fc.property(fc.array(fc.array(arbInterval, { maxLength: 6 }), { maxLength: 4 }), (perVantage) => {
        const merged = mergeVantagePoints(perVantage);
        merged.forEach((x, i) => {
          expect(x.end.getTime()).toBeGreaterThan(x.start.getTime());
          if (i > 0) {
            expect(x.start.getTime()).toBeGreaterThanOrEqual(merged[i - 1].end.getTime());
            if (x.start.getTime() === merged[i - 1].end.getTime()) expect(x.state).not.toBe(merged[i - 1].state);
          }
        });
        const wrong: string[] = [];
        for (let s = 0; s <= 4500; s += 7) {
          const t = start + s * 1000;
          const views = perVantage.map((v) => stateAt(v, t)).filter((v) => v !== 'unknown');
          const expected = views.includes('up') ? 'up' : views.length > 0 ? 'down' : 'unknown';
          if (stateAt(merged, t) !== expected) wrong.push(`+${s}s: ${stateAt(merged, t)}, expected ${expected}`);
        }
        expect(wrong).toEqual([]);
      }),
    );
  });

  it('names the vantage point of an invalid interval', () => {
    const bad = interval('down', '2026-11-14T10:05:00Z', '2026-11-14T10:00:00Z');
    expect(validationError(() => mergeVantagePoints([[], [bad]])).violations[0].field).toBe('vantage_points.1.0.end');
  });
});

describe('minuteStatesAcrossVantagePoints', () => {
  it('calls a minute down when each vantage point saw most of it down, even at different seconds', () => {
    // Given Zurich down for 10:00:00-10:00:40 and Frankfurt for 10:00:20-10:01:00 (up otherwise)
    const zurich = [interval('down', '2026-11-14T10:00:00Z', '2026-11-14T10:00:40Z'), interval('up', '2026-11-14T10:00:40Z', '2026-11-14T10:10:00Z')];
    const frankfurt = [
      interval('up', '2026-11-14T10:00:00Z', '2026-11-14T10:00:20Z'),
      interval('down', '2026-11-14T10:00:20Z', '2026-11-14T10:01:00Z'),
      interval('up', '2026-11-14T10:01:00Z', '2026-11-14T10:10:00Z'),
    ];
    // Then per docs/sla.md, "Minute states" ("at least half of its probes failed at every vantage point") 10:00 is down,
    // while merging moment by moment first sees only 20 s of shared downtime and calls it up
    expect(codes(minuteStatesAcrossVantagePoints([zurich, frankfurt], tenMinutes))).toBe('Duuuuuuuuu');
    expect(codes(minuteStates(mergeVantagePoints([zurich, frankfurt]), tenMinutes))).toBe('uuuuuuuuuu');
  });

  it('does not call a minute down while one vantage point with data saw it up', () => {
    const zurich = [interval('down', '2026-11-14T10:00:00Z', '2026-11-14T10:10:00Z')];
    const frankfurt = [interval('up', '2026-11-14T10:00:00Z', '2026-11-14T10:05:00Z')];
    expect(codes(minuteStatesAcrossVantagePoints([zurich, frankfurt], tenMinutes))).toBe('uuuuuDDDDD');
    expect(codes(minuteStatesAcrossVantagePoints([], tenMinutes))).toBe('??????????');
  });

  it('combines per-minute states: down only when all with data say down', () => {
    const a = Uint8Array.from([MINUTE_DOWN, MINUTE_DOWN, MINUTE_DOWN, MINUTE_UNKNOWN, MINUTE_UNKNOWN, MINUTE_UP]);
    const b = Uint8Array.from([MINUTE_DOWN, MINUTE_UP, MINUTE_UNKNOWN, MINUTE_UNKNOWN, MINUTE_DOWN, MINUTE_DOWN]);
    expect(codes(combineVantageMinuteStates([a, b]))).toBe('DuD?Du');
    expect(() => combineVantageMinuteStates([a, b.subarray(1)])).toThrow(RangeError);
  });
});

describe('downtimePeriods', () => {
  const range = { start: at('2026-11-14T10:00:00Z'), end: at('2026-11-14T10:20:00Z') };
  const states = (pattern: string) => Uint8Array.from(pattern, (c) => (c === 'D' ? MINUTE_DOWN : c === 'u' ? MINUTE_UP : MINUTE_UNKNOWN));

  it('lists runs of down minutes, counting only those of at least the minimum', () => {
    // Given a 4-minute blip and a 5-minute outage
    const periods = downtimePeriods(states('DDDDuuuDDDDDuuuuuuuD'), range, 5);
    // Then the blip is listed but not counted, the outage counted, and so is nothing else
    expect(periods).toEqual([
      { start: at('2026-11-14T10:00:00Z'), end: at('2026-11-14T10:04:00Z'), minutes: 4, downMinutes: 4, unknownMinutes: 0, counted: false },
      { start: at('2026-11-14T10:07:00Z'), end: at('2026-11-14T10:12:00Z'), minutes: 5, downMinutes: 5, unknownMinutes: 0, counted: true },
      { start: at('2026-11-14T10:19:00Z'), end: at('2026-11-14T10:20:00Z'), minutes: 1, downMinutes: 1, unknownMinutes: 0, counted: false },
    ]);
  });

  it('does not split an outage at a minute the monitor missed: down, unknown, down is one period', () => {
    // Given 3 minutes down, 1 unknown (the monitor restarting), 3 down
    const [period, ...others] = downtimePeriods(states('DDD?DDDuuuuuuuuuuuuu'), range, 5);
    // Then it is one 7-minute period with 6 down minutes, long enough to count
    expect(others).toEqual([]);
    expect(period).toMatchObject({ minutes: 7, downMinutes: 6, unknownMinutes: 1, counted: true });
  });

  it('ends a period at its last down minute when unknown minutes are followed by up, or the gap is too long', () => {
    expect(downtimePeriods(states('DDD??uuuuuuuuuuuuuuu'), range, 5).map((p) => [p.minutes, p.unknownMinutes])).toEqual([[3, 0]]);
    expect(downtimePeriods(states('DDD???DDDuuuuuuuuuuu'), range, 5, 2).map((p) => p.minutes)).toEqual([3, 3]);
    expect(downtimePeriods(states('DDD??DDDuuuuuuuuuuuu'), range, 5, 2).map((p) => p.minutes)).toEqual([8]);
    expect(downtimePeriods(states('DDD???DDDuuuuuuuuuuu'), range, 5, MAX_UNKNOWN_GAP_MINUTES).map((p) => p.minutes)).toEqual([9]);
  });

  it('accounts for every down minute exactly once', () => {
    const arbStates = fc.array(fc.constantFrom(MINUTE_UP, MINUTE_DOWN, MINUTE_UNKNOWN), { minLength: 20, maxLength: 20 });
    fc.assert(
      fc.property(arbStates, fc.integer({ min: 1, max: 8 }), (list, min) => {
        const periods = downtimePeriods(Uint8Array.from(list), range, min);
        expect(periods.reduce((n, p) => n + p.downMinutes, 0)).toBe(list.filter((s) => s === MINUTE_DOWN).length);
        for (const p of periods) {
          expect(p.counted).toBe(p.minutes >= min);
          expect(p.minutes).toBe(p.downMinutes + p.unknownMinutes);
          // every period starts and ends with a down minute and holds no up minute
          const first = (p.start.getTime() - range.start.getTime()) / 60_000;
          const last = (p.end.getTime() - range.start.getTime()) / 60_000 - 1;
          expect([list[first], list[last]]).toEqual([MINUTE_DOWN, MINUTE_DOWN]);
          expect(list.slice(first, last + 1)).not.toContain(MINUTE_UP);
        }
        periods.forEach((p, i) => i > 0 && expect(p.start.getTime()).toBeGreaterThan(periods[i - 1].end.getTime()));
      }),
    );
  });

  it('refuses states that do not fit the range, and a minimum below one minute', () => {
    expect(() => downtimePeriods(states('DDD'), range, 5)).toThrow(RangeError);
    expect(() => downtimePeriods(states('DDDDuuuDDDDDuuuuuuuD'), range, 0)).toThrow(RangeError);
  });
});

describe('exclusions', () => {
  const maintenance = (start: string, end: string): Exclusion => ({ start: at(start), end: at(end), reason: 'scheduled_maintenance', reference: 'mw-1' });

  it('takes out the minutes an exclusion covers for at least half', () => {
    // 10:02:30-10:05:29 covers half of 10:02, all of 10:03 and 10:04, and 29 s of 10:05
    expect(exclusionMinuteSpan(maintenance('2026-11-14T10:02:30Z', '2026-11-14T10:05:29Z'), tenMinutes)).toEqual({ from: 2, until: 5 });
    // 10:02:31-10:05:30: 29 s of 10:02, half of 10:05
    expect(exclusionMinuteSpan(maintenance('2026-11-14T10:02:31Z', '2026-11-14T10:05:30Z'), tenMinutes)).toEqual({ from: 3, until: 6 });
    // 10:02:10-10:02:50: 40 s of one minute
    expect(exclusionMinuteSpan(maintenance('2026-11-14T10:02:10Z', '2026-11-14T10:02:50Z'), tenMinutes)).toEqual({ from: 2, until: 3 });
    // 10:02:40-10:03:10: 20 s of each of two minutes takes out neither
    expect(exclusionMinuteSpan(maintenance('2026-11-14T10:02:40Z', '2026-11-14T10:03:10Z'), tenMinutes)).toEqual({ from: 0, until: 0 });
    // outside the range
    expect(exclusionMinuteSpan(maintenance('2026-11-14T11:00:00Z', '2026-11-14T12:00:00Z'), tenMinutes)).toEqual({ from: 0, until: 0 });
  });

  it('masks the union of all exclusions', () => {
    const mask = excludedMinuteMask(
      [
        maintenance('2026-11-14T09:00:00Z', '2026-11-14T10:02:00Z'),
        { ...maintenance('2026-11-14T10:05:00Z', '2026-11-14T10:07:00Z'), reason: 'customer_initiated' },
      ],
      tenMinutes,
    );
    expect(Array.from(mask).join('')).toBe('1100011000');
  });

  it('refuses an unknown reason and a period that ends before it starts, naming each', () => {
    const error = validationError(() =>
      excludedMinuteMask(
        [
          maintenance('2026-11-14T10:00:00Z', '2026-11-14T10:01:00Z'),
          { ...maintenance('2026-11-14T10:00:00Z', '2026-11-14T10:01:00Z'), reason: 'cosmic_rays' as Exclusion['reason'] },
          maintenance('2026-11-14T10:05:00Z', '2026-11-14T10:01:00Z'),
        ],
        tenMinutes,
      ),
    );
    expect(error.violations.map((v) => v.field)).toEqual(['exclusions.1.reason', 'exclusions.2.end']);
  });

  it('agrees with a half-minute reference for exclusions recorded to the second', () => {
    const start = tenMinutes.start.getTime();
    fc.assert(
      fc.property(fc.integer({ min: -120, max: 700 }), fc.integer({ min: 0, max: 400 }), (from, length) => {
        const x = { start: new Date(start + from * 1000), end: new Date(start + (from + length) * 1000) };
        const expected = Array.from({ length: 10 }, (_, m) => {
          const covered = Math.min(from + length, m * 60 + 60) - Math.max(from, m * 60);
          return covered >= 30 ? '1' : '0';
        }).join('');
        const { from: a, until: b } = exclusionMinuteSpan(x, tenMinutes);
        expect(Array.from({ length: 10 }, (_, m) => (m >= a && m < b ? '1' : '0')).join('')).toBe(expected);
      }),
    );
  });
});

describe('intervals from minute codes (test helper)', () => {
  it('round-trips through minuteStates', () => {
    const range = monthRange('2026-02');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(MINUTE_UP, MINUTE_DOWN, MINUTE_UNKNOWN), { minLength: 100, maxLength: 100 }), (list) => {
        const states = new Uint8Array(range.minutes);
        states.set(list, 5000);
        expect(Buffer.from(minuteStates(intervalsFromMinutes(states, range.start), range)).equals(Buffer.from(states))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
