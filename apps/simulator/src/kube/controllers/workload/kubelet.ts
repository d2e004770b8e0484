import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { conditionOf, isPodActive, isTerminating, NODE, POD, podPhase, podSpec, refOf, timestamp } from './model';
import { isNodeReady } from './nodes';
import { allocatePodIP, creatingStatus, exitCodeOf, finishedStatus, runningStatus, runTimeMs } from './pods';
import { deleteIfPresent, podStartupMs, racing, reconcileScope, wakeAfter } from './runtime';
import { type Taint, tolerates, type Toleration } from './selectors';
import { KUBE_CONTROLLER_MANAGER, KUBELET } from './field-managers';

/**
 * What the kubelets and the node-side controllers do for the pods bound to nodes:
 * - start them: ContainerCreating, then Running and Ready `podStartupMs` after being scheduled;
 * - end the pods meant to end (restartPolicy Never/OnFailure) after their run time (pods.ts
 *   `runTimeMs`): Succeeded, or Failed with the exit code a pod's annotation asks for;
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
        const left = terminationLeftMs(pod, now, startupMs);
        if (left <= 0) await forceDelete(server, pod);
        else wakeAfter('workload/kubelet', server.name, left);
        continue;
      }
      if (!isPodActive(pod)) continue;
      const eviction = taintEvictionInMs(pod, node, now);
      if (eviction === 0) {
        await deleteIfPresent(server, refOf(pod));
        continue;
      }
      if (eviction !== null) wakeAfter('workload/kubelet', server.name, eviction);
      if (!isNodeReady(node)) {
        await markNotReady(server, pod, now);
        continue;
      }
      const startsIn = await advance(server, pod, node, now, startupMs, taken);
      if (startsIn > 0) wakeAfter('workload/kubelet', server.name, startsIn);
    }
  },
};

/** Moves the pod along its start-up; answers how long until it is due to run (0: nothing to wait for). */
async function advance(
  server: ApiServerClient,
  pod: KubeObject,
  node: KubeObject,
  now: Date,
  startupMs: number,
  taken: Map<string, Set<string>>,
): Promise<number> {
  const phase = podPhase(pod);
  if (phase === 'Running' && conditionOf(pod, 'Ready')?.status === 'True') {
    // A pod meant to end finishes its run: its containers exit (a Job's pod completes).
    const runMs = runTimeMs(pod, startupMs);
    if (runMs === null) return 0;
    const startedAt = Date.parse((pod.status?.['startTime'] as string | undefined) ?? '') || now.getTime();
    const left = startedAt + startupMs + runMs - now.getTime();
    if (left > 0) return left;
    await racing(() => server.updateStatus({ ...pod, status: finishedStatus(pod, exitCodeOf(pod), now) }, KUBELET));
    return 0;
  }
  const scheduledAt = Date.parse(conditionOf(pod, 'PodScheduled')?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? now.toISOString());
  if (now.getTime() - scheduledAt >= startupMs || phase === 'Running') {
    const used = taken.get(node.metadata.name) ?? new Set<string>();
    const ip = (pod.status?.['podIP'] as string | undefined) ?? allocatePodIP(node, used);
    used.add(ip);
    taken.set(node.metadata.name, used);
    await racing(() => server.updateStatus({ ...pod, status: runningStatus(pod, node, ip, now) }, KUBELET));
    return 0;
  }
  if (!pod.status?.['containerStatuses']) await racing(() => server.updateStatus({ ...pod, status: creatingStatus(pod, node, now) }, KUBELET));
  return scheduledAt + startupMs - now.getTime();
}

/** The node controller marks the pods of a node it lost touch with as not Ready. */
async function markNotReady(server: ApiServerClient, pod: KubeObject, now: Date): Promise<void> {
  if (conditionOf(pod, 'Ready')?.status !== 'True') return;
  const at = timestamp(now);
  const conditions = ((pod.status?.['conditions'] as { type: string }[] | undefined) ?? []).map((c) =>
    c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: at } : c,
  );
  await racing(() => server.updateStatus({ ...pod, status: { ...pod.status, conditions } }, KUBE_CONTROLLER_MANAGER));
}

/** Until the containers have stopped: quickly in emulator time, never later than the grace period. */
function terminationLeftMs(pod: KubeObject, now: Date, startupMs: number): number {
  const deadline = Date.parse(pod.metadata.deletionTimestamp!);
  const grace = (pod.metadata.deletionGracePeriodSeconds ?? podSpec(pod).terminationGracePeriodSeconds ?? 30) * 1000;
  return Math.min(deadline, deadline - grace + startupMs) - now.getTime();
}

/**
 * When the node's NoExecute taints evict the pod: 0 now, a delay while a toleration with
 * tolerationSeconds still holds, null never.
 */
export function taintEvictionInMs(pod: KubeObject, node: KubeObject, now: Date): number | null {
  const taints = ((node.spec?.['taints'] as Taint[] | undefined) ?? []).filter((t) => t.effect === 'NoExecute');
  const tolerations: Toleration[] = podSpec(pod).tolerations ?? [];
  let soonest: number | null = null;
  for (const taint of taints) {
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0) return 0;
    if (matching.some((t) => t.tolerationSeconds === undefined)) continue;
    const seconds = Math.min(...matching.map((t) => t.tolerationSeconds!));
    const left = Date.parse(taint.timeAdded ?? now.toISOString()) + Math.max(0, seconds) * 1000 - now.getTime();
    if (left <= 0) return 0;
    soonest = soonest === null ? left : Math.min(soonest, left);
  }
  return soonest;
}

/** What the kubelet does once the containers stopped (and pod GC for a vanished node): delete with grace 0. */
async function forceDelete(server: ApiServerClient, pod: KubeObject): Promise<void> {
  await racing(() => server.delete(refOf(pod), { gracePeriodSeconds: 0 }));
}
