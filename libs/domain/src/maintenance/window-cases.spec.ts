/** Window cases around Europe/Zurich's 2026 DST changes, windows across midnight, and GKE's availability rule. */
import { caught } from '../test/thrown';
import { iso, zurich } from '../test/windows';
import { assertEnoughAvailability, occurrences } from './maintenance-window';
import { exclusionCovers } from '../upgrades/fleet-rollout';

describe('a Saturday 22:00 window of 6 h across midnight and the DST nights', () => {
  const spec = zurich(['SA'], '22:00', 360);

  it('starts at 22:00 CET on 2026-03-28 and lasts 6 h of elapsed time into the spring-forward night (05:00 CEST)', () => {
    const [o] = occurrences(spec, new Date('2026-03-28T00:00:00Z'), new Date('2026-03-29T12:00:00Z'));
    expect(iso(o!)).toEqual(['2026-03-28T21:00:00.000Z', '2026-03-29T03:00:00.000Z']);
  });

  it('starts at 22:00 CEST on 2026-10-24 and lasts 6 h of elapsed time into the fall-back night (03:00 CET)', () => {
    const [o] = occurrences(spec, new Date('2026-10-24T00:00:00Z'), new Date('2026-10-25T12:00:00Z'));
    expect(iso(o!)).toEqual(['2026-10-24T20:00:00.000Z', '2026-10-25T02:00:00.000Z']);
  });

  it('keeps 22:00 local on the Saturdays either side of each change', () => {
    const all = occurrences(spec, new Date('2026-03-20T00:00:00Z'), new Date('2026-04-05T00:00:00Z')).map((o) => o.startsAt.toISOString());
    expect(all).toEqual(['2026-03-21T21:00:00.000Z', '2026-03-28T21:00:00.000Z', '2026-04-04T20:00:00.000Z']);
  });

  it('finds the occurrence that started the day before when asked after midnight', () => {
    const [o] = occurrences(spec, new Date('2026-10-25T01:00:00Z'), new Date('2026-10-25T01:30:00Z'));
    expect(o!.startsAt.toISOString()).toBe('2026-10-24T20:00:00.000Z');
  });
});

describe("GKE's 48 h in any 32 days, in windows of at least 4 h", () => {
  const from = new Date('2026-12-06T00:00:00Z');

  it('accepts a daily 4 h window across both DST changes of the coming year (4 h elapsed every night)', () => {
    expect(() => assertEnoughAvailability(zurich(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], '02:00', 240), from)).not.toThrow();
  });

  it('refuses a weekly 8 h window (at most 40 h in the worst 32 days), naming the rule', () => {
    const e = caught(() => assertEnoughAvailability(zurich(['SU'], '00:00', 480), from));
    expect(e.type).toBe('maintenance-window-too-short');
    expect(e.extensions.available_minutes).toBe(32 * 60);
  });

  it('accepts a weekly 12 h window across midnight (four in any 32 days: 48 h)', () => {
    expect(() => assertEnoughAvailability(zurich(['SA'], '20:00', 720), from)).not.toThrow();
  });

  it('does not count 3 h 59 min windows however many there are', () => {
    expect(caught(() => assertEnoughAvailability(zurich(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], '01:00', 239), from)).type).toBe(
      'maintenance-window-too-short',
    );
  });
});

describe('exclusion scopes', () => {
  it.each([
    ['no_upgrades', false, true],
    ['no_upgrades', true, true],
    ['no_minor_upgrades', false, false],
    ['no_minor_upgrades', true, true],
    ['no_minor_or_node_upgrades', false, true],
    ['no_minor_or_node_upgrades', true, true],
  ] as const)('%s with a minor move %s covers a fleet upgrade: %s', (scope, minor, covers) => {
    expect(exclusionCovers(scope, { minor })).toBe(covers);
  });
});
