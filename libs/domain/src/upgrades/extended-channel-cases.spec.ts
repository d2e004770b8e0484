/**
 * GKE's Extended release channel and the fleet's moves (docs/upgrades.md, "Fleet auto-upgrade").
 *
 * Source: cloud.google.com/kubernetes-engine/versioning ("up to a total of 24 months of support ...
 * around 14 months of standard support and approximately an additional 10 months of extended
 * support available with the Extended channel") and the announcement
 * cloud.google.com/blog/products/containers-kubernetes/announcing-gke-extended-support ("GKE clusters
 * on the Extended release channel stay on the same GKE minor version until shortly before the
 * extended support period ends").
 */
import { VERSION_CATALOGUE } from '../catalogue/kubernetes-versions';
import { type FleetCluster, upgradeNeed } from './fleet-rollout';

const gke = (releaseChannel: FleetCluster['releaseChannel']) => ({
  provider: 'gke' as const,
  controlPlaneVersion: '1.35.8-gke.1225000',
  autoUpgrade: true,
  releaseChannel,
});
const catalogue = VERSION_CATALOGUE.entries;

describe('the fleet and the Extended channel (GKE 1.35: standard support to 2027-02-28, end of support 2027-04-11 in the catalogue)', () => {
  it('moves a Regular-channel cluster when its minor nears its end of support, but leaves an Extended-channel one on its minor', () => {
    for (const day of ['2027-03-01T12:00:00Z', '2027-03-20T12:00:00Z']) {
      const now = new Date(day);
      expect(upgradeNeed(gke('regular'), catalogue, now)).toMatchObject({ reason: 'end_of_support_near', target: '1.36.4-gke.1391000' });
      expect(upgradeNeed(gke('extended'), catalogue, now)).toBeNull();
    }
  });

  it('still gives an Extended-channel cluster the patches of its minor', () => {
    const older = { ...gke('extended'), controlPlaneVersion: '1.35.6-gke.100' };
    expect(upgradeNeed(older, catalogue, new Date('2027-03-20T12:00:00Z'))).toMatchObject({ reason: 'patch', target: '1.35.8-gke.1225000' });
  });

  it('moves every channel once the catalogue says the minor has ended: the extended end is not known as data yet', () => {
    const now = new Date('2027-04-11T00:00:00Z');
    for (const channel of ['regular', 'extended'] as const) expect(upgradeNeed(gke(channel), catalogue, now)).toMatchObject({ reason: 'end_of_life' });
  });

  it('leaves RKE2 clusters as they were: the channel is GKE’s', () => {
    const rke2 = { provider: 'rke2' as const, controlPlaneVersion: '1.35.5', autoUpgrade: true, releaseChannel: 'extended' as const };
    // RKE2 1.35 enters maintenance mode on 2026-12-28 and ends on 2027-02-28: within 45 days on 2027-01-20
    expect(upgradeNeed(rke2, catalogue, new Date('2027-01-20T12:00:00Z'))).toMatchObject({ reason: 'end_of_support_near' });
  });
});
