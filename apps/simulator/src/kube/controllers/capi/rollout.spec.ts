import { machineName, planRollingUpdate, resolveFenceposts, templateHash, type MachineSetCounts } from './rollout';

const set = (name: string, desired: number, available = desired): MachineSetCounts => ({ name, desired, available });

/** Runs a rollout to the end: every machine asked for becomes available at once, as the emulator makes them one step later. */
function rollToCompletion(replicas: number, maxSurge: unknown, maxUnavailable: unknown, oldReplicas: number) {
  const fence = resolveFenceposts(replicas, maxSurge, maxUnavailable);
  let next = set('new', 0, 0);
  let old = set('old', oldReplicas);
  const totals: number[] = [];
  const availability: number[] = [];
  for (let round = 0; round < 50 && (next.desired !== replicas || old.desired !== 0); round++) {
    const plan = planRollingUpdate(replicas, fence, next, [old]).scale;
    next = { ...next, desired: plan.get('new') ?? next.desired };
    old = { ...old, desired: plan.get('old') ?? old.desired, available: Math.min(old.available, plan.get('old') ?? old.desired) };
    totals.push(next.desired + old.desired);
    availability.push(next.available + old.available);
    next = { ...next, available: next.desired };
  }
  return { next, old, totals, availability };
}

describe('a MachineDeployment rolling update', () => {
  it('surges one machine at a time and never drops below the wanted count with maxSurge 1, maxUnavailable 0', () => {
    const { next, old, totals, availability } = rollToCompletion(3, 1, 0, 3);
    expect(next.desired).toBe(3);
    expect(old.desired).toBe(0);
    expect(Math.max(...totals)).toBe(4);
    expect(Math.min(...availability)).toBeGreaterThanOrEqual(3);
  });

  it('replaces in place with maxSurge 0, maxUnavailable 1, never exceeding the wanted count', () => {
    const { next, old, totals, availability } = rollToCompletion(3, 0, 1, 3);
    expect([next.desired, old.desired]).toEqual([3, 0]);
    expect(Math.max(...totals)).toBe(3);
    expect(Math.min(...availability)).toBeGreaterThanOrEqual(2);
  });

  it('scales up the new set within the surge and keeps old machines while new ones are unavailable', () => {
    const fence = resolveFenceposts(2, 1, 0);
    const plan = planRollingUpdate(2, fence, set('new', 1, 0), [set('old', 2)]).scale;
    expect(plan.size).toBe(0);
  });

  it('scales a deployment without old sets straight to its replicas, up or down', () => {
    const fence = resolveFenceposts(5, 1, 0);
    expect(planRollingUpdate(5, fence, set('new', 2), []).scale.get('new')).toBe(5);
    expect(planRollingUpdate(1, resolveFenceposts(1, 1, 0), set('new', 4), []).scale.get('new')).toBe(1);
  });

  it('resolves percentages as upstream: surge rounds up, unavailable down, and both zero means one unavailable', () => {
    expect(resolveFenceposts(10, '25%', '25%')).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(resolveFenceposts(3, 0, 0)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(resolveFenceposts(3, undefined, undefined)).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });
});

describe('names of emulated objects', () => {
  it('hashes a template independently of key order, and differently for another version', () => {
    expect(templateHash({ a: 1, version: 'v1.35.0' })).toBe(templateHash({ version: 'v1.35.0', a: 1 }));
    expect(templateHash({ version: 'v1.35.0' })).not.toBe(templateHash({ version: 'v1.36.0' }));
  });

  it('names machines like upstream, the same for the same slot and differently for another', () => {
    expect(machineName('pool-a-1234', 0)).toMatch(/^pool-a-1234-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(machineName('pool-a-1234', 0)).toBe(machineName('pool-a-1234', 0));
    expect(machineName('pool-a-1234', 1)).not.toBe(machineName('pool-a-1234', 0));
  });
});
