/**
 * The steps an `upgrade_cluster` operation runs, computed from the planner's plan when the
 * operation is created (docs/upgrades.md, "Running an upgrade"). Pure: the plan in, the steps out.
 *
 * - First a preflight: the removed-API scan against the target, run again by the worker (objects
 *   may have been written since the request was accepted).
 * - Then per hop, in the planner's order: pools the hop would leave too far behind, an etcd
 *   snapshot before a minor hop's control plane (the way back if the hop fails; docs/backups.md,
 *   "Before an upgrade"), the control plane, each node pool, then the managed add-ons at the versions that go with the new minor
 *   (only when they change).
 * - Last, the cluster is marked upgraded.
 */
import { stepKindOf } from '../operations/operation-plans';
import type { UpgradePlan } from './upgrade-planner';

export type UpgradeStepSpec =
  | { name: string; kind: 'preflight_removed_apis'; target: string }
  | { name: string; kind: 'backup_before_hop'; from: string; to: string }
  | { name: string; kind: 'upgrade_control_plane'; from: string; to: string }
  | { name: string; kind: 'upgrade_node_pool'; poolId: string; pool: string; from: string; to: string }
  | { name: string; kind: 'upgrade_addons'; version: string; changes: { name: string; from: string | null; to: string | null }[] }
  | { name: string; kind: 'mark_upgraded'; version: string };

/** What an upgrade operation keeps in its params: its target and the work of each named step. */
export interface UpgradeOperationParams {
  previousClusterStatus: string;
  from: string;
  target: string;
  steps: UpgradeStepSpec[];
}

export function upgradeOperationSteps(plan: UpgradePlan): UpgradeStepSpec[] {
  const steps: UpgradeStepSpec[] = [{ name: 'preflight_removed_apis', kind: 'preflight_removed_apis', target: plan.to }];
  for (const hop of plan.hops) {
    for (const step of hop.steps) {
      if (step.kind === 'control_plane' && hop.minor)
        steps.push({ name: `backup_before_hop:${step.to}`, kind: 'backup_before_hop', from: step.from, to: step.to });
      if (step.kind === 'control_plane') steps.push({ name: `upgrade_control_plane:${step.to}`, kind: 'upgrade_control_plane', from: step.from, to: step.to });
      else if (step.kind === 'node_pool' || step.kind === 'node_pool_catch_up')
        steps.push({
          name: `upgrade_node_pool:${step.pool}:${step.to}`,
          kind: 'upgrade_node_pool',
          poolId: step.poolId,
          pool: step.pool,
          from: step.from,
          to: step.to,
        });
      else if (step.kind === 'addons') steps.push({ name: `upgrade_addons:${hop.to}`, kind: 'upgrade_addons', version: hop.to, changes: step.changes });
    }
  }
  steps.push({ name: 'mark_upgraded', kind: 'mark_upgraded', version: plan.to });
  return steps;
}

/** The spec of the step named `name` in an upgrade operation's params, or undefined. */
export function upgradeStepSpec(params: unknown, name: string): UpgradeStepSpec | undefined {
  const steps = (params as Partial<UpgradeOperationParams> | null)?.steps;
  return Array.isArray(steps) ? steps.find((s) => s.name === name && s.kind === stepKindOf(name)) : undefined;
}
