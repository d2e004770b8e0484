/**
 * Which pods of a node a drain evicts, following `kubectl drain`'s filters (k8s.io/kubectl
 * pkg/drain/filters.go): mirror pods are the kubelet's static pods, which the API cannot remove;
 * DaemonSet pods would be recreated on the same node at once (the DaemonSet controller ignores
 * `unschedulable`), so they stay; pods no controller owns would be lost for good, so a drain
 * refuses them unless forced. Pods that already finished are evicted without further thought.
 */
export interface PodFacts {
  namespace: string;
  name: string;
  uid?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: { kind: string; name: string; controller?: boolean }[];
  phase?: string;
  deleting: boolean;
}

export interface DrainPlan {
  evict: PodFacts[];
  skipped: { pod: PodFacts; why: 'mirror' | 'daemonset' }[];
  /** Pods without a controller: a drain without `force` stops before evicting anything. */
  unmanaged: PodFacts[];
}

/** The annotation the kubelet puts on the API copy of a static pod. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export function planDrain(pods: readonly PodFacts[], options: { force: boolean }): DrainPlan {
  const plan: DrainPlan = { evict: [], skipped: [], unmanaged: [] };
  for (const pod of pods) {
    if (MIRROR_POD_ANNOTATION in pod.annotations) {
      plan.skipped.push({ pod, why: 'mirror' });
      continue;
    }
    const controller = pod.ownerReferences.find((o) => o.controller);
    if (controller?.kind === 'DaemonSet') {
      plan.skipped.push({ pod, why: 'daemonset' });
      continue;
    }
    const finished = pod.phase === 'Succeeded' || pod.phase === 'Failed';
    if (!controller && !finished) {
      plan.unmanaged.push(pod);
      if (!options.force) continue;
    }
    plan.evict.push(pod);
  }
  if (plan.unmanaged.length > 0 && !options.force) plan.evict = [];
  return plan;
}

export const podKey = (pod: { namespace: string; name: string }): string => `${pod.namespace}/${pod.name}`;
