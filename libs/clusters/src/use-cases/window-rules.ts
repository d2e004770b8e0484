import { assertEnoughAvailability, type Provider, validateWindow, type WindowDay } from '@capstan/domain';

interface WindowInput {
  time_zone: string;
  days: WindowDay[];
  start_time: string;
  duration_minutes: number;
}

/**
 * A maintenance window as it may be stored (docs/upgrades.md, "Maintenance windows"): its time zone
 * as IANA spells it (`CET` and `europe/zurich` are refused with a 400 naming the field, not
 * guessed at), and on GKE, whose API enforces it, at least 48 h inside windows of 4 h or more in any
 * 32 days (a 422 naming the rule), checked over a year from `now` so DST changes count.
 */
export function checkedWindow<W extends WindowInput | null | undefined>(provider: Provider, window: W, now: Date): W {
  if (!window) return window;
  const spec = validateWindow({ timeZone: window.time_zone, days: window.days, startTime: window.start_time, durationMinutes: window.duration_minutes });
  if (provider === 'gke') assertEnoughAvailability(spec, now);
  return { ...window, time_zone: spec.timeZone };
}
