/**
 * Window occurrences for many clusters at once (the fleet scheduler plans thousands per pass).
 * `occurrences` (maintenance-window.ts) asks Temporal to place every local start in its zone,
 * which costs about a tenth of a millisecond each; here Temporal is asked once per zone for the
 * zone's offset transitions over the span, and each local start is then placed by those offsets
 * with the same rule (RFC 5545 / Temporal `compatible`: a start inside a spring-forward gap moves
 * forward by the gap, one that exists twice takes the first). The zone rules still come from
 * Temporal's time zone database; only the lookup is cached. `bulk-occurrences.spec.ts` holds this
 * to `occurrences` on random windows across DST changes.
 */
import { Temporal } from '@js-temporal/polyfill';
import type { MaintenanceWindowSpec, WindowDay, WindowOccurrence } from './maintenance-window';

const DAY_MS = 86_400_000;
const NS_PER_MS = 1_000_000;
/** getUTCDay() order. */
const WEEKDAYS: readonly WindowDay[] = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

/** A zone's UTC offsets over a span: `offsets[i]` holds from `starts[i]` (epoch ms) on. */
class ZoneOffsets {
  readonly starts: number[] = [];
  readonly offsets: number[] = [];
  /** The distinct offsets, and the largest: every candidate instant of a local time uses one of them. */
  private readonly distinct: number[];
  private readonly largest: number;

  constructor(zone: string, from: number, to: number) {
    let zdt = Temporal.Instant.fromEpochMilliseconds(from).toZonedDateTimeISO(zone);
    this.starts.push(Number.NEGATIVE_INFINITY);
    this.offsets.push(zdt.offsetNanoseconds / NS_PER_MS);
    for (;;) {
      const next = zdt.getTimeZoneTransition('next');
      if (!next || next.epochMilliseconds > to) break;
      this.starts.push(next.epochMilliseconds);
      this.offsets.push(next.offsetNanoseconds / NS_PER_MS);
      zdt = next;
    }
    this.distinct = [...new Set(this.offsets)];
    this.largest = Math.max(...this.offsets);
  }

  offsetAt(epochMs: number): number {
    let i = this.offsets.length - 1;
    while (i > 0 && this.starts[i]! > epochMs) i--;
    return this.offsets[i]!;
  }

  /** The instant of a local wall-clock time (given as if it were UTC), `compatible` disambiguation. */
  instantOf(localMs: number): number {
    // The earliest valid candidate: a time that exists twice takes its first instant.
    let earliest = Number.POSITIVE_INFINITY;
    for (const offset of this.distinct) {
      const candidate = localMs - offset;
      if (candidate < earliest && this.offsetAt(candidate) === offset) earliest = candidate;
    }
    if (earliest !== Number.POSITIVE_INFINITY) return earliest;
    // In a gap: the offset before the transition, which lands the given length of the gap later.
    return localMs - this.offsetAt(localMs - this.largest - 1);
  }
}

/**
 * Occurrences of many windows over one span [from, to), each window's list computed once (many
 * clusters share a window) and each zone's offsets once.
 */
export class BulkOccurrences {
  private readonly zones = new Map<string, ZoneOffsets>();
  private readonly byWindow = new Map<string, WindowOccurrence[]>();

  constructor(
    private readonly from: Date,
    private readonly to: Date,
  ) {}

  /** Every occurrence of `spec` overlapping [from, to), in time order (as `occurrences` answers). */
  of(spec: MaintenanceWindowSpec): WindowOccurrence[] {
    const key = `${spec.timeZone}|${spec.days.join(',')}|${spec.startTime}|${spec.durationMinutes}`;
    let found = this.byWindow.get(key);
    if (!found) {
      found = this.compute(spec);
      this.byWindow.set(key, found);
    }
    return found;
  }

  private zone(zone: string): ZoneOffsets {
    let offsets = this.zones.get(zone);
    if (!offsets) {
      offsets = new ZoneOffsets(zone, this.from.getTime() - 3 * DAY_MS, this.to.getTime() + 3 * DAY_MS);
      this.zones.set(zone, offsets);
    }
    return offsets;
  }

  /**
   * The first occurrence of `spec` that starts at or after `notBefore` (within the span) and that
   * `accept` takes, computed day by day up to it: planning needs only that one, not the whole span.
   * The same as the first such element of {@link of}.
   */
  first(spec: MaintenanceWindowSpec, notBefore: Date, accept: (o: WindowOccurrence) => boolean): WindowOccurrence | null {
    const zone = this.zone(spec.timeZone);
    const [hour, minute] = spec.startTime.split(':').map(Number) as [number, number];
    const durationMs = spec.durationMinutes * 60_000;
    const days = new Set(spec.days);
    const from = Math.max(this.from.getTime(), notBefore.getTime());
    const to = this.to.getTime();
    const firstLocal = from + zone.offsetAt(from);
    const lastLocal = to + zone.offsetAt(to);
    for (let day = Math.floor(firstLocal / DAY_MS) * DAY_MS - DAY_MS; day <= lastLocal; day += DAY_MS) {
      if (!days.has(WEEKDAYS[(((Math.floor(day / DAY_MS) + 4) % 7) + 7) % 7]!)) continue;
      const startsAt = zone.instantOf(day + hour * 3_600_000 + minute * 60_000);
      if (startsAt < from || startsAt >= to) continue;
      const o = { startsAt: new Date(startsAt), endsAt: new Date(startsAt + durationMs) };
      if (accept(o)) return o;
    }
    return null;
  }

  private compute(spec: MaintenanceWindowSpec): WindowOccurrence[] {
    const zone = this.zone(spec.timeZone);
    const [hour, minute] = spec.startTime.split(':').map(Number) as [number, number];
    const durationMs = spec.durationMinutes * 60_000;
    const days = new Set(spec.days);
    const from = this.from.getTime();
    const to = this.to.getTime();
    // Local calendar days as UTC midnights: from the day before `from` (a window started the
    // evening before may still run) to the local day of `to`.
    const firstLocal = from + zone.offsetAt(from);
    const lastLocal = to + zone.offsetAt(to);
    const result: WindowOccurrence[] = [];
    for (let day = Math.floor(firstLocal / DAY_MS) * DAY_MS - DAY_MS; day <= lastLocal; day += DAY_MS) {
      // 1970-01-01 (day 0) was a Thursday, getUTCDay() 4.
      if (!days.has(WEEKDAYS[(((Math.floor(day / DAY_MS) + 4) % 7) + 7) % 7]!)) continue;
      const startsAt = zone.instantOf(day + hour * 3_600_000 + minute * 60_000);
      const endsAt = startsAt + durationMs;
      if (endsAt > from && startsAt < to) result.push({ startsAt: new Date(startsAt), endsAt: new Date(endsAt) });
    }
    return result;
  }
}
