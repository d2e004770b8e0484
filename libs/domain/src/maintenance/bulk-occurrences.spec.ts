import fc from 'fast-check';
import { BulkOccurrences } from './bulk-occurrences';
import { type MaintenanceWindowSpec, occurrences, type WindowDay } from './maintenance-window';

const ZONES = ['Europe/Zurich', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Chatham', 'UTC', 'Europe/London'];
const DAYS: WindowDay[] = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

describe('BulkOccurrences', () => {
  it('answers exactly what occurrences answers, across DST changes (including 30-minute shifts), gaps and repeated hours', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 23 }),
        fc.constantFrom(0, 15, 30, 45),
        fc.integer({ min: 60, max: 1440 }),
        // starts spread over two years, so every zone's spring and autumn changes are crossed
        fc.integer({ min: 0, max: 730 * 24 }),
        fc.integer({ min: 1, max: 40 }),
        (zone, days, hour, minute, durationMinutes, startHour, spanDays) => {
          const spec: MaintenanceWindowSpec = {
            timeZone: zone,
            days,
            startTime: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
            durationMinutes,
          };
          const from = new Date(Date.UTC(2026, 0, 1) + startHour * 3_600_000);
          const to = new Date(from.getTime() + spanDays * 86_400_000);
          const bulk = new BulkOccurrences(from, to);
          const reference = occurrences(spec, from, to);
          expect(bulk.of(spec)).toEqual(reference);
          // the first one from a later moment, taking every other occurrence
          const later = new Date(from.getTime() + (to.getTime() - from.getTime()) / 3);
          let n = 0;
          const everyOther = () => n++ % 2 === 1;
          let m = 0;
          expect(bulk.first(spec, later, everyOther)).toEqual(reference.filter((o) => o.startsAt >= later).find(() => m++ % 2 === 1) ?? null);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('places a start that does not exist on the spring-forward night later by the gap, and a repeated one at its first', () => {
    const from = new Date('2026-03-28T00:00:00Z');
    const to = new Date('2026-03-30T00:00:00Z');
    // Zurich skips 02:00-03:00 on 2026-03-29: 02:30 becomes 03:30 CEST (01:30 UTC)
    expect(new BulkOccurrences(from, to).of({ timeZone: 'Europe/Zurich', days: ['SU'], startTime: '02:30', durationMinutes: 240 })[0]!.startsAt).toEqual(
      new Date('2026-03-29T01:30:00Z'),
    );
    // 02:30 happens twice on 2026-10-25: the first is 00:30 UTC (CEST)
    const autumn = new BulkOccurrences(new Date('2026-10-24T00:00:00Z'), new Date('2026-10-26T00:00:00Z'));
    expect(autumn.of({ timeZone: 'Europe/Zurich', days: ['SU'], startTime: '02:30', durationMinutes: 240 })[0]!.startsAt).toEqual(
      new Date('2026-10-25T00:30:00Z'),
    );
  });
});
