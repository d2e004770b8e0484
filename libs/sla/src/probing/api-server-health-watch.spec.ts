import { type ApiServerObservation, observationMatters, type WatchedCluster } from './api-server-health-watch';

const DOWN: ApiServerObservation = {
  state: 'down',
  since: new Date('2026-12-06T05:20:00Z'),
  reason: 'API server unreachable since 2026-12-06T05:20Z (down 3 consecutive minutes)',
};
const UP: ApiServerObservation = { state: 'up' };
const UNDECIDED: ApiServerObservation = { state: 'undecided' };
const watched = (status: string, heldDown: boolean, unannounced = false): WatchedCluster => ({ clusterId: 'cl_1', status, heldDown, unannounced });

describe('which observations the monitor writes', () => {
  it('writes a first down, and a down for a running cluster it already holds down (an operation left it running)', () => {
    expect(observationMatters(DOWN, undefined)).toBe(true);
    expect(observationMatters(DOWN, watched('running', true))).toBe(true);
  });

  it('skips a down it already holds for a cluster already degraded or held by an operation', () => {
    expect(observationMatters(DOWN, watched('degraded', true))).toBe(false);
    expect(observationMatters(DOWN, watched('updating', true))).toBe(false);
  });

  it('writes an up only where it held the API server down', () => {
    expect(observationMatters(UP, undefined)).toBe(false);
    expect(observationMatters(UP, watched('updating', true))).toBe(true);
  });

  it('writes anything, even an undecided minute, where a change is unannounced', () => {
    expect(observationMatters(UNDECIDED, watched('degraded', true, true))).toBe(true);
    expect(observationMatters(UNDECIDED, watched('degraded', true))).toBe(false);
    expect(observationMatters(UP, watched('running', false, true))).toBe(true);
  });
});
