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
  /** One line per pod whose eviction a PodDisruptionBudget refused, naming pod and reason. */
  blocked: string[];
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
  if (!node) return { done: true, blocked: [], evicted: 0 };
  if (node.spec?.unschedulable !== true) await workload.mergePatch({ apiVersion: 'v1', kind: 'Node', name: nodeName }, { spec: { unschedulable: true } });

  const pods = (await workload.list('v1', 'Pod', { fieldSelector: `spec.nodeName=${nodeName}` })).filter(mustMove);
  const blocked: string[] = [];
  let evicted = 0;
  let terminating = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) {
      terminating++;
      continue;
    }
    try {
      await evict(workload, pod);
      evicted++;
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) continue;
      if (error instanceof KubeApiError && error.code === 429) {
        blocked.push(`${pod.metadata.namespace}/${pod.metadata.name}: ${[error.message, ...causes(error)].join(' ')}`);
        continue;
      }
      throw error;
    }
  }
  // Evicted pods are deleted (maybe with a grace period): done only once none is left to move.
  const left =
    blocked.length +
    terminating +
    (evicted > 0 ? (await workload.list('v1', 'Pod', { fieldSelector: `spec.nodeName=${nodeName}` })).filter(mustMove).length : 0);
  return { done: left === 0, blocked, evicted };
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
