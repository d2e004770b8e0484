import { upgradeOperationSteps, planUpgrade, type VersionCatalogueEntry } from '@capstan/domain';
import { missingStepHandlers, NeedsAttentionError, type OperationStepSet, type StepContext } from '@capstan/operations';
import { EngineConfig } from '@capstan/platform';
import type { InfrastructureDriver, ProviderOperation, ProviderOperationStatus } from '@capstan/providers';
import { UpgradeOperationSteps, UpgradeStepError } from './upgrade-operation-steps';
import type { UpgradeVersions } from './upgrade-versions';

const DRAIN_TIMEOUT_MS = 600_000;
const engine = new EngineConfig(1, 1, 1, 1, 1_000, 1_000, undefined, undefined, undefined, undefined, undefined, DRAIN_TIMEOUT_MS);

const recorded: string[] = [];
const versions: UpgradeVersions = {
  controlPlaneAt: async (_c, v) => void recorded.push(`cp@${v}`),
  nodePoolAt: async (_c, p, v) => void recorded.push(`${p}@${v}`),
  upgraded: async (_c, v) => void recorded.push(`upgraded@${v}`),
  // No add-on records for the cluster: the step falls back to the catalogue's managed set.
  addonsAt: async () => null,
};
const handlers = new UpgradeOperationSteps(versions, engine).stepSets().upgrade_cluster!.steps;

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
const plan = planUpgrade({
  provider: 'rke2',
  controlPlaneVersion: '1.35.2',
  pools: [{ id: 'np_01jd3z6q4e5k8w2x9v7b0c1n2m', name: 'apps', version: '1.35.2', maxSurge: 1, maxUnavailable: 0 }],
  target: '1.36',
  catalogue: ['1.35', '1.36'].map(entry),
  now: new Date('2026-01-01'),
  objects: [],
  disruptionBudgets: null,
  exclusions: [],
});
const params = { steps: upgradeOperationSteps(plan) };

/** Where the fake provider's rollout stands, and a wait that yields (throws) when the probe has nothing. */
function context(
  stepName: string,
  status: ProviderOperationStatus,
  options: { now: string; stepState?: Record<string, unknown>; checkpoints?: Record<string, unknown> },
) {
  const handle: ProviderOperation = { provider: 'rke2', kind: 'capi-rollout', name: 'MachineDeployment/x', target: 'c/p', version: '1.36.5' };
  const driver = {
    upgradeNodePool: async () => handle,
    upgradeControlPlane: async () => handle,
    getOperation: async () => status,
  } as unknown as InfrastructureDriver;
  const recordedState: Record<string, unknown>[] = [];
  const ctx = {
    operation: { id: 'op_01jd3z6q4e5k8w2x9v7b0c1n2m', params },
    cluster: { id: 'cl_01jd3z6q4e5k8w2x9v7b0c1n2m' },
    step: { position: 2, name: stepName },
    infrastructure: () => driver,
    clock: { now: () => new Date(options.now) },
    stepState: options.stepState ?? {},
    checkpoints: options.checkpoints ?? {},
    waitFor: async <T>(_what: string, probe: () => Promise<T | undefined>, state?: Record<string, unknown>) => {
      const value = await probe();
      if (value !== undefined) return value;
      recordedState.push({ ...state });
      throw new Error('yielded');
    },
  } as unknown as StepContext;
  return { ctx, recordedState };
}

const blockedDrain: ProviderOperationStatus = {
  done: false,
  progress: '0 of 1 machines at 1.36.5; draining node-a',
  nodes: [{ machine: 'm-a', node: 'node-a', version: '1.35.5', state: 'draining' }],
  drains: [
    {
      machine: 'm-a',
      node: 'node-a',
      since: '2026-12-04T20:00:00Z',
      message: 'Drain not completed yet',
      pods: [{ namespace: 'shop', name: 'web-0', reason: 'The disruption budget web needs 1 healthy pods and has 1 currently' }],
      budgets: [{ namespace: 'shop', name: 'web' }],
    },
  ],
};

describe('UpgradeOperationSteps', () => {
  it('registers upgrade_cluster with a handler for every step kind an upgrade plan can contain but the pre-upgrade snapshot', () => {
    const sets = new Map(Object.entries(new UpgradeOperationSteps({} as UpgradeVersions, engine).stepSets()) as [string, OperationStepSet][]);
    expect([...sets.keys()]).toEqual(['upgrade_cluster']);
    // The snapshot before each minor hop is registered by libs/backups (BackupOperationSteps).
    expect(missingStepHandlers(sets, ['upgrade_cluster'])).toEqual(['upgrade_cluster: backup_before_hop']);
  });

  it('records node-level progress with the wait while a drain is younger than the drain timeout', async () => {
    const { ctx, recordedState } = context('upgrade_node_pool:apps:1.36.5', blockedDrain, { now: '2026-12-04T20:05:00Z' });
    await expect(handlers.upgrade_node_pool!(ctx)).rejects.toThrow('yielded');
    expect(recordedState[0]).toMatchObject({
      progress: { summary: blockedDrain.progress, nodes: [{ state: 'draining' }] },
      watchingSince: '2026-12-04T20:05:00.000Z',
    });
  });

  it('pauses as needs_attention past the drain timeout, naming the budget, the pod and the node', async () => {
    const { ctx } = context('upgrade_node_pool:apps:1.36.5', blockedDrain, {
      now: '2026-12-04T20:10:00Z',
      stepState: { watchingSince: '2026-12-04T19:50:00Z' },
    });
    const error = await handlers.upgrade_node_pool!(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeedsAttentionError);
    expect((error as NeedsAttentionError).message).toContain(
      'draining node node-a is blocked by PodDisruptionBudget shop/web, which allows no eviction of pod shop/web-0',
    );
    expect((error as NeedsAttentionError).details).toMatchObject({
      reason: 'drain_blocked',
      step: 'upgrade_node_pool:apps:1.36.5',
      drains: [{ node: 'node-a', budgets: [{ namespace: 'shop', name: 'web' }] }],
      progress: { summary: blockedDrain.progress },
    });
  });

  it('says how long the drain waited as the setting reads: minutes, or seconds under a minute', async () => {
    const { ctx } = context('upgrade_node_pool:apps:1.36.5', blockedDrain, {
      now: '2026-12-04T20:10:00Z',
      stepState: { watchingSince: '2026-12-04T19:50:00Z' },
    });
    expect(((await handlers.upgrade_node_pool!(ctx).catch((e: unknown) => e)) as Error).message).toContain('has not finished in 10 min');
    const short = new EngineConfig(1, 1, 1, 1, 1_000, 1_000, undefined, undefined, undefined, undefined, undefined, 15_000);
    const shortHandlers = new UpgradeOperationSteps(versions, short).stepSets().upgrade_cluster!.steps;
    const again = context('upgrade_node_pool:apps:1.36.5', blockedDrain, { now: '2026-12-04T20:10:00Z', stepState: { watchingSince: '2026-12-04T19:50:00Z' } });
    expect(((await shortHandlers.upgrade_node_pool!(again.ctx).catch((e: unknown) => e)) as Error).message).toContain('has not finished in 15 s');
  });

  it('gives a resumed step a full drain timeout again before it asks once more', async () => {
    // The drain started long ago, but the step (re)started watching two minutes ago.
    const { ctx } = context('upgrade_node_pool:apps:1.36.5', blockedDrain, {
      now: '2026-12-04T21:02:00Z',
      stepState: { watchingSince: '2026-12-04T21:00:00Z' },
    });
    await expect(handlers.upgrade_node_pool!(ctx)).rejects.toThrow('yielded');
  });

  it('names the backup taken before a failed control-plane hop', async () => {
    const failed: ProviderOperationStatus = { done: true, error: { message: 'etcd member did not join', retryable: false, code: 'rollout_failed' } };
    const { ctx } = context('upgrade_control_plane:1.36.5', failed, {
      now: '2026-12-04T20:00:00Z',
      checkpoints: { 'backup_before_hop:1.36.5': { backupId: 'bk_01jd3z6q4e5k8w2x9v7b0c1n2m' } },
    });
    const error = await handlers.upgrade_control_plane!(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpgradeStepError);
    expect((error as UpgradeStepError).message).toContain('The backup taken before this hop is bk_01jd3z6q4e5k8w2x9v7b0c1n2m');
    expect((error as UpgradeStepError).details).toEqual({
      control_plane: { from: '1.35.2', to: '1.36.5' },
      backup_before_hop: { step: 'backup_before_hop:1.36.5', backupId: 'bk_01jd3z6q4e5k8w2x9v7b0c1n2m' },
    });
    const without = context('upgrade_control_plane:1.36.5', failed, { now: '2026-12-04T20:00:00Z' });
    expect(((await handlers.upgrade_control_plane!(without.ctx).catch((e: unknown) => e)) as UpgradeStepError).details).toMatchObject({
      backup_before_hop: null,
    });
    expect(recorded).not.toContain('cp@1.36.5');
  });
});
