import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import {
  controllerReference,
  DAEMON_SET,
  isOwnedBy,
  isPodActive,
  isPodReady,
  isTerminating,
  labelsOf,
  NODE,
  POD,
  podPhase,
  podSpec,
  refOf,
  replacing,
  sameJson,
  templateOf,
} from './model';
import { templateHash } from './names';
import { NOT_READY_TAINT, UNREACHABLE_TAINT, UNSCHEDULABLE_TAINT } from './nodes';
import { effectiveTaints } from './placement';
import { podFromTemplate } from './pods';
import { availableSince } from './replicasets';
import { scaledValue } from './rollout';
import { createIfAbsent, deleteIfPresent, listOptions, racing, reconcileScope } from './runtime';
import { nodeMatchesPod, type Toleration, untoleratedTaint } from './selectors';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

/**
 * DaemonSet -> one pod per eligible node. Eligible: the template's node selector and affinity
 * match, and its tolerations (plus those the DaemonSet controller adds to every daemon pod) cover
 * the node's NoSchedule/NoExecute taints, so cordoned nodes keep their daemon pods, which is why
 * `kubectl drain` needs `--ignore-daemonsets`. Each pod is pinned to its node by node affinity and
 * placed by the scheduler; a template change is rolled out `maxUnavailable` nodes at a time.
 */
export const DAEMON_POD_TOLERATIONS: Toleration[] = [
  { key: NOT_READY_TAINT, operator: 'Exists', effect: 'NoExecute' },
  { key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: UNSCHEDULABLE_TAINT, operator: 'Exists', effect: 'NoSchedule' },
];
const HOST_NETWORK_TOLERATION: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };
const REVISION_HASH = 'controller-revision-hash';

export const daemonSetController: EmulatedController = {
  name: 'workload/daemonsets',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['DaemonSet', 'Pod', 'Node'], 'workload/daemonsets');
    if (!scope) return;
    const daemonSets = await server.list(DAEMON_SET.apiVersion, DAEMON_SET.kind, listOptions(scope));
    if (daemonSets.length === 0) return;
    const pods = await server.list(POD.apiVersion, POD.kind, listOptions(scope));
    const nodes = await server.list(NODE.apiVersion, NODE.kind);
    for (const ds of daemonSets) {
      if (isTerminating(ds)) continue;
      await syncDaemonSet(
        server,
        ds,
        nodes,
        pods.filter((pod) => isOwnedBy(pod, ds)),
        context.now(),
      );
    }
  },
};

export function daemonPodTolerations(template: ReturnType<typeof templateOf>): Toleration[] {
  const own = template.spec?.tolerations ?? [];
  return [...own, ...DAEMON_POD_TOLERATIONS, ...(template.spec?.hostNetwork ? [HOST_NETWORK_TOLERATION] : [])];
}

/** Whether the DaemonSet wants a pod on this node. */
export function shouldRunOn(ds: KubeObject, node: KubeObject): boolean {
  if (isTerminating(node)) return false;
  const template = templateOf(ds);
  const terms = template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!nodeMatchesPod({ name: node.metadata.name, labels: labelsOf(node) }, template.spec?.nodeSelector, terms)) return false;
  return !untoleratedTaint(effectiveTaints(node), daemonPodTolerations(template), ['NoSchedule', 'NoExecute']);
}

/** The node a daemon pod is for: where it runs, or where its node affinity pins it. */
export function targetNode(pod: KubeObject): string | undefined {
  const spec = podSpec(pod);
  if (spec.nodeName) return spec.nodeName;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) for (const field of term.matchFields ?? []) if (field.key === 'metadata.name' && field.values?.length === 1) return field.values[0];
  return undefined;
}

function daemonPod(ds: KubeObject, node: string, hash: string): KubeObject {
  const template = templateOf(ds);
  const affinity = {
    ...template.spec?.affinity,
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: [node] }] }],
      },
    },
  };
  return podFromTemplate({
    template,
    namespace: ds.metadata.namespace!,
    generateName: `${ds.metadata.name}-`,
    owner: controllerReference(ds),
    labels: { [REVISION_HASH]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
    spec: { affinity, tolerations: daemonPodTolerations(template) },
  });
}

async function syncDaemonSet(server: ApiServerClient, ds: KubeObject, nodes: KubeObject[], owned: KubeObject[], now: Date): Promise<void> {
  const hash = templateHash(templateOf(ds));
  const byNode = new Map<string, KubeObject[]>();
  for (const pod of owned) {
    if (!isPodActive(pod) && podPhase(pod) !== 'Failed') continue;
    const node = targetNode(pod);
    if (!node) continue;
    byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  const eligible = nodes.filter((node) => shouldRunOn(ds, node));
  const eligibleNames = new Set(eligible.map((n) => n.metadata.name));

  for (const [node, pods] of byNode) {
    const failed = pods.filter((pod) => podPhase(pod) === 'Failed');
    const active = pods.filter(isPodActive);
    const surplus = eligibleNames.has(node)
      ? [...active].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')).slice(1)
      : active;
    for (const pod of [...failed, ...surplus]) await deleteIfPresent(server, refOf(pod));
  }
  for (const node of eligible) {
    if (!(byNode.get(node.metadata.name) ?? []).some(isPodActive)) await createIfAbsent(server, daemonPod(ds, node.metadata.name, hash));
  }

  const strategy = (ds.spec?.['updateStrategy'] as { type?: string; rollingUpdate?: { maxUnavailable?: number | string } } | undefined) ?? {};
  const minReadySeconds = (ds.spec?.['minReadySeconds'] as number | undefined) ?? 0;
  const current = eligible.map((node) => (byNode.get(node.metadata.name) ?? []).find(isPodActive)).filter((pod): pod is KubeObject => !!pod);
  const available = current.filter((pod) => availableSince(pod, minReadySeconds, now));
  if (strategy.type !== 'OnDelete') {
    const budget = Math.max(1, scaledValue(strategy.rollingUpdate?.maxUnavailable ?? 1, eligible.length, true));
    const unavailable = eligible.length - available.length;
    const outdated = current.filter((pod) => pod.metadata.labels?.[REVISION_HASH] !== hash);
    // Unavailable outdated pods first: replacing them costs no availability.
    const order = [...outdated.filter((p) => !isPodReady(p)), ...outdated.filter(isPodReady)];
    let room = budget - unavailable;
    for (const pod of order) {
      if (isPodReady(pod) && room <= 0) break;
      await deleteIfPresent(server, refOf(pod));
      if (isPodReady(pod)) room--;
    }
  }

  const status: Record<string, unknown> = {
    currentNumberScheduled: current.filter((pod) => !!podSpec(pod).nodeName).length,
    desiredNumberScheduled: eligible.length,
    numberMisscheduled: [...byNode.keys()].filter(
      (node) => !eligibleNames.has(node) && (byNode.get(node) ?? []).some((p) => isPodActive(p) && !!podSpec(p).nodeName),
    ).length,
    numberReady: current.filter(isPodReady).length,
    numberAvailable: available.length,
    numberUnavailable: eligible.length - available.length,
    updatedNumberScheduled: current.filter((pod) => pod.metadata.labels?.[REVISION_HASH] === hash && !!podSpec(pod).nodeName).length,
    observedGeneration: ds.metadata.generation ?? 1,
  };
  for (const key of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled']) if (status[key] === 0) delete status[key];
  if (!sameJson(ds.status ?? {}, status))
    await racing(() => server.mergePatch(refOf(ds), { status: replacing(ds.status, status) }, { ...KUBE_CONTROLLER_MANAGER, subresource: 'status' }));
}
