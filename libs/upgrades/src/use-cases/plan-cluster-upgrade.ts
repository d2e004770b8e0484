import type { RouteInput, upgradeRoutes } from '@capstan/contracts';
import { defaultVersionFor, nextWindow, planUpgrade, UnprocessableError, type UpgradePlan, type UpgradeStep } from '@capstan/domain';
import { Clock } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { UpgradeClusterSource } from '../upgrade-cluster-source';

type PlanView = ReturnType<typeof presentPlan>;
type Query = RouteInput<typeof upgradeRoutes.getUpgradePlan>['query'];

function presentStep(s: UpgradeStep) {
  const pool =
    s.kind === 'node_pool' || s.kind === 'node_pool_catch_up' ? { id: s.poolId, name: s.pool, max_surge: s.maxSurge, max_unavailable: s.maxUnavailable } : null;
  return {
    kind: s.kind,
    from: s.kind === 'addons' ? null : s.from,
    to: s.kind === 'addons' ? null : s.to,
    node_pool: pool,
    addon_changes: s.kind === 'addons' ? s.changes : [],
    skew_after: { ok: s.skew.ok, control_plane: s.skew.controlPlane, violations: s.skew.violations },
  };
}

export function presentPlan(clusterId: string, plan: UpgradePlan, window: { startsAt: Date; endsAt: Date } | null) {
  return {
    cluster_id: clusterId,
    from: plan.from,
    to: plan.to,
    hops: plan.hops.map((h) => ({ from: h.from, to: h.to, minor: h.minor, steps: h.steps.map(presentStep) })),
    blockers: plan.blockers,
    runnable: plan.blockers.length === 0,
    removed_api_scan: plan.removedApiScan,
    disruption_budget_scan: plan.disruptionBudgetScan,
    next_window: window ? { starts_at: window.startsAt.toISOString(), ends_at: window.endsAt.toISOString() } : null,
  };
}

/**
 * GET /v1/clusters/{cluster_id}/upgrade-plan: the explainable plan to `version` (or to the version
 * new clusters get), computed by the pure planner (docs/upgrades.md, "Upgrade plans") from the
 * cluster, the catalogue and the cluster's window.
 */
@Injectable()
export class PlanClusterUpgrade {
  constructor(
    private readonly source: UpgradeClusterSource,
    private readonly clock: Clock,
  ) {}

  async execute(organizationId: string, clusterId: string, query: Query): Promise<PlanView> {
    const now = this.clock.now();
    const cluster = await this.source.cluster(organizationId, clusterId);
    const catalogue = await this.source.catalogue(cluster.provider);
    const target = query.version ?? defaultVersionFor(cluster.provider, now, catalogue)?.minor;
    if (!target)
      throw new UnprocessableError('version-not-offered', `no Kubernetes version of ${cluster.provider} is generally supported today; name one with ?version=`);
    const plan = planUpgrade({
      provider: cluster.provider,
      controlPlaneVersion: cluster.controlPlaneVersion,
      pools: cluster.pools,
      target,
      catalogue,
      now,
      objects: cluster.objects,
      disruptionBudgets: cluster.disruptionBudgets,
      exclusions: cluster.exclusions,
      addons: cluster.addons,
    });
    return presentPlan(cluster.id, plan, cluster.window ? nextWindow(cluster.window, now) : null);
  }
}
