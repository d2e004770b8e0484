import type { KubeObject } from '../../types';
import { isPodActive, labelsOf, nodeTaints, podSpec } from './model';
import { isNodeReady } from './nodes';
import { nodeMatchesPod, untoleratedTaint } from './selectors';

/**
 * The scheduler's filter and score, reduced to what a drained or tainted cluster needs to behave
 * like a real one: Ready nodes only, `nodeSelector` and required node affinity, NoSchedule and
 * NoExecute taints against the pod's tolerations (a cordon is the `unschedulable` taint), and the
 * node's pod capacity; among the nodes left, the one running the fewest pods (spreading replicas).
 */
export type Placement = { node: string } | { unschedulable: string };

export function choosePlacement(pod: KubeObject, nodes: KubeObject[], pods: KubeObject[]): Placement {
  const spec = podSpec(pod);
  const load = new Map<string, number>();
  for (const other of pods) {
    const on = podSpec(other).nodeName;
    if (on && isPodActive(other)) load.set(on, (load.get(on) ?? 0) + 1);
  }
  const reasons = new Map<string, number>();
  const refuse = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  const fits: KubeObject[] = [];
  for (const node of nodes) {
    if (node.metadata.deletionTimestamp) continue;
    const taint = untoleratedTaint(effectiveTaints(node), spec.tolerations, ['NoSchedule', 'NoExecute']);
    if (taint) {
      refuse(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
      continue;
    }
    if (!isNodeReady(node)) {
      refuse("node(s) didn't have a Ready condition");
      continue;
    }
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (!nodeMatchesPod({ name: node.metadata.name, labels: labelsOf(node) }, spec.nodeSelector, terms)) {
      refuse("node(s) didn't match Pod's node affinity/selector");
      continue;
    }
    const capacity = Number.parseInt(String((node.status?.['allocatable'] as Record<string, string> | undefined)?.['pods'] ?? '110'), 10);
    if ((load.get(node.metadata.name) ?? 0) >= capacity) {
      refuse('Too many pods');
      continue;
    }
    fits.push(node);
  }
  if (fits.length === 0) {
    const detail = [...reasons.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([reason, count]) => `${count} ${reason}`)
      .join(', ');
    const total = nodes.length;
    return {
      unschedulable: `0/${total} nodes are available${detail ? `: ${detail}` : ''}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`,
    };
  }
  fits.sort((a, b) => (load.get(a.metadata.name) ?? 0) - (load.get(b.metadata.name) ?? 0) || a.metadata.name.localeCompare(b.metadata.name));
  return { node: fits[0]!.metadata.name };
}

/**
 * A cordon taints the node in the same breath on a real cluster; until our node controller has
 * written that taint, `spec.unschedulable` alone must already keep new pods off.
 */
export function effectiveTaints(node: KubeObject) {
  const taints = nodeTaints(node);
  if (node.spec?.['unschedulable'] === true && !taints.some((t) => t.key === 'node.kubernetes.io/unschedulable')) {
    return [...taints, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' as const }];
  }
  return taints;
}
