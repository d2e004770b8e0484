import type { RouteInput, upgradeRoutes } from '@capstan/contracts';
import {
  assertClusterAccepts,
  type ClusterObject,
  planUpgrade,
  UnprocessableError,
  type UpgradeBlocker,
  type UpgradeOperationParams,
  upgradeOperationSteps,
} from '@capstan/domain';
import { ClusterBackends } from '@capstan/kube';
import { Clock } from '@capstan/platform';
import { externalClusterName, ProviderError } from '@capstan/providers';
import { Injectable, Logger } from '@nestjs/common';
import { UpgradeClusterSource, type UpgradeRequester } from '../upgrade-cluster-source';

type Body = RouteInput<typeof upgradeRoutes.startClusterUpgrade>['body'];

/**
 * POST /v1/clusters/{cluster_id}/upgrade (docs/upgrades.md, "Running an upgrade"): the version
 * rules are checked before anything reaches the cluster, then the removed-API scan runs against the
 * target, and the plan is computed again under the cluster's lock from the versions as locked; a
 * plan with blockers is refused, a runnable one becomes the operation's steps.
 */
@Injectable()
export class StartUpgrade {
  private readonly logger = new Logger(StartUpgrade.name);

  constructor(
    private readonly source: UpgradeClusterSource,
    private readonly backends: ClusterBackends,
    private readonly clock: Clock,
  ) {}

  async execute(requester: UpgradeRequester, clusterId: string, body: Body) {
    const now = this.clock.now();
    const cluster = await this.source.cluster(requester.organizationId, clusterId);
    // Early, so a cluster that cannot take an upgrade is not scanned first; the check under the lock decides.
    assertClusterAccepts(cluster, 'upgrade_cluster');
    const catalogue = await this.source.catalogue(cluster.provider);
    const input = { ...cluster, target: body.version, catalogue, now, disruptionBudgets: null };
    // A skip, a downgrade or an unknown version is refused here, before the cluster is asked anything.
    const unscanned = planUpgrade({ ...input, objects: null });
    const objects = await this.scan(cluster.provider, clusterId, unscanned.to);
    const systemPool = this.systemPool(cluster.provider);
    return this.source.startUpgrade(requester, clusterId, (locked) => {
      const plan = planUpgrade({ ...input, controlPlaneVersion: locked.controlPlaneVersion, pools: locked.pools, objects });
      if (plan.blockers.length > 0) throw blocked(plan.to, plan.blockers);
      const steps = upgradeOperationSteps(plan, systemPool ? { systemPool } : {});
      const params: Omit<UpgradeOperationParams, 'previousClusterStatus'> = { from: plan.from, target: plan.to, steps };
      return { target: plan.to, steps: steps.map((s) => s.name), params };
    });
  }

  /** The provider's own pool an upgrade moves too (GKE's), or none where there is no driver. */
  private systemPool(provider: 'rke2' | 'gke'): string | null {
    try {
      return this.backends.infrastructure(provider).systemNodePool;
    } catch (error) {
      if (error instanceof ProviderError) return null;
      throw error;
    }
  }

  /**
   * The objects written through APIs the path removes. A cluster that cannot be asked now (or an
   * installation without drivers) leaves the answer to the operation's preflight step, which scans
   * again in any case and fails the operation with the findings.
   */
  private async scan(provider: 'rke2' | 'gke', clusterId: string, target: string): Promise<ClusterObject[] | null> {
    try {
      return (await (await this.backends.kube(provider, externalClusterName(clusterId))).scanRemovedApis(target)).objects;
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      this.logger.warn({ clusterId, err: error.message }, 'removed-API scan before the upgrade failed; the preflight step will scan');
      return null;
    }
  }
}

function blocked(target: string, blockers: UpgradeBlocker[]): UnprocessableError {
  return new UnprocessableError('upgrade-blocked', `the upgrade to ${target} is blocked: ${blockers.map((b) => b.reason).join('; ')}`, {
    rule: 'no upgrade with blockers',
    blockers,
  });
}
