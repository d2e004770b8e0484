import { stepKindOf, stepKinds } from '../operations/operation-plans';
import type { VersionCatalogueEntry } from '../catalogue/kubernetes-versions';
import { planUpgrade } from './upgrade-planner';
import { rollbackOperationSteps, upgradeOperationSteps, upgradeStepSpec } from './upgrade-execution';

const entry = (minor: string): VersionCatalogueEntry => ({
  provider: 'rke2',
  minor,
  latestPatch: `${minor}.5`,
  releasedAt: '2025-01-01',
  maintenanceAt: null,
  standardSupportEndsAt: null,
  endOfSupportAt: '2035-01-01',
  sources: { releasedAt: 'test', endOfSupportAt: 'test', latestPatch: 'test' } as VersionCatalogueEntry['sources'],
});

describe('upgradeOperationSteps', () => {
  const plan = planUpgrade({
    provider: 'rke2',
    controlPlaneVersion: '1.34.2',
    pools: [
      { id: 'np_a', name: 'apps', version: '1.34.2', maxSurge: 1, maxUnavailable: 0 },
      { id: 'np_b', name: 'batch', version: '1.34.2', maxSurge: 0, maxUnavailable: 1 },
    ],
    target: '1.36',
    catalogue: ['1.34', '1.35', '1.36'].map(entry),
    now: new Date('2026-01-01'),
    objects: [],
    disruptionBudgets: null,
    exclusions: [],
  });

  it('runs the preflight, then per hop an etcd snapshot and the control plane before each pool, then marks the cluster', () => {
    expect(upgradeOperationSteps(plan).map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      'backup_before_hop:1.35.5',
      'upgrade_control_plane:1.35.5',
      'upgrade_node_pool:apps:1.35.5',
      'upgrade_node_pool:batch:1.35.5',
      'backup_before_hop:1.36.5',
      'upgrade_control_plane:1.36.5',
      'upgrade_node_pool:apps:1.36.5',
      'upgrade_node_pool:batch:1.36.5',
      'mark_upgraded',
    ]);
  });

  it('names only step kinds the engine checks handlers for, each name unique, each spec found by its name', () => {
    const steps = upgradeOperationSteps(plan);
    expect(new Set(steps.map((s) => s.name)).size).toBe(steps.length);
    for (const step of steps) {
      expect(stepKinds('upgrade_cluster')).toContain(stepKindOf(step.name));
      expect(upgradeStepSpec({ steps }, step.name)).toEqual(step);
    }
    expect(upgradeStepSpec({ steps }, 'upgrade_node_pool:other:1.36.5')).toBeUndefined();
    expect(upgradeStepSpec(null, 'mark_upgraded')).toBeUndefined();
  });

  it('reinstalls the managed add-ons after a hop whose minor changes their versions', () => {
    const across = planUpgrade({
      provider: 'rke2',
      controlPlaneVersion: '1.32.1',
      pools: [{ id: 'np_a', name: 'apps', version: '1.32.1', maxSurge: 1, maxUnavailable: 0 }],
      target: '1.33',
      catalogue: ['1.32', '1.33'].map(entry),
      now: new Date('2026-01-01'),
      objects: [],
      disruptionBudgets: null,
      exclusions: [],
    });
    const steps = upgradeOperationSteps(across);
    expect(steps.map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      'backup_before_hop:1.33.5',
      'upgrade_control_plane:1.33.5',
      'upgrade_node_pool:apps:1.33.5',
      'upgrade_addons:1.33.5',
      'mark_upgraded',
    ]);
    expect(steps[4]).toMatchObject({ kind: 'upgrade_addons' });
    expect(steps[4]!.kind === 'upgrade_addons' && steps[4]!.changes).toContainEqual({ name: 'coredns', from: '1.11.3', to: '1.14.6' });
  });

  it("moves the provider's own system pool after the customer's pools of each hop, before the hop's add-ons", () => {
    expect(upgradeOperationSteps(plan, { systemPool: 'capstan-system' }).map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      'backup_before_hop:1.35.5',
      'upgrade_control_plane:1.35.5',
      'upgrade_node_pool:apps:1.35.5',
      'upgrade_node_pool:batch:1.35.5',
      'upgrade_system_pool:capstan-system:1.35.5',
      'backup_before_hop:1.36.5',
      'upgrade_control_plane:1.36.5',
      'upgrade_node_pool:apps:1.36.5',
      'upgrade_node_pool:batch:1.36.5',
      'upgrade_system_pool:capstan-system:1.36.5',
      'mark_upgraded',
    ]);
    const across = planUpgrade({
      provider: 'rke2',
      controlPlaneVersion: '1.32.1',
      pools: [{ id: 'np_a', name: 'apps', version: '1.32.1', maxSurge: 1, maxUnavailable: 0 }],
      target: '1.33',
      catalogue: ['1.32', '1.33'].map(entry),
      now: new Date('2026-01-01'),
      objects: [],
      disruptionBudgets: null,
      exclusions: [],
    });
    expect(upgradeOperationSteps(across, { systemPool: 'capstan-system' }).map((s) => s.name)).toEqual([
      'preflight_removed_apis',
      'backup_before_hop:1.33.5',
      'upgrade_control_plane:1.33.5',
      'upgrade_node_pool:apps:1.33.5',
      'upgrade_system_pool:capstan-system:1.33.5',
      'upgrade_addons:1.33.5',
      'mark_upgraded',
    ]);
  });
});

describe('rollbackOperationSteps', () => {
  it('moves each pool back to the version it ran, then marks the cluster at its control plane, with kinds the engine knows', () => {
    const steps = rollbackOperationSteps('op_x', [{ poolId: 'np_a', pool: 'apps', from: '1.36.5', to: '1.35.5' }], '1.36.5');
    expect(steps).toEqual([
      { name: 'rollback_node_pool:apps:1.35.5', kind: 'rollback_node_pool', poolId: 'np_a', pool: 'apps', from: '1.36.5', to: '1.35.5', rollbackOf: 'op_x' },
      { name: 'mark_upgraded', kind: 'mark_upgraded', version: '1.36.5' },
    ]);
    for (const step of steps) expect(stepKinds('upgrade_cluster')).toContain(stepKindOf(step.name));
  });
});
