import type { KubeObject } from '../../types';
import { type Condition, conditionOf, isTerminating, podPhase, timestamp } from './model';

/**
 * The Job controller's decisions (kube-controller-manager 1.32, NonIndexed jobs), as a pure
 * function of a Job and its pods; jobs.ts reads and writes.
 *
 * - Active pods are kept at min(parallelism, completions - succeeded) (a Job without completions:
 *   parallelism until one pod succeeds, then none more); surplus active pods go.
 * - Finished pods are counted as upstream counts them with the `batch.kubernetes.io/job-tracking`
 *   finalizer: a finished pod still holding it is first recorded in
 *   `status.uncountedTerminatedPods`, then loses the finalizer, then moves into
 *   `succeeded`/`failed`. A finished pod deleted afterwards still counts.
 * - Failed pods beyond `backoffLimit` fail the Job: FailureTarget, then (once no pod is active)
 *   Failed, reason BackoffLimitExceeded; active pods are deleted. `activeDeadlineSeconds` past:
 *   reason DeadlineExceeded.
 * - Succeeded pods reaching `completions`: SuccessCriteriaMet, then (no pod active any more)
 *   Complete with `completionTime`, reason CompletionsReached.
 * - `suspend: true`: active pods are deleted, condition Suspended.
 */

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  ready?: number;
  terminating?: number;
  succeeded?: number;
  failed?: number;
  conditions?: Condition[];
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
}

export interface JobPlan {
  /** Pods to create now. */
  create: number;
  /** Active pods to delete (surplus, or all of them when the Job fails or is suspended). */
  remove: KubeObject[];
  /** Finished pods whose tracking finalizer can go (already recorded as uncounted). */
  release: KubeObject[];
  status: JobStatus;
  /** Events to record about the Job. */
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

const num = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

export function isJobFinished(job: KubeObject): boolean {
  return ['Complete', 'Failed'].some((type) => conditionOf(job, type)?.status === 'True');
}

const finished = (pod: KubeObject) => ['Succeeded', 'Failed'].includes(podPhase(pod));

export function planJob(job: KubeObject, pods: readonly KubeObject[], now: Date): JobPlan {
  const spec = job.spec ?? {};
  const previous = (job.status ?? {}) as JobStatus;
  const at = timestamp(now);
  const parallelism = num(spec['parallelism'], 1);
  const completions = typeof spec['completions'] === 'number' ? spec['completions'] : null;
  const backoffLimit = num(spec['backoffLimit'], 6);
  const suspended = spec['suspend'] === true;
  const events: JobPlan['events'] = [];

  // Counting finished pods through the tracking finalizer (see above).
  const uncounted = { succeeded: [...(previous.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(previous.uncountedTerminatedPods?.failed ?? [])] };
  const isUncounted = (uid: string) => uncounted.succeeded.includes(uid) || uncounted.failed.includes(uid);
  let succeeded = previous.succeeded ?? 0;
  let failed = previous.failed ?? 0;
  const release: KubeObject[] = [];
  const byUid = new Map(pods.map((pod) => [pod.metadata.uid!, pod]));
  // Recorded earlier and released since (or gone): now they count.
  for (const key of ['succeeded', 'failed'] as const) {
    uncounted[key] = uncounted[key].filter((uid) => {
      const pod = byUid.get(uid);
      if (pod && pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) {
        release.push(pod);
        return true;
      }
      if (key === 'succeeded') succeeded++;
      else failed++;
      return false;
    });
  }
  for (const pod of pods) {
    if (!finished(pod) || !pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) || isUncounted(pod.metadata.uid!)) continue;
    (podPhase(pod) === 'Succeeded' ? uncounted.succeeded : uncounted.failed).push(pod.metadata.uid!);
  }
  // Pods being finished but not yet counted still decide what the Job needs.
  const pendingSucceeded = uncounted.succeeded.length;
  const pendingFailed = uncounted.failed.length;

  const active = pods.filter((pod) => !finished(pod) && !isTerminating(pod));
  const terminating = pods.filter((pod) => !finished(pod) && isTerminating(pod)).length;
  const ready = active.filter((pod) => conditionOf(pod, 'Ready')?.status === 'True').length;
  const totalSucceeded = succeeded + pendingSucceeded;
  const totalFailed = failed + pendingFailed;

  const conditions = [...(previous.conditions ?? [])];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  const set = (type: string, reason: string, message: string) => {
    if (has(type)) return;
    const index = conditions.findIndex((c) => c.type === type);
    const condition: Condition = { type, status: 'True', reason, message, lastProbeTime: at, lastTransitionTime: at };
    if (index >= 0) conditions[index] = condition;
    else conditions.push(condition);
  };

  const startTime = previous.startTime ?? (suspended ? undefined : at);
  const deadline = typeof spec['activeDeadlineSeconds'] === 'number' && startTime ? Date.parse(startTime) + spec['activeDeadlineSeconds'] * 1000 : null;
  let create = 0;
  let remove: KubeObject[] = [];

  const succeededEnough = completions !== null ? totalSucceeded >= completions : totalSucceeded > 0 && active.length === 0;
  if (!has('FailureTarget') && !has('SuccessCriteriaMet')) {
    if (totalFailed > backoffLimit) {
      set('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    } else if (deadline !== null && now.getTime() >= deadline) {
      set('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline');
    } else if (succeededEnough) {
      set('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods');
    }
  }

  const allCounted = uncounted.succeeded.length === 0 && uncounted.failed.length === 0;
  if (has('FailureTarget')) {
    remove = active;
    if (active.length === 0 && terminating === 0 && allCounted && !has('Failed')) {
      const target = conditions.find((c) => c.type === 'FailureTarget')!;
      set('Failed', target.reason!, target.message!);
      events.push({
        type: 'Warning',
        reason: target.reason!,
        message: target.reason === 'DeadlineExceeded' ? 'Job was active longer than specified deadline' : 'Job has reached the specified backoff limit',
      });
    }
  } else if (has('SuccessCriteriaMet')) {
    remove = active;
    if (active.length === 0 && terminating === 0 && allCounted && !has('Complete')) {
      set('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods');
      events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
    }
  } else if (suspended) {
    remove = active;
    set('Suspended', 'JobSuspended', 'Job suspended');
  } else {
    const index = conditions.findIndex((c) => c.type === 'Suspended' && c.status === 'True');
    if (index >= 0) {
      conditions[index] = { ...conditions[index]!, status: 'False', reason: 'JobResumed', message: 'Job resumed', lastTransitionTime: at, lastProbeTime: at };
      events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
    }
    const wanted = completions !== null ? Math.max(0, Math.min(parallelism, completions - totalSucceeded)) : totalSucceeded > 0 ? 0 : parallelism;
    if (active.length < wanted) create = wanted - active.length;
    else if (active.length > wanted)
      remove = [...active]
        .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))
        .slice(0, active.length - wanted);
  }

  const status: JobStatus = {
    ...(startTime ? { startTime } : {}),
    ...(previous.completionTime ? { completionTime: previous.completionTime } : {}),
    active: active.length - remove.length + create,
    ready,
    terminating: terminating + remove.length,
    ...(succeeded ? { succeeded } : {}),
    ...(failed ? { failed } : {}),
    uncountedTerminatedPods: {
      ...(uncounted.succeeded.length ? { succeeded: uncounted.succeeded } : {}),
      ...(uncounted.failed.length ? { failed: uncounted.failed } : {}),
    },
    ...(conditions.length ? { conditions } : {}),
  };
  if (has('Complete') && !status.completionTime) status.completionTime = at;
  if (status.active === 0) delete status.active;
  return { create, remove, release, status, events };
}
