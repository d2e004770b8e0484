import { EngineConfig } from '@capstan/platform';
import { ManualClock } from '@capstan/platform';
import type { StepContext } from '@capstan/operations';
import type { ProviderOperation } from '@capstan/providers';
import { UpgradeOperationSteps } from './upgrade-operation-steps';
import type { UpgradeVersions } from './upgrade-versions';

/**
 * The window gate at step boundaries (docs/upgrades.md, "Starting in the next window"): a step of
 * an upgrade bound to a window starts its change only inside an occurrence with time left, and a
 * step whose change has started is never held back. The context is a stand-in recording what the
 * step asked of the engine and the driver; no database is involved.
 */
describe('upgrade steps bound to a maintenance window', () => {
  const window = { timeZone: 'Europe/Zurich', days: ['SA'], startTime: '22:00', durationMinutes: 240 };
  const params = {
    from: '1.35.1',
    target: '1.35.5',
    window,
    steps: [{ name: 'upgrade_control_plane:1.35.5', kind: 'upgrade_control_plane', from: '1.35.1', to: '1.35.5' }],
  };

  function context(now: string, stepState: Record<string, unknown> = {}) {
    const calls: string[] = [];
    const handle: ProviderOperation = { id: 'prov-op-1', kind: 'upgrade_control_plane' } as unknown as ProviderOperation;
    const ctx = {
      operation: { id: 'op_1', params, steps: [] },
      cluster: { id: 'cl_1' },
      step: { position: 0, name: 'upgrade_control_plane:1.35.5' },
      clock: new ManualClock(new Date(now)),
      stepState,
      infrastructure: () => ({
        upgradeControlPlane: async () => {
          calls.push('upgradeControlPlane');
          return handle;
        },
        getOperation: async () => ({ done: true }),
      }),
      waitUntil: async (what: string, at: Date) => {
        calls.push(`waitUntil ${at.toISOString()}`);
        throw new Error(`yield: ${what}`);
      },
      waitFor: async <T>(_what: string, probe: () => Promise<T | undefined>) => (await probe())!,
    } as unknown as StepContext;
    return { ctx, calls };
  }

  const versions = { controlPlaneAt: async () => undefined } as unknown as UpgradeVersions;
  const handler = new UpgradeOperationSteps(versions, new EngineConfig(1, 1, 1, 1, 1_000, 1_000)).stepSets().upgrade_cluster!.steps.upgrade_control_plane!;

  it('waits for the next occurrence when the window is closed, without starting anything', async () => {
    const { ctx, calls } = context('2026-12-10T12:00:00Z');
    await expect(handler(ctx)).rejects.toThrow('yield: the next maintenance window');
    // Saturday 2026-12-12 22:00 in Zurich
    expect(calls).toEqual(['waitUntil 2026-12-12T21:00:00.000Z']);
  });

  it('waits when too little of the window is left to start a step', async () => {
    const { ctx, calls } = context('2026-12-13T00:45:00Z');
    await expect(handler(ctx)).rejects.toThrow('yield');
    expect(calls).toEqual(['waitUntil 2026-12-19T21:00:00.000Z']);
  });

  it('starts inside the window', async () => {
    const { ctx, calls } = context('2026-12-12T21:10:00Z');
    await handler(ctx);
    expect(calls).toEqual(['upgradeControlPlane']);
  });

  it('never holds back a step whose change has started, even past the window', async () => {
    const { ctx, calls } = context('2026-12-13T03:00:00Z', { operation: { id: 'prov-op-1' } });
    await handler(ctx);
    expect(calls).toEqual([]);
  });
});
