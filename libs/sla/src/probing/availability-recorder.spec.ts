import { AvailabilityRecorder } from './availability-recorder';
import type { ProbeResult } from './prober';

const probe = (sentAtMs: number, success: boolean): ProbeResult => ({
  clusterId: 'cl_x',
  at: new Date(sentAtMs),
  sentAtMs,
  success,
  statusCode: success ? 200 : null,
  latencyMs: 1,
  errorKind: success ? null : 'connection',
});

describe('AvailabilityRecorder', () => {
  // record() only keeps state in memory; nothing here reaches the database.
  const recorder = () => new AvailabilityRecorder(undefined as never, 'zrh', 10_000, false);

  it('ignores a result that finished after a later probe already spoke (probes out of order under load)', () => {
    const r = recorder();
    expect(r.record(probe(1_000, true))).toBe(false);
    // the cluster goes down, seen by the probe sent at 3 s
    expect(r.record(probe(3_000, false))).toBe(true);
    // the probe sent at 2 s comes back late: before, it closed the down interval at 2 s, before it started
    expect(r.record(probe(2_000, true))).toBe(false);
    // a newer probe still changes the state
    expect(r.record(probe(4_000, true))).toBe(true);
  });
});
