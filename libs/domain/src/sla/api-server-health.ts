import { MINUTE_DOWN, MINUTE_UP, type MinuteStates } from './availability';

const MINUTE = 60_000;

/** What the SLA monitor concludes about a cluster's API server from its latest minutes. */
export type ApiServerHealth = { state: 'down'; since: Date; minutes: number } | { state: 'up' } | { state: 'undecided' };

/**
 * The API server's health from the combined minute states (docs/sla.md, "Cluster status"), the
 * last entry being the latest complete minute and `start` the first minute's start.
 *
 * - down: the latest `degradedAfterMinutes` minutes (at least) were all down; `since` is the start
 *   of that run of down minutes, `minutes` its length.
 * - up: the latest minute was up, so probes succeed again.
 * - undecided otherwise: a shorter run of down minutes is a blip, and an unknown latest minute (the
 *   monitor away, or its latest uptime not written yet) says nothing either way.
 */
export function apiServerHealth(minutes: MinuteStates, start: Date, degradedAfterMinutes: number): ApiServerHealth {
  const last = minutes.length - 1;
  if (last < 0) return { state: 'undecided' };
  if (minutes[last] === MINUTE_UP) return { state: 'up' };
  let first = last;
  while (first >= 0 && minutes[first] === MINUTE_DOWN) first--;
  const run = last - first;
  if (run < degradedAfterMinutes) return { state: 'undecided' };
  return { state: 'down', since: new Date(start.getTime() + (first + 1) * MINUTE), minutes: run };
}

/** The reason a degraded cluster shows: what failed and since when, to the minute (UTC). */
export function apiServerDownReason(since: Date, minutes: number): string {
  return `API server unreachable since ${since.toISOString().slice(0, 16)}Z (down ${minutes} consecutive minutes)`;
}
