import { DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE, nodeCountOf, validateNodePoolSize, validateSurge } from './surge';
import { validationError } from '../test/thrown';

describe('validateSurge', () => {
  it('accepts the defaults (surge 1, unavailable 0)', () => {
    expect(() => validateSurge(DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE)).not.toThrow();
    expect(() => validateSurge(0, 1)).not.toThrow();
  });

  it('refuses surge and unavailable both 0, because an upgrade could never progress', () => {
    const error = validationError(() => validateSurge(0, 0));
    expect(error.violations).toEqual([{ field: 'max_surge', message: expect.stringContaining('cannot both be 0') }]);
  });

  it('refuses negative and fractional values, naming the field', () => {
    expect(validationError(() => validateSurge(-1, 0)).violations.map((v) => v.field)).toEqual(['max_surge']);
    expect(validationError(() => validateSurge(1, -2)).violations.map((v) => v.field)).toEqual(['max_unavailable']);
    expect(validationError(() => validateSurge(1.5, 0)).violations[0].message).toContain('got 1.5');
  });
});

describe('nodeCountOf', () => {
  it('charges a fixed pool its node count', () => {
    expect(nodeCountOf({ nodeCount: 3 })).toBe(3);
    expect(nodeCountOf({ nodeCount: 3, autoscaleMin: null, autoscaleMax: null })).toBe(3);
  });

  it('charges an autoscaling pool its maximum, since it may grow without asking', () => {
    expect(nodeCountOf({ nodeCount: 2, autoscaleMin: 1, autoscaleMax: 6 })).toBe(6);
  });

  it('never charges less than the nodes a pool already has', () => {
    expect(nodeCountOf({ nodeCount: 8, autoscaleMin: 1, autoscaleMax: 6 })).toBe(8);
  });
});

describe('validateNodePoolSize', () => {
  it('accepts a fixed size and consistent autoscaling bounds', () => {
    expect(() => validateNodePoolSize({ nodeCount: 3 })).not.toThrow();
    expect(() => validateNodePoolSize({ nodeCount: 2, autoscaleMin: 1, autoscaleMax: 5 })).not.toThrow();
  });

  it('refuses half-set autoscaling', () => {
    expect(validationError(() => validateNodePoolSize({ nodeCount: 2, autoscaleMin: 1 })).violations[0].field).toBe('autoscale_max');
  });

  it('refuses a minimum above the maximum', () => {
    expect(validationError(() => validateNodePoolSize({ nodeCount: 2, autoscaleMin: 5, autoscaleMax: 3 })).violations[0].message).toBe(
      'autoscale_min (5) is greater than autoscale_max (3)',
    );
  });

  it('refuses a node count outside the autoscaling bounds', () => {
    expect(validationError(() => validateNodePoolSize({ nodeCount: 9, autoscaleMin: 1, autoscaleMax: 5 })).violations[0].field).toBe('node_count');
  });

  it('refuses negative counts', () => {
    expect(validationError(() => validateNodePoolSize({ nodeCount: -1 })).violations[0].field).toBe('node_count');
  });
});
