import fc from 'fast-check';
import { ValidationError } from '../errors/domain-error';
import { caught } from '../test/thrown';
import { iso, zurich } from '../test/windows';
import { assertEnoughAvailability, nextWindow, normaliseTimeZone, occurrences, validateWindow } from './maintenance-window';

describe('time zones', () => {
  it('keeps IANA names as IANA spells them', () => {
    expect(normaliseTimeZone('Europe/Zurich')).toBe('Europe/Zurich');
    expect(normaliseTimeZone('America/Argentina/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
    expect(normaliseTimeZone('UTC')).toBe('UTC');
  });

  it.each(['CET', 'EST', 'europe/zurich', 'Europe/Zürich', 'Mars/Olympus', '', '+01:00'])('refuses %j, naming the field', (zone) => {
    const error = caught(() => normaliseTimeZone(zone));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations[0]!.field).toBe('maintenance_window.time_zone');
  });
});

describe('occurrences in Europe/Zurich across DST changes', () => {
  it('keeps 01:00 local across the spring change (00:00Z before, 23:00Z after) and 4 h of elapsed time', () => {
    // given a Sunday 01:00 window of 4 h; on 2026-03-29 clocks go from 02:00 to 03:00
    const spec = zurich(['SU'], '01:00', 240);
    const [before, during, after] = occurrences(spec, new Date('2026-03-21T00:00:00Z'), new Date('2026-04-06T00:00:00Z'));
    // then 01:00 CET is 00:00Z, 01:00 CEST is 23:00Z the day before; the duration is elapsed time,
    // so the occurrence of the change night ends at 06:00 CEST local
    expect(iso(before!)).toEqual(['2026-03-22T00:00:00.000Z', '2026-03-22T04:00:00.000Z']);
    expect(iso(during!)).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T04:00:00.000Z']);
    expect(iso(after!)).toEqual(['2026-04-04T23:00:00.000Z', '2026-04-05T03:00:00.000Z']);
  });

  it('moves a start that does not exist (02:30 on the spring change) forward by the gap', () => {
    const [o] = occurrences(zurich(['SU'], '02:30', 240), new Date('2026-03-28T12:00:00Z'), new Date('2026-03-30T00:00:00Z'));
    // 02:30 does not exist on 2026-03-29; RFC 5545 / Temporal 'compatible' gives 03:30 CEST = 01:30Z
    expect(iso(o!)).toEqual(['2026-03-29T01:30:00.000Z', '2026-03-29T05:30:00.000Z']);
  });

  it('takes the first of a start that exists twice (02:30 on the autumn change)', () => {
    const [o] = occurrences(zurich(['SU'], '02:30', 240), new Date('2026-10-24T12:00:00Z'), new Date('2026-10-26T00:00:00Z'));
    // 02:30 happens twice on 2026-10-25; the first is 02:30 CEST = 00:30Z
    expect(iso(o!)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T04:30:00.000Z']);
  });

  it('runs a window across midnight into the next day, and finds it while it runs', () => {
    // given Saturday 22:00 for 6 h (until Sunday 04:00)
    const spec = zurich(['SA'], '22:00', 360);
    // when asked on Sunday 01:00 local
    const current = nextWindow(spec, new Date('2026-12-06T00:00:00Z'));
    // then the Saturday occurrence is the one running
    expect(iso(current!)).toEqual(['2026-12-05T21:00:00.000Z', '2026-12-06T03:00:00.000Z']);
  });

  it('yields only the days listed, in order, each starting at the local time', () => {
    fc.assert(
      fc.property(
        fc.subarray(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const, { minLength: 1 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 364 }),
        (days, hour, offset) => {
          const from = new Date(Date.UTC(2026, 0, 1) + offset * 86_400_000);
          const start = `${String(hour).padStart(2, '0')}:00`;
          const list = occurrences(zurich(days, start, 240), from, new Date(from.getTime() + 14 * 86_400_000));
          const names = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
          for (const o of list) {
            const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Zurich', weekday: 'short', hour: '2-digit', hourCycle: 'h23' }).formatToParts(
              o.startsAt,
            );
            const weekday = names[['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(local.find((p) => p.type === 'weekday')!.value)]!;
            const localHour = Number(local.find((p) => p.type === 'hour')!.value);
            expect(days).toContain(weekday as (typeof days)[number]);
            // a start in the spring gap moves forward by one hour
            expect([hour, hour + 1]).toContain(localHour);
          }
          expect(list.map((o) => o.startsAt.getTime())).toEqual([...list.map((o) => o.startsAt.getTime())].sort((a, b) => a - b));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('the 48 h in any 32 days rule', () => {
  const from = new Date('2026-12-04T00:00:00Z');

  it('refuses a Sunday-only 4 h window, naming the rule', () => {
    const error = caught(() => assertEnoughAvailability(zurich(['SU'], '01:00', 240), from));
    expect(error.type).toBe('maintenance-window-too-short');
    expect(error.extensions).toMatchObject({ rule: 'at least 48 h of availability in any 32 days, in windows of at least 4 h' });
  });

  it('does not count occurrences shorter than 4 h', () => {
    // every day for 3 h is 96 h a month, but none counts
    expect(caught(() => assertEnoughAvailability(zurich(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], '01:00', 180), from)).type).toBe(
      'maintenance-window-too-short',
    );
  });

  it('accepts two 6 h windows a week, and a daily 4 h window, across a year of DST changes', () => {
    expect(() => assertEnoughAvailability(zurich(['SA', 'SU'], '22:00', 360), from)).not.toThrow();
    expect(() => assertEnoughAvailability(zurich(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], '02:00', 240), from)).not.toThrow();
  });

  it('holds exactly at the boundary: two 6 h windows a week give 48 h in the worst 32 days, one minute less does not', () => {
    // the worst 32-day span holds 8 occurrences; checked over a year including both DST changes
    expect(() => assertEnoughAvailability(zurich(['SA', 'SU'], '00:00', 360), new Date('2027-02-20T00:00:00Z'))).not.toThrow();
    expect(caught(() => assertEnoughAvailability(zurich(['SA', 'SU'], '00:00', 359), new Date('2027-02-20T00:00:00Z'))).type).toBe(
      'maintenance-window-too-short',
    );
  });
});

describe('validateWindow', () => {
  it('refuses a duration under an hour and a malformed start time', () => {
    const error = caught(() => validateWindow(zurich(['MO'], '25:00', 30))) as ValidationError;
    expect(error.violations.map((v) => v.field)).toEqual(['maintenance_window.start_time', 'maintenance_window.duration_minutes']);
  });
});
