import type { OperationStatus } from './cluster-lifecycle';

/**
 * Drift of a provider's copy of a cluster's settings (docs/gke-driver.md, "Drift"): GKE holds the
 * release channel, maintenance policy and labels Capstan sent, and anyone with access to the
 * project (Google's console, gcloud) can change them there. Capstan's rows are the desired state.
 */
export type DriftedSetting = 'release_channel' | 'maintenance_policy' | 'labels';

/** One setting the provider holds differently from Capstan's rows, both values as short texts for people. */
export interface ClusterSettingDrift {
  setting: DriftedSetting;
  /** What the provider holds now. */
  provider: string;
  /** What Capstan's rows say, which the correction sends. */
  capstan: string;
}

const SETTING_NAMES: Readonly<Record<DriftedSetting, { name: string; plural: boolean }>> = Object.freeze({
  release_channel: { name: 'release channel', plural: false },
  maintenance_policy: { name: 'maintenance policy', plural: false },
  labels: { name: 'labels', plural: true },
});

/** The reason a correction gives: `GKE's release channel was STABLE, Capstan's is REGULAR; ...`. */
export function driftReason(providerName: string, drift: readonly ClusterSettingDrift[]): string {
  return drift
    .map((d) => {
      const { name, plural } = SETTING_NAMES[d.setting];
      return `${providerName}'s ${name} ${plural ? 'were' : 'was'} ${d.provider}, Capstan's ${plural ? 'are' : 'is'} ${d.capstan}`;
    })
    .join('; ');
}

/**
 * After a correction the provider refused for good, the next automatic one waits this long: a
 * setting GKE keeps refusing (a policy it finds invalid, a label rule, a permission) would
 * otherwise start a failing operation every pass, each with its event and audit event, and fill
 * the customer's operation list; once a day still corrects a refusal that was passing (a quota, a
 * project-level constraint lifted). A correction that failed only because GKE was busy or away
 * was retried by the engine for `OPERATION_RETRY_FOR_MS` first, so "failed" means given up.
 */
export const DRIFT_RETRY_AFTER_FAILURE_MS = 24 * 3_600_000;

/** The drift check's last correction of a cluster: its operation's status and when it ended. */
export interface LastDriftCorrection {
  status: OperationStatus;
  finishedAt: Date | null;
}

/**
 * Whether the drift check may start a correction now, given its own last correction of the
 * cluster: yes unless that one failed less than a day ago (then not before `until`). Only the
 * drift check's own failures hold it back: a customer's failed change is retried by the next
 * correction, once, and if that fails too the day's wait applies.
 */
export function driftCorrectionAllowed(last: LastDriftCorrection | null, now: Date): { allowed: true } | { allowed: false; until: Date } {
  if (!last || last.status !== 'failed') return { allowed: true };
  // A failed operation always has its end; without one, count from now (the safe side).
  const until = new Date((last.finishedAt ?? now).getTime() + DRIFT_RETRY_AFTER_FAILURE_MS);
  return now < until ? { allowed: false, until } : { allowed: true };
}
