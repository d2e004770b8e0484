/**
 * Maintenance windows: a weekly recurrence (RFC 5545 BYDAY), a local start time, a duration and an
 * IANA time zone (docs/upgrades.md, "Maintenance windows"). Occurrences come from `rrule` (the
 * recurrence) and `@js-temporal/polyfill` (placing a local time in a zone, across DST changes);
 * no calendar arithmetic is written by hand here.
 */
import { Temporal } from '@js-temporal/polyfill';
import { RRule, type Weekday } from 'rrule';
import { UnprocessableError, ValidationError } from '../errors/domain-error';

export type WindowDay = 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU';

export interface MaintenanceWindowSpec {
  timeZone: string;
  days: readonly WindowDay[];
  /** Local start, "HH:MM". */
  startTime: string;
  durationMinutes: number;
}

export interface WindowOccurrence {
  startsAt: Date;
  endsAt: Date;
}

const RRULE_DAYS: Record<WindowDay, Weekday> = { MO: RRule.MO, TU: RRule.TU, WE: RRule.WE, TH: RRule.TH, FR: RRule.FR, SA: RRule.SA, SU: RRule.SU };

/** GKE's availability rule (docs/upgrades.md): at least this much window time in any 32 days... */
export const MIN_AVAILABILITY_MINUTES_PER_32_DAYS = 48 * 60;
/** ...counted only from occurrences at least this long. */
export const MIN_COUNTED_WINDOW_MINUTES = 4 * 60;

/**
 * The canonical IANA name of `zone`, or a ValidationError. Names are matched as IANA spells them:
 * `europe/zurich` is refused, not guessed at, and so are legacy abbreviations such as `CET` or
 * `EST`, which name an offset rule rather than a place and do not say which country's DST applies.
 * A link such as `Europe/Busingen` or `Etc/UTC` is kept as given (Temporal keeps link names).
 */
export function normaliseTimeZone(zone: string): string {
  // Asking Temporal costs a fraction of a millisecond, and a fleet pass asks for the same few zones
  // thousands of times: names it accepted are remembered (refusals are not, they are rare).
  const known = acceptedZones.get(zone);
  if (known !== undefined) return known;
  const accepted = checkTimeZone(zone);
  if (acceptedZones.size < 1_000) acceptedZones.set(zone, accepted);
  return accepted;
}

const acceptedZones = new Map<string, string>();

function checkTimeZone(zone: string): string {
  const refuse = (why: string) => new ValidationError([{ field: 'maintenance_window.time_zone', message: why }]);
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+){1,2}$|^UTC$/.test(zone)) {
    throw refuse(`"${zone.slice(0, 64)}" is not an IANA time zone such as Europe/Zurich (abbreviations such as CET name no place and are refused)`);
  }
  let id: string;
  try {
    id = Temporal.ZonedDateTime.from({ timeZone: zone, year: 2026, month: 1, day: 1 }).timeZoneId;
  } catch {
    throw refuse(`"${zone}" is not an IANA time zone such as Europe/Zurich`);
  }
  if (id !== zone) throw refuse(`"${zone}" is spelled "${id}" in the IANA database`);
  return id;
}

/** Checks a window's fields (zone, days, time, duration) and returns it with its zone canonical. */
export function validateWindow(spec: MaintenanceWindowSpec): MaintenanceWindowSpec {
  const timeZone = normaliseTimeZone(spec.timeZone);
  const violations: { field: string; message: string }[] = [];
  if (spec.days.length === 0 || spec.days.some((d) => !(d in RRULE_DAYS)))
    violations.push({ field: 'maintenance_window.days', message: 'must list days as MO, TU, WE, TH, FR, SA, SU' });
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(spec.startTime))
    violations.push({ field: 'maintenance_window.start_time', message: 'must be a local time written as HH:MM' });
  if (!Number.isInteger(spec.durationMinutes) || spec.durationMinutes < 60 || spec.durationMinutes > 24 * 60) {
    violations.push({ field: 'maintenance_window.duration_minutes', message: 'must be a whole number of minutes between 60 and 1440' });
  }
  if (violations.length > 0) throw new ValidationError(violations);
  return { ...spec, timeZone, days: [...new Set(spec.days)] };
}

/**
 * Every occurrence that overlaps [from, to), in time order. A window may cross midnight (its end is
 * the next local day); on a DST change the local start is placed as RFC 5545 says for a time that
 * does not exist (moved forward by the gap) or exists twice (the first), which is Temporal's
 * `compatible` disambiguation, and the duration is elapsed time.
 */
export function occurrences(spec: MaintenanceWindowSpec, from: Date, to: Date): WindowOccurrence[] {
  const zone = spec.timeZone;
  const [hour, minute] = spec.startTime.split(':').map(Number) as [number, number];
  // the local calendar days to consider: one before `from` (a window started the evening before may still run)
  const firstDay = Temporal.Instant.fromEpochMilliseconds(from.getTime()).toZonedDateTimeISO(zone).toPlainDate().subtract({ days: 1 });
  const lastDay = Temporal.Instant.fromEpochMilliseconds(to.getTime()).toZonedDateTimeISO(zone).toPlainDate();
  // rrule works on "floating" dates: UTC fields standing for local calendar days
  const floating = (d: Temporal.PlainDate) => new Date(Date.UTC(d.year, d.month - 1, d.day));
  const rule = new RRule({ freq: RRule.WEEKLY, byweekday: spec.days.map((d) => RRULE_DAYS[d]), dtstart: floating(firstDay), until: floating(lastDay) });
  const result: WindowOccurrence[] = [];
  for (const day of rule.all()) {
    const local = Temporal.PlainDateTime.from({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour, minute });
    const start = local.toZonedDateTime(zone, { disambiguation: 'compatible' });
    const end = start.add({ minutes: spec.durationMinutes });
    const startsAt = new Date(start.epochMilliseconds);
    const endsAt = new Date(end.epochMilliseconds);
    if (endsAt > from && startsAt < to) result.push({ startsAt, endsAt });
  }
  return result;
}

/** The occurrence running at `now`, or the next one to start (within the coming 8 days). */
export function nextWindow(spec: MaintenanceWindowSpec, now: Date): WindowOccurrence | null {
  const horizon = new Date(now.getTime() + 8 * 86_400_000);
  return occurrences(spec, now, horizon)[0] ?? null;
}

/**
 * GKE's rule: in any 32 consecutive days, at least 48 hours inside occurrences of 4 hours or more.
 * A weekly recurrence repeats, so checking every 32-day span starting at an occurrence over a year
 * covers DST shifts (a 1-hour-shorter night counts as it really is). Throws a 422 naming the rule.
 */
export function assertEnoughAvailability(spec: MaintenanceWindowSpec, from: Date): void {
  const span = 32 * 86_400_000;
  const year = occurrences(spec, from, new Date(from.getTime() + 400 * 86_400_000));
  const counted = year.filter((o) => o.endsAt.getTime() - o.startsAt.getTime() >= MIN_COUNTED_WINDOW_MINUTES * 60_000);
  const covered = (t: number) => counted.reduce((sum, o) => sum + Math.max(0, Math.min(o.endsAt.getTime(), t + span) - Math.max(o.startsAt.getTime(), t)), 0);
  // The covered time of a sliding 32-day span is smallest when the span begins as an occurrence
  // ends or ends as one begins, so those spans (over a year, DST changes included) are the ones to check.
  const last = from.getTime() + 366 * 86_400_000 - span;
  const starts = [...counted.map((o) => o.endsAt.getTime()), ...counted.map((o) => o.startsAt.getTime() - span)].filter(
    (t) => t >= from.getTime() && t <= last,
  );
  let worst = counted.length === 0 ? 0 : Math.min(covered(from.getTime()), ...starts.map(covered)) / 60_000;
  if (!Number.isFinite(worst)) worst = 0;
  if (worst < MIN_AVAILABILITY_MINUTES_PER_32_DAYS) {
    throw new UnprocessableError(
      'maintenance-window-too-short',
      `the maintenance window gives ${Math.floor(worst / 60)} h ${Math.round(worst % 60)} min in the worst 32 days, counting only occurrences of at least 4 h; the rule is at least 48 h in any 32 days, in windows of at least 4 h`,
      { rule: 'at least 48 h of availability in any 32 days, in windows of at least 4 h', available_minutes: Math.round(worst) },
    );
  }
}

/**
 * Whether work may start a new step now (docs/upgrades.md, "Starting in the next window"): inside
 * an occurrence with at least `minRemainingMs` of it left, it may; otherwise it waits for the next
 * occurrence to start. Null when the window has no occurrence within the coming 8 days.
 */
export function windowGate(
  spec: MaintenanceWindowSpec,
  now: Date,
  minRemainingMs: number,
): { open: true; endsAt: Date } | { open: false; opensAt: Date } | null {
  const horizon = new Date(now.getTime() + 8 * 86_400_000);
  for (const o of occurrences(spec, now, horizon)) {
    if (o.startsAt <= now && o.endsAt.getTime() - now.getTime() >= minRemainingMs) return { open: true, endsAt: o.endsAt };
    if (o.startsAt > now) return { open: false, opensAt: o.startsAt };
  }
  return null;
}
