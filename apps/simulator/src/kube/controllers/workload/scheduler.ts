import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { conditionOf, isTerminating, NODE, POD, podSpec, refOf } from './model';
import { choosePlacement } from './placement';
import { scheduledCondition, unschedulableCondition } from './pods';
import { recordEvent } from './events';
import { racing, reconcileScope } from './runtime';
import { claimsOfPod, SELECTED_NODE_ANNOTATION } from './volumes-model';
import { KUBE_SCHEDULER } from './field-managers';

/**
 * The default scheduler: binds each pending, unbound pod to a node `choosePlacement` picks, or
 * records why none fits in the PodScheduled condition (what `kubectl describe pod` shows), and
 * tries again when pods or nodes change.
 */
export const schedulerController: EmulatedController = {
  name: 'workload/scheduler',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    if (!reconcileScope(server, context, ['Pod', 'Node'], 'workload/scheduler')) return;
    const pods = await server.list(POD.apiVersion, POD.kind);
    const waiting = pods.filter(
      (pod) => !podSpec(pod).nodeName && !isTerminating(pod) && (podSpec(pod).schedulerName ?? 'default-scheduler') === 'default-scheduler',
    );
    if (waiting.length === 0) return;
    const nodes = await server.list(NODE.apiVersion, NODE.kind);
    const placed = [...pods];
    for (const pod of waiting.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))) {
      const placement = choosePlacement(pod, nodes, placed);
      const now = context.now();
      if ('node' in placement) {
        const bound = await bind(server, pod, placement.node, now);
        if (bound) {
          placed.push(bound);
          await selectNodeForClaims(server, bound, placement.node);
          const message = `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${placement.node}`;
          await recordEvent(server, bound, {
            type: 'Normal',
            reason: 'Scheduled',
            message,
            component: 'default-scheduler',
            action: 'Binding',
            now,
            recorder: 'events.k8s.io',
          });
        }
      } else if (conditionOf(pod, 'PodScheduled')?.message !== placement.unschedulable) {
        const conditions = [unschedulableCondition(placement.unschedulable, now)];
        const patched = await racing(() =>
          server.mergePatch(refOf(pod), { status: { phase: 'Pending', conditions } }, { ...KUBE_SCHEDULER, subresource: 'status' }),
        );
        if (patched) await failedScheduling(server, patched, placement.unschedulable, now);
      } else if (context.event?.object.kind === 'Node' || now.getTime() - lastAttempt(pod) >= UNSCHEDULABLE_RETRY_MS) {
        // Tried again and failed the same way: the event repeats (its series count grows).
        await failedScheduling(server, pod, placement.unschedulable, now);
      }
    }
  },
};

/**
 * An unschedulable pod waits until a Node changes (any Node event moves it back to the active
 * queue) or five minutes pass (kube-scheduler's podMaxInUnschedulablePodsDuration), then is tried
 * again; each failed attempt records FailedScheduling.
 */
export const UNSCHEDULABLE_RETRY_MS = 5 * 60_000;

async function failedScheduling(server: ApiServerClient, pod: KubeObject, message: string, now: Date): Promise<void> {
  attempts.set(pod.metadata.uid ?? pod.metadata.name, now.getTime());
  if (attempts.size > 10_000) attempts.delete(attempts.keys().next().value!);
  await recordEvent(server, pod, {
    type: 'Warning',
    reason: 'FailedScheduling',
    message,
    component: 'default-scheduler',
    action: 'Scheduling',
    now,
    recorder: 'events.k8s.io',
  });
}

/** When this process last tried a pod and failed; a pod it never tried counts from its PodScheduled condition. */
function lastAttempt(pod: KubeObject): number {
  const at = attempts.get(pod.metadata.uid ?? pod.metadata.name);
  if (at !== undefined) return at;
  const since = Date.parse(conditionOf(pod, 'PodScheduled')?.lastTransitionTime ?? '');
  return Number.isNaN(since) ? 0 : since;
}

const attempts = new Map<string, number>();

/** What a Binding does: sets spec.nodeName once (a stale pod answers Conflict), then PodScheduled. */
async function bind(server: ApiServerClient, pod: KubeObject, node: string, now: Date): Promise<KubeObject | undefined> {
  const bound = await racing(() => server.update({ ...pod, spec: { ...pod.spec, nodeName: node } }));
  if (!bound) return undefined;
  const conditions = [scheduledCondition(now)];
  return (await racing(() => server.mergePatch(refOf(bound), { status: { conditions } }, { ...KUBE_SCHEDULER, subresource: 'status' }))) ?? bound;
}

/**
 * What the scheduler's volume binding does for WaitForFirstConsumer claims: names the node it put
 * the pod on in the claim, for the provisioner to provision there (volumes.ts).
 */
async function selectNodeForClaims(server: ApiServerClient, pod: KubeObject, node: string): Promise<void> {
  for (const name of claimsOfPod(pod)) {
    const claim = await server.get({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: pod.metadata.namespace, name });
    if (!claim || claim.spec?.['volumeName'] || claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION]) continue;
    await racing(() => server.mergePatch(refOf(claim), { metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: node } } }));
  }
}
