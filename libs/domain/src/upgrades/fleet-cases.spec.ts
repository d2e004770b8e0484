/** Auto-upgrade cases on the shipped catalogue (docs/upgrades.md: clusters on versions nearing end of support are scheduled for an automatic upgrade). */
import { VERSION_CATALOGUE } from '../catalogue/kubernetes-versions';
import { upgradeNeed } from './fleet-rollout';
import { planUpgrade } from './upgrade-planner';

const cat = VERSION_CATALOGUE.entries;
const need = (provider: 'rke2' | 'gke', version: string, now: string, autoUpgrade = true) =>
  upgradeNeed({ provider, controlPlaneVersion: version, autoUpgrade }, cat, new Date(now));

describe('fleet upgrade needs on the shipped catalogue', () => {
  it('moves an RKE2 1.34 cluster (end of life since 2026-10-27) to 1.35 today, consent or not', () => {
    expect(need('rke2', '1.34.9', '2026-12-06T12:00:00Z', false)).toMatchObject({ reason: 'end_of_life', target: '1.35.5' });
  });

  it('moves an RKE2 1.33 cluster through end-of-life 1.34 to 1.35, instead of leaving it unplanned', () => {
    const n = need('rke2', '1.33.10', '2026-12-06T12:00:00Z', false);
    expect(n).toMatchObject({ reason: 'end_of_life', target: '1.35.5', minor: true });
    expect(n!.detail).toContain('passes through it to 1.35');
    // and the planner makes that one minor per hop
    const plan = planUpgrade({
      provider: 'rke2',
      controlPlaneVersion: '1.33.10',
      pools: [{ id: 'np', name: 'default', version: '1.33.10', maxSurge: 1, maxUnavailable: 0 }],
      target: n!.target,
      catalogue: cat,
      now: new Date('2026-12-06T12:00:00Z'),
      objects: [],
      disruptionBudgets: [],
      exclusions: [],
    });
    expect(plan.hops.map((h) => h.to)).toEqual(['1.34.9', '1.35.5']);
  });

  it('moves RKE2 1.35 to 1.36 from 45 days before its end of life (2027-02-28), not before', () => {
    expect(need('rke2', '1.35.5', '2027-01-13T23:59:00Z')).toBeNull();
    expect(need('rke2', '1.35.5', '2027-01-14T00:00:00Z')).toMatchObject({ reason: 'end_of_support_near', target: '1.36.4' });
    // maintenance mode alone (from 2026-12-28) is not a reason
    expect(need('rke2', '1.35.5', '2026-12-29T00:00:00Z')).toBeNull();
  });

  it('moves GKE 1.35 once past its end of standard support (2027-02-28)', () => {
    expect(need('gke', '1.35.8-gke.1225000', '2027-02-28T00:00:00Z')).toMatchObject({ reason: 'end_of_support_near', target: '1.36.4-gke.1391000' });
  });

  it('offers the newer patch of a supported minor, and never a preview minor', () => {
    expect(need('rke2', '1.36.1', '2026-12-06T12:00:00Z')).toMatchObject({ reason: 'patch', target: '1.36.4' });
    expect(need('rke2', '1.36.4', '2026-12-06T12:00:00Z')).toBeNull();
  });
});
