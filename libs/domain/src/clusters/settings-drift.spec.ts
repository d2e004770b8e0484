import { DRIFT_RETRY_AFTER_FAILURE_MS, driftCorrectionAllowed, driftReason } from './settings-drift';

describe('settings drift', () => {
  describe('the reason a correction gives', () => {
    it('names each drifted setting with what the provider held and what Capstan holds', () => {
      expect(
        driftReason('GKE', [
          { setting: 'release_channel', provider: 'STABLE', capstan: 'REGULAR' },
          { setting: 'labels', provider: 'capstan-managed=true, owner=console', capstan: 'capstan-managed=true' },
        ]),
      ).toBe(
        "GKE's release channel was STABLE, Capstan's is REGULAR; GKE's labels were capstan-managed=true, owner=console, Capstan's are capstan-managed=true",
      );
    });

    it('says the maintenance policy in the singular', () => {
      expect(
        driftReason('GKE', [
          { setting: 'maintenance_policy', provider: 'no window; no exclusions', capstan: 'window SA 01:00 UTC for 240 min; no exclusions' },
        ]),
      ).toBe("GKE's maintenance policy was no window; no exclusions, Capstan's is window SA 01:00 UTC for 240 min; no exclusions");
    });
  });

  describe('whether a correction may start', () => {
    const now = new Date('2026-12-06T12:00:00Z');

    it('starts the first correction of a cluster', () => {
      expect(driftCorrectionAllowed(null, now)).toEqual({ allowed: true });
    });

    it.each(['succeeded', 'cancelled', 'pending', 'running'] as const)('starts again after a correction that is %s', (status) => {
      expect(driftCorrectionAllowed({ status, finishedAt: new Date(now.getTime() - 60_000) }, now)).toEqual({ allowed: true });
    });

    it('holds back for a day after a correction the provider refused for good', () => {
      const failedAt = new Date(now.getTime() - 60_000);
      expect(driftCorrectionAllowed({ status: 'failed', finishedAt: failedAt }, now)).toEqual({
        allowed: false,
        until: new Date(failedAt.getTime() + DRIFT_RETRY_AFTER_FAILURE_MS),
      });
    });

    it('tries once more when the day has passed', () => {
      const failedAt = new Date(now.getTime() - DRIFT_RETRY_AFTER_FAILURE_MS);
      expect(driftCorrectionAllowed({ status: 'failed', finishedAt: failedAt }, now)).toEqual({ allowed: true });
      expect(driftCorrectionAllowed({ status: 'failed', finishedAt: new Date(failedAt.getTime() + 1) }, now).allowed).toBe(false);
    });

    it('counts a failure without an end from now, holding back rather than looping', () => {
      expect(driftCorrectionAllowed({ status: 'failed', finishedAt: null }, now)).toEqual({
        allowed: false,
        until: new Date(now.getTime() + DRIFT_RETRY_AFTER_FAILURE_MS),
      });
    });
  });
});
