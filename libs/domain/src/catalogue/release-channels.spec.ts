import { listVersions, type VersionCatalogueEntry } from './kubernetes-versions';
import { channelMinors, channelsByMinor } from './release-channels';

const src = { releasedAt: 't', maintenanceAt: 't', standardSupportEndsAt: 't', endOfSupportAt: 't', latestPatch: 't' };
const NOW = new Date('2026-12-04T12:00:00Z');
const CATALOGUE: VersionCatalogueEntry[] = [
  {
    provider: 'gke',
    minor: '1.37',
    latestPatch: '1.37.0-gke.1',
    releasedAt: '2026-11-01',
    maintenanceAt: null,
    standardSupportEndsAt: '2027-10-01',
    endOfSupportAt: '2027-12-01',
    preview: true,
    sources: src,
  },
  {
    provider: 'gke',
    minor: '1.36',
    latestPatch: '1.36.4-gke.1',
    releasedAt: '2026-07-10',
    maintenanceAt: null,
    standardSupportEndsAt: '2027-06-30',
    endOfSupportAt: '2027-08-09',
    sources: src,
  },
  {
    provider: 'gke',
    minor: '1.35',
    latestPatch: '1.35.8-gke.1',
    releasedAt: '2026-02-11',
    maintenanceAt: null,
    standardSupportEndsAt: '2027-02-28',
    endOfSupportAt: '2027-04-11',
    sources: src,
  },
  {
    provider: 'gke',
    minor: '1.34',
    latestPatch: '1.34.11-gke.1',
    releasedAt: '2025-09-30',
    maintenanceAt: null,
    standardSupportEndsAt: '2026-08-30',
    endOfSupportAt: '2026-10-01',
    sources: src,
  },
  {
    provider: 'rke2',
    minor: '1.36',
    latestPatch: '1.36.4',
    releasedAt: '2026-04-22',
    maintenanceAt: '2027-04-28',
    standardSupportEndsAt: null,
    endOfSupportAt: '2027-06-28',
    sources: src,
  },
  {
    provider: 'rke2',
    minor: '1.35',
    latestPatch: '1.35.5',
    releasedAt: '2025-12-17',
    maintenanceAt: '2026-12-28',
    standardSupportEndsAt: null,
    endOfSupportAt: '2027-02-28',
    defaultForNew: true,
    sources: src,
  },
];

describe('release channels', () => {
  const versions = listVersions(NOW, undefined, CATALOGUE);

  it('puts a GKE preview in rapid only, the newest supported in regular and the one before in stable', () => {
    expect(channelMinors('gke', versions, NOW, CATALOGUE)).toEqual({ rapid: '1.37', regular: '1.36', stable: '1.35' });
  });

  it("follows staff's default for RKE2's stable channel, latest being the newest minor", () => {
    expect(channelMinors('rke2', versions, NOW, CATALOGUE)).toEqual({ latest: '1.36', stable: '1.35' });
  });

  it('lists no channel for an EOL minor', () => {
    const byMinor = channelsByMinor(versions, NOW, CATALOGUE);
    expect(byMinor.get('gke 1.34')).toBeUndefined();
    expect(byMinor.get('gke 1.36')).toEqual(['regular']);
  });
});
