/**
 * Upgrade cases outside the session-8 suites (docs/upgrades.md, "Version skew", "Upgrade plans",
 * "When an upgrade fails"; docs/addons.md, "Upgrades"). Each case names its public source.
 */
import { VERSION_CATALOGUE, type VersionCatalogueEntry } from '../catalogue/kubernetes-versions';
import { caught } from '../test/thrown';
import { DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE } from '../node-pools/surge';
import { upgradeOperationSteps } from './upgrade-execution';
import { planUpgrade, type PlannedPool, type UpgradePlanInput } from './upgrade-planner';

const NOW = new Date('2026-12-06T12:00:00Z');
const src = { releasedAt: 't', maintenanceAt: 't', endOfSupportAt: 't', latestPatch: 't' };
/** RKE2 minors 1.lo..1.hi, all supported on NOW, latest patch .5 */
const supported = (lo: number, hi: number): VersionCatalogueEntry[] =>
  Array.from({ length: hi - lo + 1 }, (_, i) => ({
    provider: 'rke2' as const,
    minor: `1.${lo + i}`,
    latestPatch: `1.${lo + i}.5`,
    releasedAt: '2025-01-01',
    maintenanceAt: '2029-01-01',
    standardSupportEndsAt: null,
    endOfSupportAt: '2029-03-01',
    sources: src,
  }));
const pool = (name: string, version: string): PlannedPool => ({ id: `np_${name}`, name, version, maxSurge: 1, maxUnavailable: 0 });
const input = (o: Partial<UpgradePlanInput>): UpgradePlanInput => ({
  provider: 'rke2',
  controlPlaneVersion: '1.34.5',
  pools: [pool('default', '1.34.5')],
  target: '1.35',
  catalogue: supported(28, 37),
  now: NOW,
  objects: [],
  disruptionBudgets: [],
  exclusions: [],
  ...o,
});
const minor = (v: string) => Number(v.split('.')[1]);

// kubernetes.io/releases/version-skew-policy: kubelet may be up to three minors older than
// kube-apiserver and never newer; before the control plane goes N -> N+1, nodes must be at N-2 or newer.
describe('version skew around a control-plane hop', () => {
  it('lets the control plane go N -> N+1 over a pool at N-2 without moving the pool first', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.34.5', pools: [pool('old', '1.32.5')], target: '1.35' }));
    expect(plan.blockers).toEqual([]);
    const [first] = plan.hops[0]!.steps;
    expect(first).toMatchObject({ kind: 'control_plane', from: '1.34.5', to: '1.35.5' });
    // right after the control plane the pool is three minors behind: allowed
    expect(first!.skew).toEqual({ ok: true, controlPlane: '1.35.5', violations: [] });
  });

  it('does not let the control plane leave a pool at N-3 four minors behind: the plan brings that pool, by name, to N first', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.34.5', pools: [pool('legacy', '1.31.5'), pool('fresh', '1.34.5')], target: '1.35' }));
    const kinds = plan.hops[0]!.steps.map((s) => ('pool' in s ? `${s.kind}:${s.pool}` : s.kind));
    expect(kinds.slice(0, 2)).toEqual(['node_pool_catch_up:legacy', 'control_plane']);
    expect(plan.hops[0]!.steps[0]).toMatchObject({ pool: 'legacy', from: '1.31.5', to: '1.34.5' });
    // and the step list the operation runs keeps that order: the pool, then the snapshot, then the control plane
    const names = upgradeOperationSteps(plan).map((s) => s.name);
    expect(names.indexOf('upgrade_node_pool:legacy:1.34.5')).toBeLessThan(names.indexOf('upgrade_control_plane:1.35.5'));
  });

  it('blocks, naming the pool, when a pool is already more than three minors behind (N-4)', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.34.5', pools: [pool('ancient', '1.30.5')], target: '1.35' }));
    expect(plan.blockers).toEqual([
      expect.objectContaining({
        kind: 'pool_outside_skew',
        reason: expect.stringContaining('node pool ancient'),
        details: { pool: 'ancient', version: '1.30.5' },
      }),
    ]);
  });

  it('plans 1.33 -> 1.36 with pools at 1.33 as three hops, each pool following its control plane, never newer, never four behind', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.33.5', pools: [pool('a', '1.33.5'), pool('b', '1.33.5')], target: '1.36' }));
    expect(plan.hops.map((h) => h.to)).toEqual(['1.34.5', '1.35.5', '1.36.5']);
    for (const hop of plan.hops) {
      const work = hop.steps.filter((s) => s.kind !== 'addons');
      expect(work.map((s) => ('pool' in s ? `${s.kind}:${s.pool}:${s.to}` : `${s.kind}:${s.to}`))).toEqual([
        `control_plane:${hop.to}`,
        `node_pool:a:${hop.to}`,
        `node_pool:b:${hop.to}`,
      ]);
    }
    for (const step of plan.hops.flatMap((h) => h.steps)) {
      expect(step.skew.violations).toEqual([]);
    }
  });

  it('never plans a pool step above the control plane of its moment, over every mix of pool versions within the window', () => {
    for (const cp of [31, 32, 33, 34]) {
      for (const lag of [0, 1, 2, 3]) {
        const plan = planUpgrade(input({ controlPlaneVersion: `1.${cp}.5`, pools: [pool('p', `1.${cp - lag}.5`)], target: '1.37' }));
        let current = cp;
        for (const step of plan.hops.flatMap((h) => h.steps)) {
          if (step.kind === 'control_plane') current = minor(step.to);
          if (step.kind === 'node_pool' || step.kind === 'node_pool_catch_up') expect(minor(step.to)).toBeLessThanOrEqual(current);
          expect(step.skew.ok).toBe(true);
        }
      }
    }
  });
});

// kubernetes.io/releases/version-skew-policy ("Supported version skew": never downgrade) and
// kubernetes.io/releases/patch-releases: a patch upgrade stays inside its minor.
describe('patches and downgrades', () => {
  it('upgrades a patch within one minor as one hop that is not a minor hop, control plane then pools', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.35.2', pools: [pool('default', '1.35.2')], target: '1.35' }));
    expect(plan.hops).toHaveLength(1);
    expect(plan.hops[0]).toMatchObject({ from: '1.35.2', to: '1.35.5', minor: false });
    expect(plan.hops[0]!.steps.map((s) => s.kind)).toEqual(['control_plane', 'node_pool']);
  });

  it('refuses a minor downgrade with 422 version-downgrade naming the rule', () => {
    const error = caught(() => planUpgrade(input({ controlPlaneVersion: '1.35.5', pools: [pool('default', '1.35.5')], target: '1.34' })));
    expect(error).toMatchObject({ kind: 'unprocessable', type: 'version-downgrade', extensions: expect.objectContaining({ rule: 'never downgrade' }) });
  });

  it('refuses a patch downgrade (the cluster runs a newer patch than the one the catalogue offers) as a downgrade, not as "already there"', () => {
    for (const target of ['1.35', '1.35.5', 'v1.35.5', 'v1.35.5+rke2r1']) {
      const error = caught(() => planUpgrade(input({ controlPlaneVersion: '1.35.6', pools: [pool('default', '1.35.6')], target })));
      expect({ target, type: error.type, rule: error.extensions.rule }).toEqual({ target, type: 'version-downgrade', rule: 'never downgrade' });
      expect(error.kind).toBe('unprocessable');
    }
  });

  it('still brings pools up to a control plane that runs a newer patch than the catalogue offers, asked for by its minor', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.35.6', pools: [pool('default', '1.35.2')], target: '1.35' }));
    expect(plan.hops.flatMap((h) => h.steps).map((s) => `${s.kind}:${'to' in s ? s.to : ''}`)).toEqual(['node_pool:1.35.6']);
  });

  it('refuses an RKE2 build revision asked at the patch the cluster runs (v1.35.5+rke2r1 on 1.35.5): the revision is not a version to move to', () => {
    // docs.rke2.io release names: "+rke2rN" is RKE2's packaging revision of one upstream patch; Capstan
    // builds every cluster with one revision (the RKE2 driver's setting), so naming another one moves nothing.
    const error = caught(() => planUpgrade(input({ controlPlaneVersion: '1.35.5', pools: [pool('default', '1.35.5')], target: 'v1.35.5+rke2r1' })));
    expect(error).toMatchObject({ kind: 'unprocessable', type: 'already-at-version', extensions: expect.objectContaining({ rule: 'upgrades move forward' }) });
    const other = caught(() => planUpgrade(input({ controlPlaneVersion: '1.35.5', pools: [pool('default', '1.35.5')], target: 'v1.35.5+rke2r2' })));
    expect(other.type).toBe('already-at-version');
  });
});

// DOMAIN: surge per pool defaults to maxSurge 1, maxUnavailable 0 (Cluster API MachineDeployment
// RollingUpdate defaults; cluster-api.sigs.k8s.io "MachineDeployment" rolling update strategy).
describe('surge defaults', () => {
  it('defaults to one surge node and none unavailable', () => {
    expect([DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE]).toEqual([1, 0]);
  });
});

// DOMAIN rule "a failed control-plane hop is rolled back only from an etcd snapshot taken right
// before it" (docs.rke2.io/datastore/backup_restore: restore is `rke2 server --cluster-reset` from a snapshot).
describe('the etcd snapshot before every control-plane change', () => {
  it('takes a snapshot right before each minor hop of the control plane', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.34.5', pools: [pool('default', '1.34.5')], target: '1.36' }));
    const names = upgradeOperationSteps(plan).map((s) => s.name);
    for (const to of ['1.35.5', '1.36.5']) expect(names[names.indexOf(`upgrade_control_plane:${to}`) - 1]).toBe(`backup_before_hop:${to}`);
  });

  it('takes one before a patch upgrade of the control plane too: a failed patch has no other way back', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.35.2', pools: [pool('default', '1.35.2')], target: '1.35' }));
    expect(upgradeOperationSteps(plan).map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      'backup_before_hop:1.35.5',
      'upgrade_control_plane:1.35.5',
      'upgrade_node_pool:default:1.35.5',
      'mark_upgraded',
    ]);
  });

  it('takes none when only pools move (the control plane is already at the target)', () => {
    const plan = planUpgrade(input({ controlPlaneVersion: '1.35.5', pools: [pool('default', '1.35.2')], target: '1.35' }));
    expect(upgradeOperationSteps(plan).map((s) => s.kind)).toEqual(['preflight_removed_apis', 'upgrade_node_pool', 'mark_upgraded']);
  });
});

// docs.rke2.io/release-notes (v1.33-v1.36 bundle CoreDNS 1.14.6, Cilium 1.19.6, etcd 3.6.14);
// kubeadm's constants (CoreDNS 1.11.3 for 1.31-1.32); docs.cilium.io/en/v1.19/network/kubernetes/compatibility
// (Cilium 1.19 tested on 1.32-1.35).
describe('managed add-ons moving with the version (shipped catalogues)', () => {
  const real = (o: Partial<UpgradePlanInput>) => planUpgrade(input({ catalogue: VERSION_CATALOGUE.entries, pools: [], ...o }));

  it('keeps CoreDNS 1.14.6 and Cilium 1.19.6 across 1.35 -> 1.36 on RKE2, and does not block the hop on Cilium', () => {
    const plan = real({ controlPlaneVersion: '1.35.5', target: '1.36' });
    expect(plan.blockers).toEqual([]);
    // the same bundled versions on both minors: nothing to change
    expect(plan.hops[0]!.steps.find((s) => s.kind === 'addons')).toBeUndefined();
  });

  it('blocks a hop to 1.37 (a preview) on the add-ons with no release qualified for it, naming them', () => {
    const plan = real({ controlPlaneVersion: '1.36.4', target: '1.37' });
    const blocker = plan.blockers.find((b) => b.kind === 'addon_incompatible');
    expect(blocker?.details).toMatchObject({ minor: '1.37', addons: expect.arrayContaining(['cilium', 'coredns']) });
  });
});
