import type { RouteInput, upgradeRoutes } from '@capstan/contracts';
import {
  assertClusterAccepts,
  type ClusterObject,
  exclusionCovers,
  type MaintenanceWindowSpec,
  MIN_WINDOW_LEFT_FOR_A_STEP_MS,
  occurrences,
  plannedSlot,
  planUpgrade,
  UnprocessableError,
  type UpgradeBlocker,
  type UpgradeOperationParams,
  upgradeOperationSteps,
  windowGate,
} from '@capstan/domain';
import { ClusterBackends } from '@capstan/kube';
import { Clock } from '@capstan/platform';
import { externalClusterName, ProviderError } from '@capstan/providers';
import { Injectable, Logger } from '@nestjs/common';
import { UpgradeClusterSource, type UpgradeClusterFacts, type UpgradeRequester } from '../upgrade-cluster-source';

const NEXT_WINDOW_HORIZON_MS = 70 * 86_400_000;

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

  /**
   * `override`: staff's security override (docs/upgrades.md, "Advisories"): the cluster's
   * exclusions do not block this upgrade; the operation's params keep the override and the
   * exclusions it overrode, next to its `cluster.upgrade` audit event in the same transaction.
   */
  async execute(requester: UpgradeRequester, clusterId: string, body: Body, override?: { advisoryId: string; reason: string }) {
    const now = this.clock.now();
    const cluster = await this.source.cluster(requester.organizationId, clusterId);
    // Early, so a cluster that cannot take an upgrade is not scanned first; the check under the lock decides.
    assertClusterAccepts(cluster, 'upgrade_cluster');
    const catalogue = await this.source.catalogue(cluster.provider);
    const input = { ...cluster, target: body.version, catalogue, now, disruptionBudgets: null };
    // A skip, a downgrade or an unknown version is refused here, before the cluster is asked anything.
    const unscanned = planUpgrade({ ...input, objects: null });
    const when =
      body.start === 'next_window'
        ? this.nextWindow(
            cluster.window,
            cluster.exclusions,
            unscanned.hops.some((h) => h.minor),
            now,
          )
        : null;
    const objects = await this.scan(cluster.provider, clusterId, unscanned.to);
    const systemPool = this.systemPool(cluster.provider);
    return this.source.startUpgrade(requester, clusterId, (locked) => {
      // An exclusion that does not overlap the chosen window does not block work planned for it.
      const exclusions = when?.notBefore || override ? [] : input.exclusions;
      const plan = planUpgrade({ ...input, exclusions, controlPlaneVersion: locked.controlPlaneVersion, pools: locked.pools, objects });
      if (plan.blockers.length > 0) throw blocked(plan.to, plan.blockers);
      const steps = upgradeOperationSteps(plan, systemPool ? { systemPool } : {});
      const params: Omit<UpgradeOperationParams, 'previousClusterStatus'> & { start?: string; window?: MaintenanceWindowSpec } = {
        from: plan.from,
        target: plan.to,
        steps,
        ...(when ? { start: 'next_window', window: when.window } : {}),
        ...(override
          ? {
              exclusion_override: {
                advisory_id: override.advisoryId,
                reason: override.reason,
                overridden: input.exclusions
                  .filter((e) => e.startsAt <= now && now < e.endsAt)
                  .map((e) => ({ scope: e.scope, starts_at: e.startsAt.toISOString(), ends_at: e.endsAt.toISOString() })),
              },
            }
          : {}),
      };
      return { target: plan.to, steps: steps.map((s) => s.name), params, notBefore: when?.notBefore };
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
   * `start: next_window` (docs/upgrades.md, "Starting in the next window"): at once when a window
   * is running now with time left for a step and no exclusion covering the work is in force;
   * otherwise at the start of the first occurrence that no such exclusion overlaps.
   */
  private nextWindow(window: MaintenanceWindowSpec | null, exclusions: UpgradeClusterFacts['exclusions'], minor: boolean, now: Date) {
    if (!window) {
      throw new UnprocessableError('no-maintenance-window', 'the cluster has no usable maintenance window to start the upgrade in; set one, or start it now', {
        rule: 'next_window needs a maintenance window',
      });
    }
    const covering = exclusions.filter((e) => exclusionCovers(e.scope, { minor }));
    const gate = windowGate(window, now, MIN_WINDOW_LEFT_FOR_A_STEP_MS);
    if (gate?.open && !covering.some((e) => e.startsAt <= now && now < e.endsAt)) return { window, notBefore: undefined };
    const slot = plannedSlot(occurrences(window, now, new Date(now.getTime() + NEXT_WINDOW_HORIZON_MS)), covering, { minor }, now);
    if (!slot) {
      throw new UnprocessableError(
        'no-window-free-of-exclusions',
        'every maintenance window of the coming 70 days overlaps an exclusion that covers this upgrade',
        {
          rule: 'next_window runs in a window no exclusion covers',
        },
      );
    }
    return { window, notBefore: slot.startsAt };
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
