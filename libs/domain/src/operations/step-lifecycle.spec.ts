import { canTransitionStep, stepStatusesBefore } from './step-lifecycle';

describe('step lifecycle', () => {
  it('starts a step that is pending, failed (a retry) or running (a resumed wait or a crash)', () => {
    expect(stepStatusesBefore('running').sort()).toEqual(['failed', 'pending', 'running']);
  });

  it('compensates only what succeeded, and skips only what never finished', () => {
    expect(stepStatusesBefore('compensated')).toEqual(['succeeded']);
    expect(stepStatusesBefore('skipped').sort()).toEqual(['failed', 'pending', 'running']);
    expect(canTransitionStep('succeeded', 'skipped')).toBe(false);
    expect(canTransitionStep('pending', 'compensated')).toBe(false);
  });

  it('never moves a compensated or skipped step again', () => {
    for (const to of ['pending', 'running', 'succeeded', 'failed', 'skipped', 'compensated'] as const) {
      expect(canTransitionStep('compensated', to)).toBe(false);
      expect(canTransitionStep('skipped', to)).toBe(false);
    }
  });
});
