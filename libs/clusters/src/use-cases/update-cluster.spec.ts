import { settingsForProvider } from './update-cluster';

/** Which PATCHed settings a provider must apply (docs/gke-driver.md, "Settings Capstan keeps in step"). */
describe('settings a cluster change must bring to its provider', () => {
  const before = {
    name: 'shop',
    provider: 'gke' as const,
    region: 'europe-west6',
    currentVersion: '1.35.8-gke.1225000',
    labels: { team: 'payments' },
    autoUpgrade: true,
    deletionProtection: false,
    releaseChannel: 'regular' as const,
    maintenanceWindow: { time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '00:30', duration_minutes: 360 },
    nodePools: ['apps'],
  } as unknown as Parameters<typeof settingsForProvider>[1];

  it('names the channel, window and labels a GKE change moved, and nothing for flags or unchanged values', () => {
    expect(settingsForProvider('gke', before, { ...before, releaseChannel: 'stable' } as typeof before)).toEqual(['releaseChannel']);
    expect(settingsForProvider('gke', before, { ...before, maintenanceWindow: null } as typeof before)).toEqual(['maintenanceWindow']);
    expect(settingsForProvider('gke', before, { ...before, labels: { team: 'search' }, releaseChannel: 'rapid' } as typeof before)).toEqual([
      'labels',
      'releaseChannel',
    ]);
    expect(settingsForProvider('gke', before, { ...before, autoUpgrade: false, deletionProtection: true } as typeof before)).toEqual([]);
    expect(settingsForProvider('gke', before, { ...before, labels: { team: 'payments' } } as typeof before)).toEqual([]);
  });

  it('names nothing for RKE2, whose upgrades Capstan drives itself', () => {
    expect(settingsForProvider('rke2', before, { ...before, releaseChannel: 'stable', maintenanceWindow: null, labels: {} } as typeof before)).toEqual([]);
  });
});
