import type { KubeObject } from '../../types';
import { type Condition, controllerOf, isPodReady, isTerminating, labelsOf, podPhase, timestamp } from './model';
import { type LabelSelector, selectorMatches } from './selectors';

/**
 * PodDisruptionBudget arithmetic as the disruption controller and the eviction subresource do it
 * (Kubernetes docs "Specifying a Disruption Budget", policy/v1 API reference):
 * - `minAvailable` as a number: desiredHealthy is that number, expectedPods the pods selected;
 * - `minAvailable` as a percentage or `maxUnavailable`: expectedPods is the scale of the pods'
 *   controllers (a Deployment's replicas, not the pods that happen to exist), rounded up;
 * - currentHealthy counts Ready pods, minus those an eviction already took (`disruptedPods`);
 * - disruptionsAllowed = max(0, currentHealthy - desiredHealthy).
 */

export interface DisruptionStatus {
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
  expectedPods: number;
  observedGeneration: number;
  disruptedPods?: Record<string, string>;
  conditions: Condition[];
}

/** An eviction not yet seen through by the controller stops counting after this long (upstream's DeletionTimeout). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

export function selectedPods(pdb: KubeObject, pods: KubeObject[]): KubeObject[] {
  const selector = pdb.spec?.['selector'] as LabelSelector | undefined;
  return pods.filter((pod) => pod.metadata.namespace === pdb.metadata.namespace && selectorMatches(selector, labelsOf(pod)));
}

/**
 * `scaleOf` answers the desired replicas of a pod's controller (by the controller's uid), or
 * undefined when the controller has no scale (then each pod counts as one).
 */
export function computeDisruptionStatus(
  pdb: KubeObject,
  pods: KubeObject[],
  scaleOf: (controllerUid: string) => number | undefined,
  now: Date,
): DisruptionStatus {
  const selected = selectedPods(pdb, pods).filter((pod) => podPhase(pod) !== 'Succeeded' && podPhase(pod) !== 'Failed');
  const disrupted = stillDisrupted(pdb, selected, now);
  const currentHealthy = selected.filter((pod) => isPodReady(pod) && !isTerminating(pod) && !disrupted[pod.metadata.name]).length;

  const minAvailable = pdb.spec?.['minAvailable'] as number | string | undefined;
  const maxUnavailable = pdb.spec?.['maxUnavailable'] as number | string | undefined;
  let expectedPods: number;
  let desiredHealthy: number;
  if (typeof minAvailable === 'number') {
    expectedPods = selected.length;
    desiredHealthy = minAvailable;
  } else {
    expectedPods = expectedScale(selected, scaleOf);
    if (minAvailable !== undefined) desiredHealthy = Math.ceil((percentage(minAvailable) * expectedPods) / 100);
    else if (maxUnavailable !== undefined) {
      const unavailable = typeof maxUnavailable === 'number' ? maxUnavailable : Math.ceil((percentage(maxUnavailable) * expectedPods) / 100);
      desiredHealthy = Math.max(0, expectedPods - unavailable);
    } else desiredHealthy = 0;
  }
  const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
  const generation = pdb.metadata.generation ?? 1;
  const status: DisruptionStatus = {
    currentHealthy,
    desiredHealthy,
    disruptionsAllowed,
    expectedPods,
    observedGeneration: generation,
    conditions: [disruptionAllowedCondition(pdb, disruptionsAllowed > 0, generation, now)],
  };
  if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
  return status;
}

export function disruptionAllowedCondition(pdb: KubeObject, allowed: boolean, generation: number, now: Date): Condition {
  const previous = ((pdb.status?.['conditions'] as Condition[] | undefined) ?? []).find((c) => c.type === 'DisruptionAllowed');
  const status = allowed ? 'True' : 'False';
  return {
    type: 'DisruptionAllowed',
    status,
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    observedGeneration: generation,
    lastTransitionTime: previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : timestamp(now),
  };
}

/** Evictions the controller has not yet seen happen: the pod still exists, not yet terminating, recently. */
function stillDisrupted(pdb: KubeObject, selected: KubeObject[], now: Date): Record<string, string> {
  const recorded = (pdb.status?.['disruptedPods'] as Record<string, string> | undefined) ?? {};
  const kept: Record<string, string> = {};
  for (const [name, at] of Object.entries(recorded)) {
    const pod = selected.find((p) => p.metadata.name === name);
    if (pod && !isTerminating(pod) && now.getTime() - Date.parse(at) < DISRUPTED_POD_TIMEOUT_MS) kept[name] = at;
  }
  return kept;
}

function expectedScale(pods: KubeObject[], scaleOf: (uid: string) => number | undefined): number {
  const counted = new Set<string>();
  let expected = 0;
  for (const pod of pods) {
    const owner = controllerOf(pod);
    const scale = owner ? scaleOf(owner.uid) : undefined;
    if (owner && scale !== undefined) {
      if (!counted.has(owner.uid)) expected += scale;
      counted.add(owner.uid);
    } else expected += 1;
  }
  return expected;
}

function percentage(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  return match ? Number(match[1]) : Number.parseInt(value, 10) || 0;
}

export type EvictionVerdict =
  | { allow: true; decrement: false }
  | { allow: true; decrement: true; budget: KubeObject; status: Record<string, unknown> }
  | { allow: false; code: 429; message: string; cause: string; retryAfterSeconds: number }
  | { allow: false; code: 500; message: string };

/**
 * What the eviction subresource decides for one pod (pkg/registry/core/pod/storage/eviction.go):
 * pods not running or already being deleted go without asking; more than one budget is an error;
 * a budget the controller has not yet observed answers 429 "still being processed"; no allowed
 * disruption answers 429 naming the budget; otherwise the budget's status is decremented and
 * the pod recorded in `disruptedPods` before the pod is deleted.
 */
export function decideEviction(pod: KubeObject, budgets: KubeObject[], now: Date): EvictionVerdict {
  const phase = podPhase(pod);
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || isTerminating(pod)) return { allow: true, decrement: false };
  const matching = budgets.filter((pdb) => selectorMatches(pdb.spec?.['selector'] as LabelSelector | undefined, labelsOf(pod)));
  if (matching.length === 0) return { allow: true, decrement: false };
  if (matching.length > 1)
    return { allow: false, code: 500, message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' };
  const pdb = matching[0]!;
  const status = (pdb.status ?? {}) as Partial<DisruptionStatus>;
  if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
    return {
      allow: false,
      code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      cause: `The disruption budget ${pdb.metadata.name} is still being processed by the server.`,
      retryAfterSeconds: 10,
    };
  }
  const policy = (pdb.spec?.['unhealthyPodEvictionPolicy'] as string | undefined) ?? 'IfHealthyBudget';
  const healthy = isPodReady(pod);
  if (!healthy && (policy === 'AlwaysAllow' || (status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0))) return { allow: true, decrement: false };
  const allowed = status.disruptionsAllowed ?? 0;
  if (allowed <= 0) {
    return {
      allow: false,
      code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      cause: `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
      retryAfterSeconds: 0,
    };
  }
  const next: Record<string, unknown> = {
    ...pdb.status,
    disruptionsAllowed: allowed - 1,
    disruptedPods: { ...status.disruptedPods, [pod.metadata.name]: timestamp(now) },
  };
  if (allowed - 1 === 0) {
    const others = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
    next['conditions'] = [...others, disruptionAllowedCondition(pdb, false, status.observedGeneration ?? 1, now)];
  }
  return { allow: true, decrement: true, budget: pdb, status: next };
}
