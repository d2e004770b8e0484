import {
  BulkOccurrences,
  ConflictError,
  DomainError,
  evaluateWave,
  MIN_WINDOW_LEFT_FOR_A_STEP_MS,
  plannedSlot,
  planUpgrade,
  type UpgradeOperationParams,
  upgradeOperationSteps,
  type WaveClusterOutcome,
} from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { OperationHistory } from '@capstan/operations';
import { Clock, Database } from '@capstan/platform';
import { Injectable, Logger } from '@nestjs/common';
import { type FleetClusterFacts, FleetClusterSource } from './fleet-cluster-source';
import { FLEET_ACTOR, FleetPolicyConfig } from './fleet-policy';
import { type RolloutClusterRow, type RolloutRow, RolloutsRepository } from './rollouts.repository';

const DAY_MS = 86_400_000;

export interface AdvanceResult {
  started: number;
  replanned: number;
  finished: number;
  halted: string[];
  completed: string[];
}

/**
 * The rollouts' clock tick (docs/upgrades.md, "Staged rollouts"), run every few minutes by the
 * worker's fleet scheduler: it follows the upgrades it started, judges the current wave (a failure
 * rate above the threshold halts the rollout and tells staff why; a wave that is done and healthy
 * lets the next one go), and starts the current wave's clusters whose announced window has come.
 * A cluster whose window passed while it had to wait (its wave was not cleared yet, the cluster was
 * busy, an exclusion was added since) is planned again in its next window and announced again.
 */
@Injectable()
export class AdvanceRollouts {
  private readonly logger = new Logger(AdvanceRollouts.name);

  constructor(
    private readonly source: FleetClusterSource,
    private readonly rollouts: RolloutsRepository,
    private readonly history: OperationHistory,
    private readonly events: EventsService,
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: FleetPolicyConfig,
  ) {}

  async execute(): Promise<AdvanceResult> {
    const result: AdvanceResult = { started: 0, replanned: 0, finished: 0, halted: [], completed: [] };
    for (const rollout of await this.rollouts.open()) await this.advance(rollout, result);
    return result;
  }

  private async advance(rollout: RolloutRow, result: AdvanceResult): Promise<void> {
    const now = this.clock.now();
    let clusters = await this.rollouts.clusters([rollout.id]);
    result.finished += await this.follow(clusters, now);
    clusters = await this.rollouts.clusters([rollout.id]);

    let wave = rollout.current_wave;
    for (;;) {
      const members = clusters.filter((c) => c.wave === wave);
      const succeeded = members.filter((c) => c.state === 'succeeded' && c.started_at);
      const down = await this.source.downSince(new Map(succeeded.map((c) => [c.cluster_id, c.started_at!])));
      const outcomes: WaveClusterOutcome[] = members.map((c) => ({ clusterId: c.cluster_id, state: c.state, downSinceUpgrade: down.has(c.cluster_id) }));
      const verdict = evaluateWave(outcomes, rollout.max_failure_rate);
      if (verdict.verdict === 'halt') {
        await this.halt(rollout, wave, verdict.reason, now);
        result.halted.push(rollout.id);
        return;
      }
      if (verdict.verdict !== 'healthy') break;
      const next = clusters.filter((c) => c.wave > wave).reduce((m, c) => Math.min(m, c.wave), Number.POSITIVE_INFINITY);
      await this.db.transaction().execute(async (trx) => {
        const done = !Number.isFinite(next);
        const moved = await this.rollouts.setState(
          trx,
          rollout.id,
          [rollout.state],
          done ? { state: 'completed', currentWave: wave } : { state: rollout.state, currentWave: next },
          now,
        );
        if (!moved) return;
        await this.events.record(trx, {
          organizationId: null,
          type: done ? 'dev.capstan.rollout.completed' : 'dev.capstan.rollout.wave_healthy',
          source: `/admin/v1/rollouts/${rollout.id}`,
          data: { rollout_id: rollout.id, wave, unhealthy: verdict.unhealthy, clusters: verdict.total, next_wave: done ? null : next },
        });
      });
      if (!Number.isFinite(next)) {
        result.completed.push(rollout.id);
        return;
      }
      wave = next;
    }
    // Paused by staff: what runs goes on, nothing new starts.
    if (rollout.state !== 'active') return;
    const due = clusters.filter((c) => c.wave === wave && c.state === 'planned' && c.planned_start <= now);
    if (due.length === 0) return;
    const facts = new Map(
      (
        await this.source.byIds(
          due.map((c) => c.cluster_id),
          now,
        )
      ).map((f) => [f.id, f]),
    );
    const catalogue = await this.source.catalogue();
    for (const c of due) {
      const cluster = facts.get(c.cluster_id);
      if (!cluster) {
        await this.rollouts.setClusterState(this.db, key(c), ['planned'], { state: 'skipped', reason: 'the cluster no longer exists' }, now);
        continue;
      }
      const inWindow = now.getTime() <= c.planned_end.getTime() - MIN_WINDOW_LEFT_FOR_A_STEP_MS;
      if (!inWindow) {
        await this.replan(rollout, c, cluster, now, 'its window passed before it could start');
        result.replanned++;
        continue;
      }
      const outcome = await this.start(rollout, c, cluster, catalogue, now);
      if (outcome === 'started') result.started++;
      if (outcome === 'excluded') {
        await this.replan(rollout, c, cluster, now, 'an exclusion covers its window now');
        result.replanned++;
      }
    }
  }

  /** Records what became of the upgrades this rollout started; returns how many ended. */
  private async follow(clusters: RolloutClusterRow[], now: Date): Promise<number> {
    const running = clusters.filter((c) => c.state === 'running' && c.operation_id);
    const statuses = await this.history.statuses(running.map((c) => c.operation_id!));
    let ended = 0;
    for (const c of running) {
      const op = statuses.get(c.operation_id!);
      if (!op) continue;
      const change =
        op.status === 'succeeded'
          ? { state: 'succeeded' as const, reason: null }
          : op.status === 'failed'
            ? { state: 'failed' as const, reason: `operation ${c.operation_id} failed` }
            : op.status === 'needs_attention'
              ? { state: 'failed' as const, reason: `operation ${c.operation_id} needs attention` }
              : op.status === 'cancelled'
                ? { state: 'skipped' as const, reason: `operation ${c.operation_id} was cancelled` }
                : null;
      if (change && (await this.rollouts.setClusterState(this.db, key(c), ['running'], change, now))) ended++;
    }
    return ended;
  }

  private async halt(rollout: RolloutRow, wave: number, reason: string, now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (!(await this.rollouts.setState(trx, rollout.id, ['active', 'paused'], { state: 'halted', reason: `wave ${wave}: ${reason}` }, now))) return;
      const skipped = await this.rollouts.skipPlanned(trx, rollout.id, 'the rollout halted', now);
      await this.events.record(trx, {
        organizationId: null,
        type: 'dev.capstan.rollout.halted',
        source: `/admin/v1/rollouts/${rollout.id}`,
        data: { rollout_id: rollout.id, wave, reason, skipped_clusters: skipped },
      });
    });
    this.logger.warn({ rolloutId: rollout.id, wave, reason }, 'fleet rollout halted');
  }

  private async start(
    rollout: RolloutRow,
    c: RolloutClusterRow,
    cluster: FleetClusterFacts,
    catalogue: Awaited<ReturnType<FleetClusterSource['catalogue']>>,
    now: Date,
  ): Promise<'started' | 'later' | 'skipped' | 'excluded'> {
    try {
      const { operation } = await this.source.startUpgrade({ organizationId: c.organization_id, actor: FLEET_ACTOR }, c.cluster_id, (locked) => {
        const plan = planUpgrade({
          provider: cluster.provider,
          controlPlaneVersion: locked.controlPlaneVersion,
          pools: locked.pools,
          target: c.target_version,
          catalogue,
          now,
          objects: null,
          disruptionBudgets: null,
          exclusions: cluster.exclusions,
        });
        if (plan.blockers.length > 0) throw new BlockedFleetUpgrade(plan.blockers.map((b) => ({ kind: b.kind, reason: b.reason })));
        const steps = upgradeOperationSteps(plan);
        const params: Omit<UpgradeOperationParams, 'previousClusterStatus'> & Record<string, unknown> = {
          from: plan.from,
          target: plan.to,
          steps,
          // The window the steps keep to, and what the SLA report needs to count the work as
          // scheduled maintenance (docs/sla.md, "Exclusions").
          window: cluster.window,
          maintenance: {
            rollout_id: rollout.id,
            announced_at: c.announced_at.toISOString(),
            window_starts_at: c.planned_start.toISOString(),
            window_ends_at: c.planned_end.toISOString(),
          },
        };
        return { target: plan.to, steps: steps.map((s) => s.name), params };
      });
      await this.rollouts.setClusterState(this.db, key(c), ['planned'], { state: 'running', operationId: operation.id, startedAt: now, reason: null }, now);
      return 'started';
    } catch (error) {
      if (error instanceof BlockedFleetUpgrade) {
        if (error.blockers.every((b) => b.kind === 'active_exclusion')) return 'excluded';
        await this.rollouts.setClusterState(this.db, key(c), ['planned'], { state: 'skipped', reason: error.message }, now);
        return 'skipped';
      }
      // Busy with another operation, or in a state that takes no upgrade now: try again next tick.
      if (error instanceof ConflictError) return 'later';
      if (error instanceof DomainError) {
        await this.rollouts.setClusterState(this.db, key(c), ['planned'], { state: 'skipped', reason: error.message }, now);
        return 'skipped';
      }
      throw error;
    }
  }

  /** The next occurrence of the cluster's window free of covering exclusions, announced again. */
  private async replan(rollout: RolloutRow, c: RolloutClusterRow, cluster: FleetClusterFacts, now: Date, why: string): Promise<void> {
    const policy = this.config.policy;
    const minor = c.from_version.split('.').slice(0, 2).join('.') !== c.target_version.split('.').slice(0, 2).join('.');
    const occurrences = cluster.window ? new BulkOccurrences(now, new Date(now.getTime() + policy.horizonDays * DAY_MS)).of(cluster.window) : [];
    const slot = plannedSlot(occurrences, cluster.exclusions, { minor }, new Date(now.getTime() + policy.announceLeadMs));
    await this.db.transaction().execute(async (trx) => {
      if (!slot) {
        await this.rollouts.setClusterState(trx, key(c), ['planned'], { state: 'skipped', reason: `${why}, and no later window is free` }, now);
        return;
      }
      const moved = await this.rollouts.setClusterState(
        trx,
        key(c),
        ['planned'],
        { state: 'planned', plannedStart: slot.startsAt, plannedEnd: slot.endsAt, announcedAt: now, reason: why },
        now,
      );
      if (!moved) return;
      await this.events.record(trx, {
        organizationId: c.organization_id,
        type: 'dev.capstan.upgrade.scheduled',
        source: `/v1/clusters/${c.cluster_id}`,
        subject: `/v1/clusters/${c.cluster_id}`,
        data: {
          cluster_id: c.cluster_id,
          rollout_id: rollout.id,
          from: c.from_version,
          to: c.target_version,
          reason: c.need_reason,
          detail: `moved: ${why}`,
          window_starts_at: slot.startsAt.toISOString(),
          window_ends_at: slot.endsAt.toISOString(),
          wave: c.wave,
          tier: c.tier,
        },
      });
    });
  }
}

const key = (c: RolloutClusterRow) => ({ rolloutId: c.rollout_id, clusterId: c.cluster_id });

class BlockedFleetUpgrade extends Error {
  constructor(readonly blockers: { kind: string; reason: string }[]) {
    super(`the upgrade is blocked: ${blockers.map((b) => b.reason).join('; ')}`);
  }
}
