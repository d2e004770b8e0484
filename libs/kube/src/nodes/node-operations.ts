import { PatchStrategy, setHeaderOptions, type V1Pod, type V1PodDisruptionBudget } from '@kubernetes/client-node';
import { type DrainResult, ProviderError } from '@capstan/providers';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TenantClients } from '../client/tenant-clients';
import { isNotFound, statusBody, statusCode, toKubeError } from '../client/kube-errors';
import { type BudgetFacts, budgetNamedIn, budgetsCovering } from './disruption-budgets';
import { mapConcurrently } from './concurrency';
import { type PodFacts, planDrain, podKey } from './drain-plan';

export interface DrainOptions {
  /** How long evictions may keep being refused (and evicted pods keep terminating) before the drain gives up. */
  timeoutSeconds: number;
  /** Also delete pods no controller manages (they are gone for good). */
  force: boolean;
}

/** DrainResult with what happened to each pod, for operation logs and messages. */
export interface NodeDrainResult extends DrainResult {
  evicted: string[];
  /** DaemonSet and mirror pods, which a drain leaves on the node. */
  skipped: string[];
  /** Pods not evicted when the drain gave up (those a budget blocks are also in `blockedBy`). */
  pending: string[];
  /** Evicted pods still terminating when the drain gave up. */
  terminating: string[];
}

export interface EvictionBackoff {
  initialMs: number;
  maxMs: number;
  /** How often to look whether evicted pods are gone. */
  pollMs: number;
}

/** kubectl drain retries a refused eviction every 5 s; starting lower lets a budget that relaxes soon cost less. */
export const DEFAULT_BACKOFF: EvictionBackoff = { initialMs: 1_000, maxMs: 5_000, pollMs: 1_000 };

/** kubectl drain evicts every pod at once; a bound keeps a big node from flooding the API server. */
const PARALLEL_EVICTIONS = 8;

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Cordon and uncordon are `spec.unschedulable`, as kubectl does them. */
export async function setUnschedulable(clients: TenantClients, node: string, unschedulable: boolean): Promise<void> {
  try {
    await clients.core.patchNode({ name: node, body: { spec: { unschedulable: unschedulable ? true : null } } }, mergePatch);
  } catch (error) {
    throw toKubeError(error, `${unschedulable ? 'cordoning' : 'uncordoning'} node ${node}`);
  }
}

type EvictionOutcome = { kind: 'evicted' } | { kind: 'gone' } | { kind: 'blocked'; budgets: string[] };

/**
 * Drains `node` through the Eviction API (policy/v1), so PodDisruptionBudgets are honoured: cordon,
 * evict every pod planDrain selects, retry refused evictions with capped backoff until the
 * timeout, then wait for evicted pods to be gone. A drain that cannot finish returns
 * `drained: false` naming each blocked pod with its budget; pods without a controller stop the
 * drain before anything is evicted unless `force` (a final ProviderError naming them).
 */
export async function drainNode(
  clients: TenantClients,
  node: string,
  options: DrainOptions,
  backoff: EvictionBackoff = DEFAULT_BACKOFF,
): Promise<NodeDrainResult> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  await setUnschedulable(clients, node, true);
  const pods = await podsOn(clients, node);
  const plan = planDrain(pods, { force: options.force });
  if (plan.unmanaged.length > 0 && !options.force) {
    throw new ProviderError(
      `node ${node} runs pods that no controller manages (${plan.unmanaged.map(podKey).join(', ')}): evicting them loses them for good; drain with force to delete them`,
      false,
      'drain_unmanaged_pods',
    );
  }

  const pending = new Map(plan.evict.map((pod) => [podKey(pod), pod]));
  const evicted = new Map<string, PodFacts>();
  const blocked = new Map<string, string[]>();
  for (let delay = backoff.initialMs; ; delay = Math.min(delay * 2, backoff.maxMs)) {
    const round = [...pending.entries()];
    const outcomes = await mapConcurrently(round, PARALLEL_EVICTIONS, ([, pod]) => evict(clients, pod));
    for (const [index, [key, pod]] of round.entries()) {
      const outcome = outcomes[index]!;
      if (outcome.kind === 'blocked') {
        blocked.set(key, outcome.budgets);
        continue;
      }
      pending.delete(key);
      blocked.delete(key);
      if (outcome.kind === 'evicted') evicted.set(key, pod);
    }
    if (pending.size === 0 || Date.now() + delay > deadline) break;
    await sleep(delay);
  }

  const terminating = await waitUntilGone(clients, [...evicted.values()], deadline, backoff.pollMs);
  const blockedBy = [...pending.values()].flatMap((pod) =>
    (blocked.get(podKey(pod)) ?? []).map((podDisruptionBudget) => ({ namespace: pod.namespace, pod: pod.name, podDisruptionBudget })),
  );
  return {
    drained: pending.size === 0 && terminating.length === 0,
    blockedBy,
    evicted: [...evicted.keys()],
    skipped: plan.skipped.map((s) => podKey(s.pod)),
    pending: [...pending.keys()],
    terminating,
  };
}

async function podsOn(clients: TenantClients, node: string): Promise<PodFacts[]> {
  try {
    const list = await clients.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
    return list.items.map(podFacts);
  } catch (error) {
    throw toKubeError(error, `listing the pods on node ${node}`);
  }
}

function podFacts(pod: V1Pod): PodFacts {
  const meta = pod.metadata ?? {};
  return {
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? '',
    ...(meta.uid ? { uid: meta.uid } : {}),
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    ownerReferences: (meta.ownerReferences ?? []).map((o) => ({
      kind: o.kind,
      name: o.name,
      ...(o.controller !== undefined ? { controller: o.controller } : {}),
    })),
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    deleting: Boolean(meta.deletionTimestamp),
  };
}

async function evict(clients: TenantClients, pod: PodFacts): Promise<EvictionOutcome> {
  const doing = `evicting pod ${podKey(pod)}`;
  try {
    await clients.core.createNamespacedPodEviction({
      name: pod.name,
      namespace: pod.namespace,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: pod.name, namespace: pod.namespace },
        // The pod we planned to evict, not a namesake a StatefulSet made since.
        ...(pod.uid ? { deleteOptions: { preconditions: { uid: pod.uid } } } : {}),
      },
    });
    return { kind: 'evicted' };
  } catch (error) {
    const code = statusCode(error);
    if (code === 404) return { kind: 'gone' };
    // A failed uid precondition: the pod we meant is gone and a namesake replaced it.
    if (code === 409) return { kind: 'gone' };
    if (code === 429) {
      const causes = (statusBody(error).details?.causes ?? []).map((c) => c.message ?? '');
      const named = budgetNamedIn(causes);
      return { kind: 'blocked', budgets: named ? [named] : budgetsCovering(pod, await budgetsIn(clients, pod.namespace)) };
    }
    // kube-apiserver refuses (500) to evict a pod covered by more than one budget; it may be fixed meanwhile.
    if (code === 500 && /more than one PodDisruptionBudget/i.test(statusBody(error).message ?? '')) {
      return { kind: 'blocked', budgets: budgetsCovering(pod, await budgetsIn(clients, pod.namespace)) };
    }
    throw toKubeError(error, doing);
  }
}

async function budgetsIn(clients: TenantClients, namespace: string): Promise<BudgetFacts[]> {
  try {
    const list = await clients.policy.listNamespacedPodDisruptionBudget({ namespace });
    return list.items.map((b: V1PodDisruptionBudget) => ({
      namespace: b.metadata?.namespace ?? namespace,
      name: b.metadata?.name ?? '',
      selector: (b.spec?.selector as BudgetFacts['selector'] | undefined) ?? null,
    }));
  } catch (error) {
    throw toKubeError(error, `listing the PodDisruptionBudgets of namespace ${namespace}`);
  }
}

/** The evicted pods still there (same uid) when the deadline passes. */
async function waitUntilGone(clients: TenantClients, pods: PodFacts[], deadline: number, pollMs: number): Promise<string[]> {
  let remaining = pods;
  for (;;) {
    const present = await mapConcurrently(remaining, PARALLEL_EVICTIONS, async (pod) => {
      try {
        const current = await clients.core.readNamespacedPod({ name: pod.name, namespace: pod.namespace });
        return !pod.uid || current.metadata?.uid === pod.uid;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw toKubeError(error, `waiting for pod ${podKey(pod)} to terminate`);
      }
    });
    remaining = remaining.filter((_, index) => present[index]);
    if (remaining.length === 0 || Date.now() + pollMs > deadline) return remaining.map(podKey);
    await sleep(pollMs);
  }
}
