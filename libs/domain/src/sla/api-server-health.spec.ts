import { apiServerDownReason, apiServerHealth } from './api-server-health';
import { MINUTE_DOWN as D, MINUTE_UNKNOWN as U, MINUTE_UP as P } from './availability';

const start = new Date('2026-12-06T05:00:00Z');
const states = (...m: number[]) => Uint8Array.from(m);

describe('apiServerHealth', () => {
  it('is down after N consecutive down minutes, since the first of them', () => {
    expect(apiServerHealth(states(P, P, D, D, D), start, 3)).toEqual({ state: 'down', since: new Date('2026-12-06T05:02:00Z'), minutes: 3 });
    expect(apiServerHealth(states(D, D, D, D), start, 3)).toEqual({ state: 'down', since: start, minutes: 4 });
  });

  it('leaves a shorter run undecided: a blip changes nothing', () => {
    expect(apiServerHealth(states(P, P, P, D, D), start, 3)).toEqual({ state: 'undecided' });
    expect(apiServerHealth(states(D, D, U, D, D), start, 3)).toEqual({ state: 'undecided' });
  });

  it('is up as soon as the latest minute was up', () => {
    expect(apiServerHealth(states(D, D, D, D, P), start, 3)).toEqual({ state: 'up' });
  });

  it('decides nothing on an unknown latest minute or no minutes', () => {
    expect(apiServerHealth(states(D, D, D, U), start, 3)).toEqual({ state: 'undecided' });
    expect(apiServerHealth(states(), start, 3)).toEqual({ state: 'undecided' });
  });

  it('says what and since when, to the minute', () => {
    expect(apiServerDownReason(new Date('2026-12-06T05:20:00Z'), 3)).toBe('API server unreachable since 2026-12-06T05:20Z (down 3 consecutive minutes)');
  });
});
