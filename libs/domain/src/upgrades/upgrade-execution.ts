/**
 * The steps an `upgrade_cluster` operation runs, computed from the planner's plan when the
 * operation is created (docs/upgrades.md, "Running an upgrade"). Pure: the plan in, the steps out.
 *
 * - First a preflight: the removed-API scan against the target, run again by the worker (objects
 *   may have been written since the request was accepted).
 * - Then per hop, in the planner's order: pools the hop would leave too far behind, an etcd
 *   snapshot before the hop's control plane, minor or patch (the way back if the hop fails;
 *   docs/backups.md, "Before an upgrade"), the control plane, each node pool, then the provider's own system pool
 *   when it has one (GKE's `capstan-system`, after the customer's pools), then the managed add-ons
 *   at the versions that go with the new minor (only when they change).
 * - Last, the cluster is marked upgraded.
 *
 * A rollback of node pools after a failed or stopped upgrade is an `upgrade_cluster` operation of
 * its own (`rollbackOperationSteps`): each pool back to the version it ran, then the cluster marked
 * at the control plane's version, which stays.
 */
import { stepKindOf } from '../operations/operation-plans';
import type { UpgradePlan } from './upgrade-planner';

export type UpgradeStepSpec =
  | { name: string; kind: 'preflight_removed_apis'; target: string }
  | { name: string; kind: 'backup_before_hop'; from: string; to: string }
  | { name: string; kind: 'upgrade_control_plane'; from: string; to: string }
  | { name: string; kind: 'upgrade_node_pool'; poolId: string; pool: string; from: string; to: string }
  | { name: string; kind: 'upgrade_system_pool'; pool: string; to: string }
  | { name: string; kind: 'rollback_node_pool'; poolId: string; pool: string; from: string; to: string; rollbackOf: string }
  | { name: string; kind: 'upgrade_addons'; version: string; changes: { name: string; from: string | null; to: string | null }[] }
  | { name: string; kind: 'mark_upgraded'; version: string };

/** What an upgrade operation keeps in its params: its target and the work of each named step. */
export interface UpgradeOperationParams {
  previousClusterStatus: string;
  from: string;
  target: string;
  steps: UpgradeStepSpec[];
  /** Set on a rollback: the failed or stopped upgrade whose pools it moves back. */
  rollbackOf?: string;
}

export interface UpgradeExecutionOptions {
  /** The provider's own node pool that is not the customer's (GKE: `capstan-system`), upgraded after theirs. */
  systemPool?: string;
}

export function upgradeOperationSteps(plan: UpgradePlan, options: UpgradeExecutionOptions = {}): UpgradeStepSpec[] {
  const steps: UpgradeStepSpec[] = [{ name: 'preflight_removed_apis', kind: 'preflight_removed_apis', target: plan.to }];
  // The system pool follows the customer's pools of its hop, before the hop's add-ons (once per hop).
  const systemPool = (hop: UpgradePlan['hops'][number]) => {
    const name = options.systemPool ? `upgrade_system_pool:${options.systemPool}:${hop.to}` : null;
    if (name && !steps.some((s) => s.name === name)) steps.push({ name, kind: 'upgrade_system_pool', pool: options.systemPool!, to: hop.to });
  };
  for (const hop of plan.hops) {
    for (const step of hop.steps) {
      // Before every control-plane change, a patch as much as a minor: an etcd restore is the only way
      // a control plane goes back (docs/upgrades.md, "When an upgrade fails").
      if (step.kind === 'control_plane') steps.push({ name: `backup_before_hop:${step.to}`, kind: 'backup_before_hop', from: step.from, to: step.to });
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
      else if (step.kind === 'addons') {
        systemPool(hop);
        steps.push({ name: `upgrade_addons:${hop.to}`, kind: 'upgrade_addons', version: hop.to, changes: step.changes });
      }
    }
    systemPool(hop);
  }
  steps.push({ name: 'mark_upgraded', kind: 'mark_upgraded', version: plan.to });
  return steps;
}

/** A pool to move back after a failed or stopped upgrade: to the version it ran before it. */
export interface PoolRollback {
  poolId: string;
  pool: string;
  /** What the provider was moving it to (the failed step's target). */
  from: string;
  /** What it ran before, as Capstan recorded it (a pool's version is written only once it is reached). */
  to: string;
}

/** The steps of a rollback: each pool back, then the cluster marked at its control plane's version. */
export function rollbackOperationSteps(rollbackOf: string, pools: readonly PoolRollback[], controlPlaneVersion: string): UpgradeStepSpec[] {
  return [
    ...pools.map((p): UpgradeStepSpec => ({
      name: `rollback_node_pool:${p.pool}:${p.to}`,
      kind: 'rollback_node_pool',
      poolId: p.poolId,
      pool: p.pool,
      from: p.from,
      to: p.to,
      rollbackOf,
    })),
    { name: 'mark_upgraded', kind: 'mark_upgraded', version: controlPlaneVersion },
  ];
}

/** The spec of the step named `name` in an upgrade operation's params, or undefined. */
export function upgradeStepSpec(params: unknown, name: string): UpgradeStepSpec | undefined {
  const steps = (params as Partial<UpgradeOperationParams> | null)?.steps;
  return Array.isArray(steps) ? steps.find((s) => s.name === name && s.kind === stepKindOf(name)) : undefined;
}
