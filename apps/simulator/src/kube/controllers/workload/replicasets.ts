import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import {
  conditionOf,
  controllerReference,
  isOwnedBy,
  isPodActive,
  isPodReady,
  isTerminating,
  podPhase,
  podSpec,
  POD,
  REPLICA_SET,
  refOf,
  replicasOf,
  sameJson,
  templateOf,
} from './model';
import { podFromTemplate } from './pods';
import { createIfAbsent, deleteIfPresent, listOptions, racing, reconcileScope, wakeAfter } from './runtime';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

/**
 * ReplicaSet -> Pods: as many active pods as `spec.replicas`, the surplus removed in the order
 * upstream picks (unscheduled, then pending, then not ready, then the youngest), and the status
 * counts Deployments and PodDisruptionBudgets read. (Pods of a deleted ReplicaSet go through the
 * emulator's garbage collector.)
 */
export const replicaSetController: EmulatedController = {
  name: 'workload/replicasets',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['ReplicaSet', 'Pod'], 'workload/replicasets');
    if (!scope) return;
    const pods = await server.list(POD.apiVersion, POD.kind, listOptions(scope));
    const sets = await server.list(REPLICA_SET.apiVersion, REPLICA_SET.kind, listOptions(scope));
    for (const rs of sets) {
      if (isTerminating(rs)) continue;
      const availableIn = await syncReplicaSet(
        server,
        rs,
        pods.filter((pod) => isOwnedBy(pod, rs)),
        context.now(),
      );
      if (availableIn > 0) wakeAfter('workload/replicasets', server.name, availableIn);
    }
  },
};

/** Answers how long until a ready pod becomes available (minReadySeconds), 0 when none waits. */
async function syncReplicaSet(server: ApiServerClient, rs: KubeObject, owned: KubeObject[], now: Date): Promise<number> {
  const active = owned.filter(isPodActive);
  const wanted = replicasOf(rs);
  if (active.length < wanted) {
    const template = templateOf(rs);
    for (let i = active.length; i < Math.min(wanted, active.length + 500); i++) {
      await createIfAbsent(
        server,
        podFromTemplate({ template, namespace: rs.metadata.namespace!, generateName: `${rs.metadata.name}-`, owner: controllerReference(rs) }),
      );
    }
  } else if (active.length > wanted) {
    for (const pod of [...active].sort(deletionOrder).slice(0, active.length - wanted)) await deleteIfPresent(server, refOf(pod));
  }
  const minReadySeconds = (rs.spec?.['minReadySeconds'] as number | undefined) ?? 0;
  const ready = active.filter(isPodReady);
  const status: Record<string, unknown> = {
    replicas: active.length,
    fullyLabeledReplicas: active.length,
    readyReplicas: ready.length,
    availableReplicas: ready.filter((pod) => availableSince(pod, minReadySeconds, now)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  for (const key of ['readyReplicas', 'availableReplicas', 'fullyLabeledReplicas'] as const) if (status[key] === 0) delete status[key];
  if (!sameJson(rs.status ?? {}, status)) await racing(() => server.updateStatus({ ...rs, status }, KUBE_CONTROLLER_MANAGER));
  const waiting = ready.filter((pod) => !availableSince(pod, minReadySeconds, now)).map((pod) => readySince(pod) + minReadySeconds * 1000 - now.getTime());
  return waiting.length ? Math.max(1, Math.min(...waiting)) : 0;
}

function readySince(pod: KubeObject): number {
  return Date.parse(conditionOf(pod, 'Ready')?.lastTransitionTime ?? '') || 0;
}

/** Ready for at least minReadySeconds (Kubernetes' definition of an available replica). */
export function availableSince(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = conditionOf(pod, 'Ready')?.lastTransitionTime;
  return !!since && now.getTime() - Date.parse(since) >= minReadySeconds * 1000;
}

/** Which surplus pod goes first: upstream's ActivePods ordering. */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const scheduled = (pod: KubeObject) => (podSpec(pod).nodeName ? 1 : 0);
  const phase = (pod: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 })[podPhase(pod)] ?? 1;
  const ready = (pod: KubeObject) => (isPodReady(pod) ? 1 : 0);
  const created = (pod: KubeObject) => pod.metadata.creationTimestamp ?? '';
  return scheduled(a) - scheduled(b) || phase(a) - phase(b) || ready(a) - ready(b) || created(b).localeCompare(created(a));
}
