import fc from 'fast-check';
import { retryDelay } from './operation-runner';

describe('retryDelay', () => {
  const config = { backoffMs: 2_000, backoffMaxMs: 60_000 };

  it('doubles from the base with each failure in a row, up to the cap', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => retryDelay(config, n, middle))).toEqual([1_500, 3_000, 6_000, 12_000, 24_000, 45_000, 45_000, 45_000]);
  });

  it('is jittered between half and all of the capped delay, never beyond the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, random) => {
        const capped = Math.min(config.backoffMaxMs, config.backoffMs * 2 ** Math.min(failures - 1, 30));
        const delay = retryDelay(config, failures, () => random);
        return delay >= Math.floor(capped / 2) && delay <= capped && delay <= config.backoffMaxMs;
      }),
    );
  });
});
