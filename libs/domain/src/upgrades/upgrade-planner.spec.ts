import fc from 'fast-check';
import type { VersionCatalogueEntry } from '../catalogue/kubernetes-versions';
import { ADDON_CATALOGUE_SEED, defaultAddonNames } from '../addons/addon-catalogue';
import { caught } from '../test/thrown';
import { assertSingleMinorHop, MAX_KUBELET_SKEW, planUpgrade, skewCheck, type UpgradePlanInput, UpgradeRefusedError } from './upgrade-planner';

const NOW = new Date('2026-12-04T12:00:00Z');
const src = { releasedAt: 't', maintenanceAt: 't', endOfSupportAt: 't', latestPatch: 't' };

/** A contiguous catalogue of rke2 minors 1.lo..1.hi, all supported on NOW, latest patch .5. */
function catalogue(lo: number, hi: number, without: number[] = []): VersionCatalogueEntry[] {
  const entries: VersionCatalogueEntry[] = [];
  for (let m = lo; m <= hi; m++) {
    if (without.includes(m)) continue;
    entries.push({
      provider: 'rke2',
      minor: `1.${m}`,
      latestPatch: `1.${m}.5`,
      releasedAt: '2025-01-01',
      maintenanceAt: '2029-01-01',
      standardSupportEndsAt: null,
      endOfSupportAt: '2029-03-01',
      sources: src,
    });
  }
  return entries;
}

function input(overrides: Partial<UpgradePlanInput>): UpgradePlanInput {
  return {
    provider: 'rke2',
    controlPlaneVersion: '1.34.2',
    pools: [{ id: 'np_a', name: 'default', version: '1.34.2', maxSurge: 1, maxUnavailable: 0 }],
    target: '1.36',
    catalogue: catalogue(30, 37),
    now: NOW,
    objects: [],
    disruptionBudgets: [],
    exclusions: [],
    ...overrides,
  };
}

describe('planUpgrade', () => {
  it('plans two minors as two hops, control plane first, then each pool with its surge settings', () => {
    // given a 1.34 cluster with two pools
    const pools = [
      { id: 'np_a', name: 'default', version: '1.34.2', maxSurge: 1, maxUnavailable: 0 },
      { id: 'np_b', name: 'batch', version: '1.34.2', maxSurge: 0, maxUnavailable: 2 },
    ];
    // when planning to 1.36
    const plan = planUpgrade(input({ pools }));
    // then
    expect(plan.hops.map((h) => [h.from, h.to])).toEqual([
      ['1.34.2', '1.35.5'],
      ['1.35.5', '1.36.5'],
    ]);
    expect(plan.hops[0]!.steps.map((s) => (s.kind === 'node_pool' ? `${s.kind}:${s.pool}:${s.maxSurge}/${s.maxUnavailable}` : s.kind))).toEqual([
      'control_plane',
      'node_pool:default:1/0',
      'node_pool:batch:0/2',
    ]);
    expect(plan.blockers).toEqual([]);
  });

  it('plans a patch upgrade within the minor as one hop', () => {
    const plan = planUpgrade(input({ target: '1.34.5' }));
    expect(plan.hops).toHaveLength(1);
    expect(plan.hops[0]).toMatchObject({ from: '1.34.2', to: '1.34.5', minor: false });
  });

  it('catches a pool up before a control-plane hop would leave it outside the skew window', () => {
    // given a pool three minors behind (the most allowed)
    const plan = planUpgrade(
      input({ controlPlaneVersion: '1.34.5', pools: [{ id: 'np_a', name: 'old', version: '1.31.5', maxSurge: 1, maxUnavailable: 0 }], target: '1.35' }),
    );
    // then it goes to 1.34 before the control plane goes to 1.35
    expect(plan.hops[0]!.steps.map((s) => `${s.kind} ${'to' in s ? s.to : ''}`)).toEqual([
      'node_pool_catch_up 1.34.5',
      'control_plane 1.35.5',
      'node_pool 1.35.5',
    ]);
    expect(plan.hops[0]!.steps.every((s) => s.skew.ok)).toBe(true);
  });

  it('names the add-on changes of a hop', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.32.5', pools: [], target: '1.33' }));
    const addons = plan.hops[0]!.steps.find((s) => s.kind === 'addons');
    expect(addons).toMatchObject({ changes: expect.arrayContaining([{ name: 'coredns', from: '1.11.3', to: '1.14.6' }]) });
  });

  it('blocks on objects using an API removed on the way, naming each with its replacement', () => {
    const objects = [
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'FlowSchema', name: 'custom' },
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'web', name: 'shop' },
    ];
    const plan = planUpgrade(input({ controlPlaneVersion: '1.31.5', pools: [], target: '1.33', objects }));
    expect(plan.blockers).toEqual([
      expect.objectContaining({
        kind: 'removed_api',
        details: expect.objectContaining({ name: 'custom', removed_in: '1.32', replacement: 'flowcontrol.apiserver.k8s.io/v1' }),
      }),
    ]);
  });

  it('says so when no removed-API scan has run, instead of claiming none were found', () => {
    const plan = planUpgrade(input({ objects: null, disruptionBudgets: null }));
    expect(plan.removedApiScan).toEqual({ ran: false, note: expect.stringContaining('no removed-API scan has run') });
    expect(plan.disruptionBudgetScan.ran).toBe(false);
  });

  it('blocks on add-ons with no version for a minor on the path', () => {
    // the managed add-ons are qualified up to 1.36
    const plan = planUpgrade(input({ controlPlaneVersion: '1.36.5', pools: [], target: '1.37' }));
    expect(plan.blockers.map((b) => b.kind)).toContain('addon_incompatible');
  });

  it('blocks on an optional add-on the cluster enabled when the catalogue rows have no release of it for a minor on the path', () => {
    const releases = ADDON_CATALOGUE_SEED.releases;
    const enabled = [...defaultAddonNames(releases), 'argo-cd', 'keda'];
    const plan = planUpgrade(input({ controlPlaneVersion: '1.35.2', pools: [], target: '1.36', addons: { releases, enabled } }));
    expect(plan.blockers).toEqual([
      expect.objectContaining({ kind: 'addon_incompatible', details: { minor: '1.36', addons: ['argo-cd'] }, reason: expect.stringContaining('argo-cd') }),
    ]);
    // the same path for a cluster without Argo CD is clear, and a staff-added release clears it too
    expect(planUpgrade(input({ controlPlaneVersion: '1.35.2', pools: [], target: '1.36', addons: { releases, enabled: ['keda'] } })).blockers).toEqual([]);
    const argo = releases.find((r) => r.name === 'argo-cd')!;
    const widened = [...releases, { ...argo, version: '9.9.0', minMinor: '1.34', maxMinor: '1.36' }];
    const cleared = planUpgrade(input({ controlPlaneVersion: '1.35.2', pools: [], target: '1.36', addons: { releases: widened, enabled } }));
    expect(cleared.blockers).toEqual([]);
  });

  it('blocks on a PodDisruptionBudget that allows no disruption, and on pools already outside skew', () => {
    const plan = planUpgrade(
      input({
        pools: [{ id: 'np_a', name: 'ahead', version: '1.35.1', maxSurge: 1, maxUnavailable: 0 }],
        disruptionBudgets: [
          { namespace: 'db', name: 'postgres', disruptionsAllowed: 0, expectedPods: 3 },
          { namespace: 'web', name: 'shop', disruptionsAllowed: 1, expectedPods: 3 },
        ],
      }),
    );
    expect(plan.blockers.map((b) => `${b.kind} ${JSON.stringify(b.details.name ?? b.details.pool)}`)).toEqual([
      'pool_outside_skew "ahead"',
      'pdb_blocks_drain "postgres"',
    ]);
  });

  it('blocks during an active exclusion whose scope covers the work, not otherwise', () => {
    const during = { startsAt: new Date('2026-12-01T00:00:00Z'), endsAt: new Date('2026-12-10T00:00:00Z') };
    expect(planUpgrade(input({ exclusions: [{ ...during, scope: 'no_minor_upgrades' }] })).blockers.map((b) => b.kind)).toEqual(['active_exclusion']);
    // a patch upgrade is allowed under no_minor_upgrades
    expect(planUpgrade(input({ target: '1.34.5', exclusions: [{ ...during, scope: 'no_minor_upgrades' }] })).blockers).toEqual([]);
    // an exclusion that has ended blocks nothing
    const past = { startsAt: new Date('2026-11-01T00:00:00Z'), endsAt: new Date('2026-11-10T00:00:00Z'), scope: 'no_upgrades' as const };
    expect(planUpgrade(input({ exclusions: [past] })).blockers).toEqual([]);
  });

  it('refuses a downgrade, naming the rule', () => {
    const error = caught(() => planUpgrade(input({ target: '1.33' })));
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect(error.type).toBe('version-downgrade');
    expect(error.extensions).toMatchObject({ rule: 'never downgrade' });
  });

  it('refuses a path that would skip a minor missing from the catalogue, naming the rule', () => {
    const error = caught(() => planUpgrade(input({ catalogue: catalogue(30, 37, [35]) })));
    expect(error.type).toBe('version-skip');
    expect(error.extensions).toMatchObject({ rule: 'one minor at a time', missing_minor: '1.35' });
  });

  it('refuses a version the catalogue does not offer, and the version the cluster already runs', () => {
    expect(caught(() => planUpgrade(input({ target: '1.36.1' }))).type).toBe('version-not-offered');
    expect(caught(() => planUpgrade(input({ controlPlaneVersion: '1.36.5', pools: [], target: '1.36' }))).type).toBe('already-at-version');
  });

  it('refuses a single control-plane move that skips or goes back', () => {
    expect(() => assertSingleMinorHop('1.34.2', '1.35.5')).not.toThrow();
    expect(caught(() => assertSingleMinorHop('1.34.2', '1.36.1')).type).toBe('version-skip');
    expect(caught(() => assertSingleMinorHop('1.34.2', '1.33.9')).type).toBe('version-downgrade');
  });
});

describe('planUpgrade properties', () => {
  const LO = 20;
  const HI = 40;
  const scenario = fc.integer({ min: LO, max: HI }).chain((cp) =>
    fc.record({
      cp: fc.constant(cp),
      pools: fc.array(fc.integer({ min: Math.max(LO, cp - MAX_KUBELET_SKEW), max: cp }), { minLength: 0, maxLength: 4 }),
      target: fc.integer({ min: LO, max: HI }),
    }),
  );

  it('any plan between two catalogue versions has no skipped minor, respects skew after every step and ends at the target', () => {
    fc.assert(
      fc.property(scenario, ({ cp, pools, target }) => {
        const request = input({
          controlPlaneVersion: `1.${cp}.0`,
          pools: pools.map((m, i) => ({ id: `np_${i}`, name: `p${i}`, version: `1.${m}.0`, maxSurge: 1, maxUnavailable: 0 })),
          target: `1.${target}`,
          catalogue: catalogue(LO, HI),
        });
        if (target < cp) {
          // downgrades are refused, naming the rule
          const error = caught(() => planUpgrade(request));
          expect(error.type).toBe('version-downgrade');
          return;
        }
        const plan = planUpgrade(request);
        let minor = cp;
        for (const hop of plan.hops) {
          const cpSteps = hop.steps.filter((s) => s.kind === 'control_plane');
          for (const step of cpSteps) {
            const next = Number(step.to.split('.')[1]);
            expect(next - minor).toBeLessThanOrEqual(1);
            expect(next).toBeGreaterThanOrEqual(minor);
            minor = next;
          }
          // the control plane moves before any pool reaches its new version
          const cpIndex = hop.steps.findIndex((s) => s.kind === 'control_plane');
          hop.steps.forEach((s, i) => {
            if (s.kind === 'node_pool') expect(i).toBeGreaterThan(cpIndex);
          });
          for (const step of hop.steps) expect(step.skew.violations).toEqual([]);
        }
        expect(plan.to).toBe(`1.${target}.5`);
        expect(minor).toBe(target);
        // every pool ends at the target
        const last = new Map<string, string>();
        for (const hop of plan.hops) for (const s of hop.steps) if ('pool' in s) last.set(s.pool, s.to);
        pools.forEach((_, i) => expect(last.get(`p${i}`)).toBe(`1.${target}.5`));
      }),
      { numRuns: 300 },
    );
  });

  it('skewCheck accepts exactly the pools 0..3 minors behind the control plane', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 40 }), fc.integer({ min: 5, max: 45 }), (cp, node) => {
        const ok = skewCheck(`1.${cp}.0`, [{ name: 'p', version: `1.${node}.0` }]).ok;
        expect(ok).toBe(node <= cp && cp - node <= MAX_KUBELET_SKEW);
      }),
    );
  });
});
