import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { computeDisruptionStatus, DISRUPTED_POD_TIMEOUT_MS } from './disruption';
import { controllerOf, DEPLOYMENT, isTerminating, PDB, POD, REPLICA_SET, refOf, replacing, replicasOf, sameJson, STATEFUL_SET } from './model';
import { listOptions, racing, reconcileScope, wakeAfter } from './runtime';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

/**
 * The disruption controller: keeps each PodDisruptionBudget's status (currentHealthy,
 * desiredHealthy, disruptionsAllowed, expectedPods, observedGeneration, disruptedPods and the
 * DisruptionAllowed condition) in step with the pods it selects. The eviction subresource trusts
 * this status, and refuses with "still being processed" until observedGeneration catches up.
 */
export const disruptionBudgetController: EmulatedController = {
  name: 'workload/disruption-budgets',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['PodDisruptionBudget', 'Pod', 'ReplicaSet', 'Deployment', 'StatefulSet'], 'workload/disruption-budgets');
    if (!scope) return;
    const budgets = (await server.list(PDB.apiVersion, PDB.kind, listOptions(scope))).filter((pdb) => !isTerminating(pdb));
    if (budgets.length === 0) return;
    const pods = await server.list(POD.apiVersion, POD.kind, listOptions(scope));
    const scaleOf = needsScale(budgets) ? await scaleLookup(server, scope) : () => undefined;
    const now = context.now();
    for (const pdb of budgets) {
      const status = computeDisruptionStatus(pdb, pods, scaleOf, now);
      // An eviction the budget recorded stops counting after a while even if its pod never goes.
      for (const at of Object.values(status.disruptedPods ?? {})) {
        wakeAfter('workload/disruption-budgets', server.name, Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS - now.getTime());
      }
      if (!sameJson(pdb.status ?? {}, status)) {
        await racing(() =>
          server.mergePatch(
            refOf(pdb),
            { status: replacing(pdb.status, status as unknown as Record<string, unknown>) },
            { ...KUBE_CONTROLLER_MANAGER, subresource: 'status' },
          ),
        );
      }
    }
  },
};

function needsScale(budgets: KubeObject[]): boolean {
  return budgets.some((pdb) => typeof pdb.spec?.['minAvailable'] !== 'number');
}

/** Desired replicas of each pod controller by uid; a Deployment's ReplicaSets answer with the Deployment's scale. */
async function scaleLookup(server: ApiServerClient, scope: { namespace?: string }): Promise<(uid: string) => number | undefined> {
  const [sets, deployments, statefulSets] = await Promise.all([
    server.list(REPLICA_SET.apiVersion, REPLICA_SET.kind, listOptions(scope)),
    server.list(DEPLOYMENT.apiVersion, DEPLOYMENT.kind, listOptions(scope)),
    server.list(STATEFUL_SET.apiVersion, STATEFUL_SET.kind, listOptions(scope)),
  ]);
  const scale = new Map<string, number>();
  const deploymentScale = new Map(deployments.map((d) => [d.metadata.uid!, replicasOf(d)]));
  for (const rs of sets) {
    const owner = controllerOf(rs);
    scale.set(rs.metadata.uid!, owner?.kind === 'Deployment' && deploymentScale.has(owner.uid) ? deploymentScale.get(owner.uid)! : replicasOf(rs));
  }
  for (const sts of statefulSets) scale.set(sts.metadata.uid!, replicasOf(sts));
  return (uid) => scale.get(uid);
}
