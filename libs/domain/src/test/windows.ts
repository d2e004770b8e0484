import type { MaintenanceWindowSpec } from '../maintenance/maintenance-window';

/** A Europe/Zurich window (test helper): the zone whose DST nights the window cases walk through. */
export const zurich = (days: MaintenanceWindowSpec['days'], startTime: string, durationMinutes: number): MaintenanceWindowSpec => ({
  timeZone: 'Europe/Zurich',
  days,
  startTime,
  durationMinutes,
});

/** An occurrence as its two ISO instants, for comparing lists of them at a glance. */
export const iso = (o: { startsAt: Date; endsAt: Date }) => [o.startsAt.toISOString(), o.endsAt.toISOString()];
