import type { PodDisruptionBudgetState } from '@capstan/domain';
import type { TenantClients } from '../client/tenant-clients';
import { toKubeError } from '../client/kube-errors';

/** Every PodDisruptionBudget with its status, as the upgrade planner takes them (`UpgradeClusterFacts.disruptionBudgets`). */
export async function readDisruptionBudgets(clients: TenantClients): Promise<PodDisruptionBudgetState[]> {
  try {
    const list = await clients.policy.listPodDisruptionBudgetForAllNamespaces();
    return list.items.map((b) => ({
      namespace: b.metadata?.namespace ?? '',
      name: b.metadata?.name ?? '',
      disruptionsAllowed: b.status?.disruptionsAllowed ?? 0,
      expectedPods: b.status?.expectedPods ?? 0,
    }));
  } catch (error) {
    throw toKubeError(error, 'reading the PodDisruptionBudgets');
  }
}
