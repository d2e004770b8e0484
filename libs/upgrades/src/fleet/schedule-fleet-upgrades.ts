import {
  BulkOccurrences,
  DomainError,
  planRollout,
  type PlannedWave,
  planUpgrade,
  type RolloutPlan,
  type UnplannedCluster,
  upgradeNeed,
  type UpgradeNeed,
} from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { Clock, Database, newId } from '@capstan/platform';
import { Injectable, Logger } from '@nestjs/common';
import { type FleetClusterFacts, FleetClusterSource } from './fleet-cluster-source';
import { catalogueFingerprint, FleetPolicyConfig } from './fleet-policy';
import { RolloutsRepository } from './rollouts.repository';

const PAGE = 2_000;
const DAY_MS = 86_400_000;

export interface FleetPass {
  rolloutId: string | null;
  planned: number;
  unplanned: UnplannedCluster[];
  skippedBecauseUnchanged?: boolean;
}

/**
 * The fleet auto-upgrade pass (docs/upgrades.md, "Fleet auto-upgrade"): every running cluster not
 * already in an open rollout that needs an upgrade (end of life, end of support near, a newer
 * patch) is planned in its own window, wave by wave (non-production first), and told ahead with a
 * `dev.capstan.upgrade.scheduled` event (delivered to the organisation's webhooks) naming the time.
 * The rollout, its clusters and the events are written in one transaction.
 */
@Injectable()
export class ScheduleFleetUpgrades {
  private readonly logger = new Logger(ScheduleFleetUpgrades.name);
  private lastPassFingerprint: string | undefined;

  constructor(
    private readonly source: FleetClusterSource,
    private readonly rollouts: RolloutsRepository,
    private readonly events: EventsService,
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: FleetPolicyConfig,
  ) {}

  /** Plans without writing anything: what a pass would do now (and what the bench measures). */
  async plan(): Promise<RolloutPlan & { fingerprint: string; considered: number }> {
    const now = this.clock.now();
    const policy = this.config.policy;
    const catalogue = await this.source.catalogue();
    const busy = await this.rollouts.clustersInOpenRollouts();
    const needing: (FleetClusterFacts & { need: UpgradeNeed })[] = [];
    const refused: UnplannedCluster[] = [];
    let considered = 0;
    let after: string | undefined;
    // Clusters on the same versions have the same need and the same verdict of the version rules:
    // each is computed once per pass (a fleet holds a few dozen combinations, not thousands).
    const needs = new Map<string, UpgradeNeed | null>();
    const refusals = new Map<string, string | null>();
    for (;;) {
      const page = await this.source.page(after, PAGE, now);
      for (const cluster of page) {
        considered++;
        if (cluster.status !== 'running' || busy.has(cluster.id)) continue;
        const needKey = `${cluster.provider}|${cluster.controlPlaneVersion}|${cluster.autoUpgrade}|${cluster.releaseChannel === 'extended'}`;
        let need = needs.get(needKey);
        if (need === undefined) needs.set(needKey, (need = upgradeNeed(cluster, catalogue, now, policy)));
        if (!need) continue;
        // The version rules hold for fleet work too (no skip, the pools within skew): a cluster the
        // planner refuses or blocks is listed with why instead of planned.
        const refusalKey = `${needKey}|${need.target}|${cluster.pools.map((p) => `${p.name}:${p.version}`).join(',')}`;
        let reason = refusals.get(refusalKey);
        if (reason === undefined) refusals.set(refusalKey, (reason = this.refusal(cluster, need, catalogue, now)));
        if (reason) refused.push({ clusterId: cluster.id, organizationId: cluster.organizationId, need, reason });
        else needing.push({ ...cluster, need });
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    const plan = planRollout(needing, now, policy, new BulkOccurrences(now, new Date(now.getTime() + policy.horizonDays * DAY_MS)));
    return { ...plan, unplanned: [...refused, ...plan.unplanned], fingerprint: catalogueFingerprint(catalogue), considered };
  }

  /**
   * One pass. `onlyIfCatalogueChanged`: the frequent check after catalogue edits, which plans only
   * when the catalogue differs from the one the newest rollout was planned from.
   */
  async execute(trigger: string, options: { onlyIfCatalogueChanged?: boolean } = {}): Promise<FleetPass> {
    if (options.onlyIfCatalogueChanged) {
      const current = catalogueFingerprint(await this.source.catalogue());
      // A pass that planned nothing writes no rollout: this process remembers its catalogue too,
      // so an unchanged catalogue is not planned again every tick (another worker may, once).
      if (current === this.lastPassFingerprint || current === (await this.rollouts.lastFingerprint()))
        return { rolloutId: null, planned: 0, unplanned: [], skippedBecauseUnchanged: true };
    }
    const plan = await this.plan();
    this.lastPassFingerprint = plan.fingerprint;
    if (plan.waves.length === 0) return { rolloutId: null, planned: 0, unplanned: plan.unplanned };
    const now = this.clock.now();
    const id = newId('ro');
    await this.db.transaction().execute(async (trx) => {
      await this.rollouts.insert(trx, { id, trigger, fingerprint: plan.fingerprint, maxFailureRate: this.config.policy.maxFailureRate }, plan.waves, now);
      for (const wave of plan.waves) for (const c of wave.clusters) await this.events.record(trx, scheduledEvent(id, wave, c));
      await this.events.record(trx, {
        organizationId: null,
        type: 'dev.capstan.rollout.created',
        source: `/admin/v1/rollouts/${id}`,
        data: {
          rollout_id: id,
          trigger,
          waves: plan.waves.map((w) => ({ index: w.index, tier: w.tier, clusters: w.clusters.length, not_before: w.notBefore.toISOString() })),
          unplanned: plan.unplanned.map((u) => ({ cluster_id: u.clusterId, reason: u.reason })),
        },
      });
    });
    const planned = plan.waves.reduce((n, w) => n + w.clusters.length, 0);
    this.logger.log({ rolloutId: id, planned, unplanned: plan.unplanned.length, trigger }, 'fleet upgrades scheduled');
    return { rolloutId: id, planned, unplanned: plan.unplanned };
  }

  private refusal(cluster: FleetClusterFacts, need: UpgradeNeed, catalogue: Parameters<typeof planUpgrade>[0]['catalogue'], now: Date): string | null {
    try {
      const plan = planUpgrade({
        provider: cluster.provider,
        controlPlaneVersion: cluster.controlPlaneVersion,
        pools: cluster.pools,
        target: need.target,
        catalogue,
        now,
        objects: null,
        disruptionBudgets: null,
        // exclusions are the window planner's: a slot is found outside them
        exclusions: [],
      });
      return plan.blockers.length > 0 ? plan.blockers.map((b) => b.reason).join('; ') : null;
    } catch (error) {
      if (error instanceof DomainError) return error.message;
      throw error;
    }
  }
}

/** The customer's notice, ahead of the window (docs/upgrades.md, "Fleet auto-upgrade"). */
export function scheduledEvent(rolloutId: string, wave: Pick<PlannedWave, 'index' | 'tier'>, c: PlannedWave['clusters'][number]) {
  return {
    organizationId: c.organizationId,
    type: 'dev.capstan.upgrade.scheduled',
    source: `/v1/clusters/${c.clusterId}`,
    subject: `/v1/clusters/${c.clusterId}`,
    data: {
      cluster_id: c.clusterId,
      rollout_id: rolloutId,
      from: c.from,
      to: c.need.target,
      reason: c.need.reason,
      detail: c.need.detail,
      window_starts_at: c.slot.startsAt.toISOString(),
      window_ends_at: c.slot.endsAt.toISOString(),
      wave: wave.index,
      tier: wave.tier,
    },
  };
}
