import { KubeApiError, type ApiServerClient, type KubeObject } from '../../types';
import { stringField } from './api';

/**
 * Evicts one pod through the workload cluster's `pods/eviction` subresource: resolves when the
 * eviction was accepted, throws KubeApiError 429 when a PodDisruptionBudget forbids it now.
 */
export type Evictor = (workload: ApiServerClient, pod: KubeObject) => Promise<void>;

export interface DrainResult {
  /** True when no pod that a drain must move is left on the node. */
  done: boolean;
  /**
   * Pods whose eviction was refused, as `namespace/name`, keyed by the failure as CAPI words it
   * (the Status message and its causes: which budget refused, and why).
   */
  failedEviction: Map<string, string[]>;
  /** Pods being deleted (evicted earlier, maybe with a grace period) that are still on the node. */
  terminating: string[];
  /** Pods evicted in this round. */
  evicted: number;
}

/**
 * One round of CAPI's node drain (`internal/controllers/machine/drain`): cordon the node, then
 * evict every pod on it except DaemonSet pods, static (mirror) pods and pods that have finished.
 * Pods already terminating count as not yet gone. A refused eviction is retried by the next round,
 * as CAPI requeues, and never forced.
 */
export async function drainNode(workload: ApiServerClient, nodeName: string, evict: Evictor): Promise<DrainResult> {
  const node = await workload.get({ apiVersion: 'v1', kind: 'Node', name: nodeName });
  if (!node) return { done: true, failedEviction: new Map(), terminating: [], evicted: 0 };
  if (node.spec?.unschedulable !== true) await workload.mergePatch({ apiVersion: 'v1', kind: 'Node', name: nodeName }, { spec: { unschedulable: true } });

  const pods = (await workload.list('v1', 'Pod', { fieldSelector: `spec.nodeName=${nodeName}` })).filter(mustMove);
  const failedEviction = new Map<string, string[]>();
  const terminating: string[] = [];
  let evicted = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) {
      terminating.push(podKey(pod));
      continue;
    }
    try {
      await evict(workload, pod);
      evicted++;
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) continue;
      if (error instanceof KubeApiError && error.code === 429) {
        // CAPI's wording: the Status message, then its causes (which budget, how many healthy pods).
        const failure = [error.message, causes(error).join(',')].filter(Boolean).join(' ');
        failedEviction.set(failure, [...(failedEviction.get(failure) ?? []), podKey(pod)]);
        continue;
      }
      throw error;
    }
  }
  // Evicted pods are deleted (maybe with a grace period): done only once none is left to move.
  const failed = [...failedEviction.values()].reduce((n, list) => n + list.length, 0);
  const left =
    failed +
    terminating.length +
    (evicted > 0 ? (await workload.list('v1', 'Pod', { fieldSelector: `spec.nodeName=${nodeName}` })).filter(mustMove).length : 0);
  return { done: left === 0, failedEviction, terminating, evicted };
}

/**
 * The `DrainingSucceeded` message of a drain not finished yet, in CAPI's own format (its
 * `EvictionResult.ConditionMessage`, Cluster API 1.9 and later): one line per group of pods, pods as
 * `namespace/name`, at most three named per line.
 */
export function drainConditionMessage(startedAt: string, result: Pick<DrainResult, 'failedEviction' | 'terminating'>): string {
  const lines = [`Drain not completed yet (started at ${startedAt.replace(/\.\d{3}Z$/, 'Z')}):`];
  const kind = (pods: string[]) => (pods.length > 1 ? 'Pods' : 'Pod');
  if (result.terminating.length > 0)
    lines.push(`* ${kind(result.terminating)} ${podList(result.terminating)}: deletionTimestamp set, but still not removed from the Node`);
  for (const failure of [...result.failedEviction.keys()].sort()) {
    const pods = result.failedEviction.get(failure)!;
    lines.push(`* ${kind(pods)} ${podList(pods)}: ${failure}`);
  }
  return lines.join('\n');
}

function podList(pods: string[]): string {
  const shown = pods.slice(0, 3).join(', ');
  return pods.length > 3 ? `${shown}, ... (${pods.length - 3} more)` : shown;
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

/** The `details.causes[].message` of a Status error: for an eviction, which budget refused it. */
function causes(error: KubeApiError): string[] {
  const list = error.details?.causes;
  return Array.isArray(list) ? list.map((cause) => (typeof cause?.message === 'string' ? cause.message : '')).filter(Boolean) : [];
}

function mustMove(pod: KubeObject): boolean {
  const phase = stringField(pod, 'status', 'phase');
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (pod.metadata.annotations?.['kubernetes.io/config.mirror']) return false;
  return !(pod.metadata.ownerReferences ?? []).some((o) => o.controller && o.kind === 'DaemonSet');
}

/** The body of a `policy/v1` Eviction for `pod`. */
export function evictionFor(pod: KubeObject): Record<string, unknown> {
  return { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } };
}
