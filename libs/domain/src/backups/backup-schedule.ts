/**
 * When a backup schedule fires (docs/backups.md, "Schedules"). A schedule is a five-field cron
 * expression read in the schedule's own IANA time zone (UTC by default), as RKE2's
 * `etcd-snapshot-schedule-cron` and Backup for GKE's cron schedules are. Occurrences come from
 * `croner`, which follows the usual cron reading of DST changes: a local time that does not exist
 * on the spring-forward day (02:30 in Europe/Zurich) fires once at the first instant after the
 * gap, and a local time that happens twice on the fall-back day fires once, at its first instant.
 * No calendar arithmetic is written by hand here.
 */
import { Cron } from 'croner';
import { ValidationError } from '../errors/domain-error';
import { normaliseTimeZone } from '../maintenance/maintenance-window';

export interface BackupCron {
  /** Five fields: minute hour day-of-month month day-of-week. */
  cron: string;
  /** IANA time zone the fields are read in. */
  timeZone: string;
}

/** RKE2's default etcd snapshot schedule: every 12 hours. */
export const DEFAULT_BACKUP_CRON = '0 */12 * * *';

/**
 * Bounds how many past windows `dueRun` walks: a schedule that fires every minute and was stopped
 * for a week still answers in bounded time; beyond it the count of missed windows is a lower bound.
 */
const MAX_WINDOWS_COUNTED = 10_000;

function cronOf(spec: BackupCron): Cron {
  // `paused` so croner never starts a timer: the scheduler decides when to look.
  return new Cron(spec.cron, { timezone: spec.timeZone, paused: true, mode: '5-part' });
}

/**
 * Checks a schedule's cron and zone; returns them canonical (single spaces, the zone as IANA spells
 * it). Five fields only: seconds or years would promise a precision the scheduler does not keep.
 */
export function validateBackupCron(spec: BackupCron): BackupCron {
  let timeZone: string;
  try {
    timeZone = normaliseTimeZone(spec.timeZone);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError([{ field: 'time_zone', message: error.violations[0]!.message }]);
    throw error;
  }
  const cron = spec.cron.trim().split(/\s+/).join(' ');
  if (cron.split(' ').length !== 5)
    throw new ValidationError([{ field: 'cron', message: `"${spec.cron.slice(0, 100)}" must have five fields (minute hour day-of-month month day-of-week)` }]);
  try {
    const next = cronOf({ cron, timeZone }).nextRun(new Date(0));
    if (!next) throw new Error('it never fires');
  } catch (error) {
    throw new ValidationError([
      { field: 'cron', message: `"${cron.slice(0, 100)}" is not a cron expression Capstan can schedule: ${(error as Error).message}` },
    ]);
  }
  return { cron, timeZone };
}

/** The first occurrence strictly after `after`, or null when the expression never fires again. */
export function nextOccurrence(spec: BackupCron, after: Date): Date | null {
  return cronOf(spec).nextRun(after);
}

/** The next `count` occurrences strictly after `after`. */
export function nextOccurrences(spec: BackupCron, after: Date, count: number): Date[] {
  return cronOf(spec).nextRuns(count, after);
}

export interface DueRun {
  /** The window to take a backup for now (the latest one that has passed), or null when none is due. */
  window: Date | null;
  /** Windows that passed while nobody looked (downtime) and are folded into `window`: never run. */
  skipped: number;
  /** The next window after `now`: what `next_run_at` shows. */
  next: Date | null;
}

/**
 * Which window is due at `now`, given the last window already handled (`lastWindow`, or the
 * schedule's creation for a new one). Runs missed while the scheduler was down happen **once**, not
 * once per missed window: several windows that passed since `lastWindow` become one backup for the
 * latest of them, and the rest are counted as skipped (docs/backups.md, "Missed runs"). A window
 * counts as passed when it is at or before `now`.
 */
export function dueRun(spec: BackupCron, lastWindow: Date, now: Date): DueRun {
  const cron = cronOf(spec);
  let window: Date | null = null;
  let passed = 0;
  let cursor = lastWindow;
  for (;;) {
    const next = cron.nextRun(cursor);
    if (!next || next.getTime() > now.getTime()) return { window, skipped: Math.max(0, passed - 1), next };
    window = next;
    passed++;
    cursor = next;
    if (passed >= MAX_WINDOWS_COUNTED) {
      // Jump to the last window before `now` without counting each one.
      const last = cron.previousRuns(1, new Date(now.getTime() + 1))[0] ?? next;
      return { window: last, skipped: passed - 1, next: cron.nextRun(now) };
    }
  }
}

/**
 * The longest gap between two consecutive windows over the next `sample` occurrences after `from`:
 * a weekday-only schedule's interval is its weekend gap, not a day. A cluster whose last good
 * backup is older than twice this is stale (docs/backups.md, "Staleness").
 */
export function longestInterval(spec: BackupCron, from: Date, sample = 32): number {
  const runs = nextOccurrences(spec, from, sample);
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return longest;
}

/** Whether a cluster's last good backup (null: none yet) is older than twice its schedule's interval. */
export function isBackupStale(lastGoodAt: Date | null, since: Date, intervalMs: number, now: Date): boolean {
  const reference = lastGoodAt ?? since;
  return intervalMs > 0 && now.getTime() - reference.getTime() > 2 * intervalMs;
}
