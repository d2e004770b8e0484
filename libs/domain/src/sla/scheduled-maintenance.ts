import type { Exclusion } from './availability';

/**
 * What a provider-initiated operation announces: the window occurrence it was planned in and when
 * the customer was told (kept in the operation's params as `maintenance`; docs/upgrades.md,
 * "Scheduled maintenance and the SLA").
 */
export interface AnnouncedMaintenance {
  announced_at: string;
  window_starts_at: string;
  window_ends_at: string;
}

/**
 * The part of a provider-initiated operation that is `scheduled_maintenance` (docs/sla.md,
 * "Exclusions"): only when it was announced before its window began, and only the time it ran
 * inside that window. Work before or after the window, or never announced, excuses nothing.
 */
export function scheduledMaintenanceExclusion(
  op: { id: string; startedAt: Date; finishedAt: Date | null; maintenance: Partial<AnnouncedMaintenance> | null | undefined },
  now: Date,
): Exclusion | null {
  const m = op.maintenance;
  if (!m?.announced_at || !m.window_starts_at || !m.window_ends_at) return null;
  const announced = Date.parse(m.announced_at);
  const windowStart = Date.parse(m.window_starts_at);
  const windowEnd = Date.parse(m.window_ends_at);
  if (![announced, windowStart, windowEnd].every(Number.isFinite) || announced > windowStart) return null;
  const start = Math.max(op.startedAt.getTime(), windowStart);
  const end = Math.min((op.finishedAt ?? now).getTime(), windowEnd);
  if (end <= start) return null;
  return { start: new Date(start), end: new Date(end), reason: 'scheduled_maintenance', reference: op.id };
}
