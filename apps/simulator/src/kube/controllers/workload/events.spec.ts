import type { KubeObject } from '../../types';
import { lastOccurrence } from './events';

const event = (fields: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'e', namespace: 'default', creationTimestamp: '2026-12-06T04:00:00Z' },
  ...fields,
});

describe('when an Event last occurred (what its TTL counts from)', () => {
  it('takes the latest of series.lastObservedTime, lastTimestamp, eventTime and the creation time', () => {
    expect(lastOccurrence(event({}))).toBe(Date.parse('2026-12-06T04:00:00Z'));
    expect(lastOccurrence(event({ lastTimestamp: '2026-12-06T04:10:00Z', firstTimestamp: '2026-12-06T03:00:00Z' }))).toBe(Date.parse('2026-12-06T04:10:00Z'));
    expect(
      lastOccurrence(
        event({ eventTime: '2026-12-06T04:01:00.000000Z', series: { count: 4, lastObservedTime: '2026-12-06T04:20:00.123000Z' }, lastTimestamp: null }),
      ),
    ).toBe(Date.parse('2026-12-06T04:20:00.123Z'));
    // A client's stale timestamps do not make a fresh Event expire at once: creation counts too.
    expect(lastOccurrence(event({ lastTimestamp: '2020-01-01T00:00:00Z' }))).toBe(Date.parse('2026-12-06T04:00:00Z'));
  });
});
