/**
 * Maintenance exclusions a customer may set on a cluster (docs/upgrades.md, "Maintenance
 * exclusions"): a named, non-recurring span in which automatic upgrades of a scope do not run.
 * Capstan's planner and fleet scheduler honour them on every provider; on GKE the exclusions are
 * also GKE's own, so they are held to the limits GKE documents for them
 * (cloud.google.com/kubernetes-engine/docs/concepts/maintenance-windows-and-exclusions), and a
 * request GKE would refuse is refused here first, with a 422 naming the rule.
 */
import { UnprocessableError, ValidationError } from '../errors/domain-error';
import type { ExclusionScope } from '../upgrades/upgrade-planner';
import { MIN_AVAILABILITY_MINUTES_PER_32_DAYS, MIN_COUNTED_WINDOW_MINUTES, type MaintenanceWindowSpec, occurrences } from './maintenance-window';

export interface ExclusionSpan {
  name: string;
  scope: ExclusionScope;
  startsAt: Date;
  endsAt: Date;
}

const DAY_MS = 86_400_000;
const SPAN_MS = 32 * DAY_MS;
/** GKE: a `no_upgrades` exclusion lasts at most 30 days. */
export const MAX_NO_UPGRADES_DAYS = 30;
/** GKE: at most 3 `no_upgrades` exclusions in any 32 days. */
export const MAX_NO_UPGRADES_PER_32_DAYS = 3;

export interface ExclusionCheck {
  provider: 'rke2' | 'gke';
  /** The exclusion asked for. */
  candidate: ExclusionSpan;
  /** The cluster's other exclusions (ended ones constrain nothing and may be left out). */
  existing: readonly ExclusionSpan[];
  now: Date;
  /** When the cluster's minor leaves (standard) support at the provider; null when unknown. */
  supportEndsAt: Date | null;
  /** The cluster's maintenance window; null: maintenance may run at any time. */
  window: MaintenanceWindowSpec | null;
}

const refuse = (type: string, rule: string, detail: string, extra: Record<string, unknown> = {}) => new UnprocessableError(type, detail, { rule, ...extra });

/**
 * Throws unless `candidate` may be added to the cluster's exclusions: a 400 when its end is not
 * after its start, a 422 naming the rule otherwise. Pure: the caller reads the rows.
 */
export function assertExclusionAllowed(check: ExclusionCheck): void {
  const { candidate, now } = check;
  if (candidate.endsAt.getTime() <= candidate.startsAt.getTime()) {
    throw new ValidationError([{ field: 'ends_at', message: 'must be after starts_at' }]);
  }
  if (candidate.endsAt.getTime() <= now.getTime()) {
    throw refuse(
      'exclusion-in-the-past',
      'an exclusion must not end in the past',
      `exclusion ${candidate.name} ends at ${candidate.endsAt.toISOString()}, which has passed: an exclusion must not end in the past`,
    );
  }
  const live = check.existing.filter((e) => e.endsAt.getTime() > now.getTime());
  // Two exclusions of one scope that overlap say the same thing twice, and which one ends the
  // freeze is then unclear to whoever deletes one of them: extend by deleting and adding instead.
  const twin = live.find((e) => e.scope === candidate.scope && overlaps(e, candidate));
  if (twin) {
    throw refuse(
      'exclusion-overlaps',
      'exclusions of the same scope must not overlap',
      `exclusion ${candidate.name} overlaps exclusion ${twin.name} of the same scope (${twin.scope}, ${twin.startsAt.toISOString()} to ${twin.endsAt.toISOString()})`,
      { overlapping: twin.name },
    );
  }
  if (check.provider !== 'gke') return;
  if (candidate.scope === 'no_upgrades') {
    if (candidate.endsAt.getTime() - candidate.startsAt.getTime() > MAX_NO_UPGRADES_DAYS * DAY_MS) {
      throw refuse(
        'exclusion-too-long',
        `on gke a no_upgrades exclusion lasts at most ${MAX_NO_UPGRADES_DAYS} days`,
        `exclusion ${candidate.name} lasts longer than 30 days`,
      );
    }
    const noUpgrades = [...live.filter((e) => e.scope === 'no_upgrades'), candidate];
    const most = mostWithinAnySpan(noUpgrades);
    if (most > MAX_NO_UPGRADES_PER_32_DAYS) {
      throw refuse(
        'too-many-exclusions',
        `on gke at most ${MAX_NO_UPGRADES_PER_32_DAYS} no_upgrades exclusions in any 32 days`,
        `exclusion ${candidate.name} would make ${most} no_upgrades exclusions within 32 days`,
      );
    }
    const available = worstAvailabilityMinutes(check.window, noUpgrades, now);
    if (available < MIN_AVAILABILITY_MINUTES_PER_32_DAYS) {
      throw refuse(
        'exclusion-leaves-too-little-maintenance',
        'on gke at least 48 h of maintenance availability in any 32 days, in windows of at least 4 h, outside no_upgrades exclusions',
        `with exclusion ${candidate.name}, the maintenance window leaves ${Math.floor(available / 60)} h ${Math.round(available % 60)} min in the worst 32 days`,
        { available_minutes: Math.round(available) },
      );
    }
  } else if (check.supportEndsAt && candidate.endsAt.getTime() > check.supportEndsAt.getTime()) {
    throw refuse(
      'exclusion-past-end-of-support',
      `on gke a ${candidate.scope} exclusion ends at the latest when the cluster's minor leaves support`,
      `exclusion ${candidate.name} ends after the cluster's version leaves support on ${check.supportEndsAt.toISOString().slice(0, 10)}`,
      { support_ends_at: check.supportEndsAt.toISOString() },
    );
  }
}

/**
 * Throws unless a GKE cluster's new maintenance window (null: any time) still leaves 48 h in any
 * 32 days outside its live `no_upgrades` exclusions: an exclusion that was allowed under the old
 * window must not become one GKE would refuse because the window shrank under it.
 */
export function assertWindowKeepsAvailability(window: MaintenanceWindowSpec | null, exclusions: readonly ExclusionSpan[], now: Date): void {
  const blocked = exclusions.filter((e) => e.scope === 'no_upgrades' && e.endsAt.getTime() > now.getTime());
  const available = worstAvailabilityMinutes(window, blocked, now);
  if (available < MIN_AVAILABILITY_MINUTES_PER_32_DAYS) {
    throw refuse(
      'window-leaves-too-little-maintenance',
      'on gke at least 48 h of maintenance availability in any 32 days, in windows of at least 4 h, outside no_upgrades exclusions',
      `with the cluster's no_upgrades exclusions (${blocked.map((e) => e.name).join(', ')}), this maintenance window leaves ${Math.floor(available / 60)} h ${Math.round(available % 60)} min in the worst 32 days; delete or shorten an exclusion first`,
      { available_minutes: Math.round(available) },
    );
  }
}

function overlaps(a: ExclusionSpan, b: ExclusionSpan): boolean {
  return a.startsAt.getTime() < b.endsAt.getTime() && b.startsAt.getTime() < a.endsAt.getTime();
}

/**
 * The most spans that any 32-day period meets. A span [s, e) meets the period starting at t when
 * t lies in (s - 32 d, e); the count is highest just after one of those openings.
 */
export function mostWithinAnySpan(spans: readonly { startsAt: Date; endsAt: Date }[]): number {
  let most = 0;
  for (const probe of spans) {
    const t = probe.startsAt.getTime() - SPAN_MS + 1;
    const count = spans.filter((s) => s.startsAt.getTime() - SPAN_MS < t && t < s.endsAt.getTime()).length;
    most = Math.max(most, count);
  }
  return most;
}

/**
 * The least maintenance time, in minutes, that any 32-day period touched by `blocked` keeps: the
 * window's occurrences (or all the time, without a window) minus the blocked spans, counting only
 * the pieces left of at least 4 hours, as GKE counts them.
 */
export function worstAvailabilityMinutes(window: MaintenanceWindowSpec | null, blocked: readonly { startsAt: Date; endsAt: Date }[], now: Date): number {
  if (blocked.length === 0) return Infinity;
  const from = Math.max(now.getTime(), Math.min(...blocked.map((b) => b.startsAt.getTime())) - SPAN_MS);
  const to = Math.max(...blocked.map((b) => b.endsAt.getTime())) + SPAN_MS;
  const open = window
    ? occurrences(window, new Date(from), new Date(to)).map((o) => [o.startsAt.getTime(), o.endsAt.getTime()] as const)
    : [[from, to] as const];
  const pieces = open
    .flatMap(([s, e]) => subtract(s, e, blocked))
    .filter(([s, e]) => e - s >= MIN_COUNTED_WINDOW_MINUTES * 60_000)
    .map(([s, e]) => [Math.max(s, from), Math.min(e, to)] as const);
  const covered = (t: number) => pieces.reduce((sum, [s, e]) => sum + Math.max(0, Math.min(e, t + SPAN_MS) - Math.max(s, t)), 0);
  // The covered time of a sliding period is least when it begins as a piece ends or ends as one begins.
  const last = to - SPAN_MS;
  const starts = [from, ...pieces.map(([, e]) => e), ...pieces.map(([s]) => s - SPAN_MS)].filter((t) => t >= from && t <= last);
  return Math.min(...starts.map(covered)) / 60_000;
}

function subtract(start: number, end: number, blocked: readonly { startsAt: Date; endsAt: Date }[]): (readonly [number, number])[] {
  let parts: (readonly [number, number])[] = [[start, end]];
  for (const b of blocked) {
    const bs = b.startsAt.getTime();
    const be = b.endsAt.getTime();
    parts = parts.flatMap(([s, e]) => {
      if (be <= s || bs >= e) return [[s, e] as const];
      const left = bs > s ? [[s, bs] as const] : [];
      const right = be < e ? [[be, e] as const] : [];
      return [...left, ...right];
    });
  }
  return parts;
}
