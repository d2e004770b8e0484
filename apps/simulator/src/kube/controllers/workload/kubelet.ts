import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { conditionOf, isPodActive, isTerminating, NODE, POD, podPhase, podSpec, refOf } from './model';
import { isNodeReady } from './nodes';
import { allocatePodIP, creatingStatus, runningStatus } from './pods';
import { deleteIfPresent, podStartupMs, racing, reconcileScope } from './runtime';
import { type Taint, tolerates, type Toleration } from './selectors';

/**
 * What the kubelets and the node-side controllers do for the pods bound to nodes:
 * - start them: ContainerCreating, then Running and Ready `podStartupMs` after being scheduled;
 * - finish graceful deletions (the containers stop quickly in emulator time);
 * - pod garbage collection: pods bound to a Node that no longer exists are removed;
 * - taint-based eviction: pods that do not tolerate a NoExecute taint of their node (a NotReady
 *   node's `unreachable` taint) are deleted once their tolerationSeconds run out, and their
 *   controllers replace them elsewhere.
 */
export const kubeletController: EmulatedController = {
  name: 'workload/kubelet',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['Pod', 'Node'], 'workload/kubelet');
    if (!scope) return;
    const pods = await server.list(POD.apiVersion, POD.kind);
    const bound = pods.filter((pod) => !!podSpec(pod).nodeName);
    if (bound.length === 0) return;
    const nodes = new Map((await server.list(NODE.apiVersion, NODE.kind)).map((node) => [node.metadata.name, node]));
    const now = context.now();
    const startupMs = podStartupMs(context);
    const taken = new Map<string, Set<string>>();
    for (const pod of bound) {
      const ip = pod.status?.['podIP'] as string | undefined;
      if (ip && !podSpec(pod).hostNetwork) taken.set(podSpec(pod).nodeName!, (taken.get(podSpec(pod).nodeName!) ?? new Set()).add(ip));
    }

    for (const pod of bound) {
      const node = nodes.get(podSpec(pod).nodeName!);
      if (!node) {
        await forceDelete(server, pod);
        continue;
      }
      if (isTerminating(pod)) {
        if (terminationDone(pod, now, startupMs)) await forceDelete(server, pod);
        continue;
      }
      if (!isPodActive(pod)) continue;
      if (evictedByTaint(pod, node, now)) {
        await deleteIfPresent(server, refOf(pod));
        continue;
      }
      if (!isNodeReady(node)) {
        await markNotReady(server, pod, now);
        continue;
      }
      await advance(server, pod, node, now, startupMs, taken);
    }
  },
};

async function advance(
  server: ApiServerClient,
  pod: KubeObject,
  node: KubeObject,
  now: Date,
  startupMs: number,
  taken: Map<string, Set<string>>,
): Promise<void> {
  const phase = podPhase(pod);
  if (phase === 'Running' && conditionOf(pod, 'Ready')?.status === 'True') return;
  const scheduledAt = Date.parse(conditionOf(pod, 'PodScheduled')?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? now.toISOString());
  if (now.getTime() - scheduledAt >= startupMs || phase === 'Running') {
    const used = taken.get(node.metadata.name) ?? new Set<string>();
    const ip = (pod.status?.['podIP'] as string | undefined) ?? allocatePodIP(node, used);
    used.add(ip);
    taken.set(node.metadata.name, used);
    await racing(() => server.updateStatus({ ...pod, status: runningStatus(pod, node, ip, now) }));
  } else if (!pod.status?.['containerStatuses']) {
    await racing(() => server.updateStatus({ ...pod, status: creatingStatus(pod, node, now) }));
  }
}

/** The node controller marks the pods of a node it lost touch with as not Ready. */
async function markNotReady(server: ApiServerClient, pod: KubeObject, now: Date): Promise<void> {
  if (conditionOf(pod, 'Ready')?.status !== 'True') return;
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = ((pod.status?.['conditions'] as { type: string }[] | undefined) ?? []).map((c) =>
    c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: at } : c,
  );
  await racing(() => server.updateStatus({ ...pod, status: { ...pod.status, conditions } }));
}

/** The containers have stopped: quickly in emulator time, never later than the grace period. */
function terminationDone(pod: KubeObject, now: Date, startupMs: number): boolean {
  const deadline = Date.parse(pod.metadata.deletionTimestamp!);
  const grace = (pod.metadata.deletionGracePeriodSeconds ?? podSpec(pod).terminationGracePeriodSeconds ?? 30) * 1000;
  return now.getTime() >= Math.min(deadline, deadline - grace + startupMs);
}

export function evictedByTaint(pod: KubeObject, node: KubeObject, now: Date): boolean {
  const taints = ((node.spec?.['taints'] as Taint[] | undefined) ?? []).filter((t) => t.effect === 'NoExecute');
  const tolerations: Toleration[] = podSpec(pod).tolerations ?? [];
  return taints.some((taint) => {
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0) return true;
    if (matching.some((t) => t.tolerationSeconds === undefined)) return false;
    const seconds = Math.min(...matching.map((t) => t.tolerationSeconds!));
    const added = Date.parse(taint.timeAdded ?? now.toISOString());
    return now.getTime() - added >= Math.max(0, seconds) * 1000;
  });
}

async function forceDelete(server: ApiServerClient, pod: KubeObject): Promise<void> {
  await deleteIfPresent(server, refOf(pod));
}
