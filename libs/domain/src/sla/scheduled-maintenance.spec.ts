import { scheduledMaintenanceExclusion } from './scheduled-maintenance';

describe('scheduledMaintenanceExclusion', () => {
  const maintenance = { announced_at: '2026-12-01T10:00:00Z', window_starts_at: '2026-12-05T21:00:00Z', window_ends_at: '2026-12-06T01:00:00Z' };
  const now = new Date('2026-12-10T00:00:00Z');
  const op = (startedAt: string, finishedAt: string | null, m: Partial<typeof maintenance> | null = maintenance) => ({
    id: 'op_1',
    startedAt: new Date(startedAt),
    finishedAt: finishedAt ? new Date(finishedAt) : null,
    maintenance: m,
  });

  it('excludes announced provider work for the time it ran inside its window, with its reason', () => {
    expect(scheduledMaintenanceExclusion(op('2026-12-05T21:05:00Z', '2026-12-05T22:00:00Z'), now)).toEqual({
      start: new Date('2026-12-05T21:05:00Z'),
      end: new Date('2026-12-05T22:00:00Z'),
      reason: 'scheduled_maintenance',
      reference: 'op_1',
    });
  });

  it('never excludes the part that ran past the window', () => {
    expect(scheduledMaintenanceExclusion(op('2026-12-06T00:30:00Z', '2026-12-06T03:00:00Z'), now)?.end).toEqual(new Date('2026-12-06T01:00:00Z'));
    expect(scheduledMaintenanceExclusion(op('2026-12-06T02:00:00Z', '2026-12-06T03:00:00Z'), now)).toBeNull();
  });

  it('excuses nothing that was not announced before its window', () => {
    expect(
      scheduledMaintenanceExclusion(op('2026-12-05T21:05:00Z', '2026-12-05T22:00:00Z', { ...maintenance, announced_at: '2026-12-05T21:30:00Z' }), now),
    ).toBeNull();
    expect(scheduledMaintenanceExclusion(op('2026-12-05T21:05:00Z', '2026-12-05T22:00:00Z', null), now)).toBeNull();
  });
});
