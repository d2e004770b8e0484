import { minorsWithSupport, versionSupport } from './version-support';

describe('version support on the fleet list', () => {
  const entries = [
    { provider: 'rke2' as const, minor: '1.33', maintenanceAt: '2026-04-28', standardSupportEndsAt: null, endOfSupportAt: '2026-06-28' },
    { provider: 'rke2' as const, minor: '1.35', maintenanceAt: '2026-12-28', standardSupportEndsAt: null, endOfSupportAt: '2027-02-28' },
    { provider: 'gke' as const, minor: '1.34', maintenanceAt: null, standardSupportEndsAt: '2026-10-01', endOfSupportAt: '2027-08-01' },
    { provider: 'gke' as const, minor: '1.36', maintenanceAt: null, standardSupportEndsAt: '2027-08-09', endOfSupportAt: '2028-02-09', preview: true },
  ];
  const day = (iso: string) => new Date(`${iso}T12:00:00Z`);

  it('says eol from the end-of-support day on, deprecated in maintenance mode or past standard support, supported otherwise', () => {
    expect(versionSupport(entries, 'rke2', '1.33.9', day('2026-06-27'))).toEqual({ status: 'deprecated', state: 'maintenance', endOfSupportAt: '2026-06-28' });
    expect(versionSupport(entries, 'rke2', '1.33.9', day('2026-06-28'))).toEqual({ status: 'eol', state: 'eol', endOfSupportAt: '2026-06-28' });
    expect(versionSupport(entries, 'rke2', '1.35.1', day('2026-12-27'))).toMatchObject({ status: 'supported', state: 'supported' });
    expect(versionSupport(entries, 'rke2', '1.35.1', day('2026-12-28'))).toMatchObject({ status: 'deprecated', state: 'maintenance' });
    expect(versionSupport(entries, 'gke', '1.34.5-gke.1100', day('2026-10-01'))).toMatchObject({ status: 'deprecated', state: 'deprecated' });
    expect(versionSupport(entries, 'gke', '1.36.0-gke.100', day('2026-12-06'))).toMatchObject({ status: 'supported', state: 'preview' });
  });

  it("keys by provider and by the whole minor: another provider's entry or a longer minor sharing the prefix is unknown", () => {
    expect(versionSupport(entries, 'gke', '1.33.9', day('2026-12-06'))).toEqual({ status: 'unknown', state: null, endOfSupportAt: null });
    expect(versionSupport(entries, 'rke2', '1.330.1', day('2026-12-06')).status).toBe('unknown');
    expect(versionSupport(entries, 'rke2', 'not-a-version', day('2026-12-06')).status).toBe('unknown');
  });

  it('lists the minors a support filter matches on the day', () => {
    const now = day('2026-12-06');
    expect(minorsWithSupport(entries, 'eol', now)).toEqual([{ provider: 'rke2', minor: '1.33' }]);
    expect(minorsWithSupport(entries, 'deprecated', now)).toEqual([{ provider: 'gke', minor: '1.34' }]);
    expect(minorsWithSupport(entries, 'supported', now)).toEqual([
      { provider: 'rke2', minor: '1.35' },
      { provider: 'gke', minor: '1.36' },
    ]);
  });
});
