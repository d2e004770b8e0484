/**
 * When a failed delivery is tried again: 30 s after the first attempt, then doubling (1 min,
 * 2 min, 4 min, ...) up to once an hour, for as long as 24 h after the event. An endpoint that is
 * down for a deploy gets its events within a minute or two of coming back; one that is down for
 * a day stops costing us requests.
 */
export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_INTERVAL_MS = 3_600_000;
export const DELIVERY_WINDOW_MS = 24 * 3_600_000;

/** The delay before the next attempt, after `attempts` attempts (1 or more) have failed. */
export function retryDelayMs(attempts: number): number {
  const doublings = Math.max(0, attempts - 1);
  // 2^7 * 30 s already exceeds the cap; stop there so large attempt counts never overflow.
  return Math.min(MAX_RETRY_INTERVAL_MS, FIRST_RETRY_MS * 2 ** Math.min(doublings, 7));
}

/** The next attempt after a failure at `failedAt`, or null when the event's 24 h are over. */
export function nextAttemptAfter(failedAt: Date, attempts: number, eventTime: Date): Date | null {
  const next = new Date(failedAt.getTime() + retryDelayMs(attempts));
  return next.getTime() > eventTime.getTime() + DELIVERY_WINDOW_MS ? null : next;
}
