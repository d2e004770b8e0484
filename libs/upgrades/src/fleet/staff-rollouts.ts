import type { fleetRoutes, z } from '@capstan/contracts';
import { ConflictError, NotFoundError } from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { Clock, Database, type db, decodeCursor, type Page, toPage } from '@capstan/platform';
import { type Actor, AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { type RolloutClusterRow, type RolloutRow, RolloutsRepository } from './rollouts.repository';

type RolloutView = z.infer<typeof fleetRoutes.rolloutSchema>;
type RolloutSummaryView = z.infer<typeof fleetRoutes.rolloutSummarySchema>;

/** The staff side of rollouts: `GET /admin/v1/rollouts`, one rollout, and pause, resume, halt (audited). */
@Injectable()
export class StaffRollouts {
  constructor(
    private readonly rollouts: RolloutsRepository,
    private readonly auditLog: AuditLog,
    private readonly events: EventsService,
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async list(filter: { state?: db.RolloutState }, limit: number, cursor?: string): Promise<Page<RolloutSummaryView>> {
    const rows = await this.rollouts.page({ state: filter.state, before: decodeCursor(cursor, 'ro') }, limit);
    const counts = await this.rollouts.counts(rows.slice(0, limit).map((r) => r.id));
    return toPage(rows, limit, (r) => summary(r, counts.get(r.id) ?? {}));
  }

  async get(id: string): Promise<RolloutView> {
    const rollout = await this.rollouts.get(id);
    if (!rollout) throw new NotFoundError('rollout', id);
    return present(rollout, await this.rollouts.clusters([id]));
  }

  pause(actor: Actor, id: string, reason: string) {
    return this.change(actor, id, reason, 'pause', ['active'], 'paused');
  }

  resume(actor: Actor, id: string, reason: string) {
    return this.change(actor, id, reason, 'resume', ['paused'], 'active');
  }

  halt(actor: Actor, id: string, reason: string) {
    return this.change(actor, id, reason, 'halt', ['active', 'paused'], 'halted');
  }

  /** One guarded state change with its audit event (and, for a halt, its skipped clusters and event). */
  private async change(actor: Actor, id: string, reason: string, action: 'pause' | 'resume' | 'halt', from: db.RolloutState[], to: db.RolloutState) {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const rollout = await this.rollouts.getForUpdate(trx, id);
      if (!rollout) throw new NotFoundError('rollout', id);
      if (!from.includes(rollout.state)) {
        throw new ConflictError('rollout-state', `rollout ${id} is ${rollout.state}; only a rollout that is ${from.join(' or ')} can be told to ${action}`);
      }
      await this.rollouts.setState(trx, id, from, { state: to, reason: action === 'resume' ? null : `staff: ${reason}` }, now);
      if (action === 'halt') {
        const skipped = await this.rollouts.skipPlanned(trx, id, 'the rollout was halted by staff', now);
        await this.events.record(trx, {
          organizationId: null,
          type: 'dev.capstan.rollout.halted',
          source: `/admin/v1/rollouts/${id}`,
          data: { rollout_id: id, wave: rollout.current_wave, reason: `staff: ${reason}`, skipped_clusters: skipped },
        });
      }
      await this.auditLog.record(trx, {
        organizationId: null,
        actor,
        action: `rollout.${action}`,
        target: { type: 'rollout', id },
        changes: { state: { before: rollout.state, after: to } },
        reason,
      });
    });
    return this.get(id);
  }
}

function summary(r: RolloutRow, counts: Record<string, number>): RolloutSummaryView {
  return {
    id: r.id,
    state: r.state,
    reason: r.state_reason,
    trigger: r.trigger,
    current_wave: r.current_wave,
    max_failure_rate: r.max_failure_rate,
    clusters: counts,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

function present(r: RolloutRow, clusters: RolloutClusterRow[]): RolloutView {
  const counts: Record<string, number> = {};
  for (const c of clusters) counts[c.state] = (counts[c.state] ?? 0) + 1;
  const waves = [...new Set(clusters.map((c) => c.wave))].sort((a, b) => a - b);
  return {
    ...summary(r, counts),
    waves: waves.map((index) => {
      const members = clusters.filter((c) => c.wave === index);
      return {
        index,
        tier: members[0]!.tier as 'non_production' | 'production',
        state: index < r.current_wave || r.state === 'completed' ? ('done' as const) : index === r.current_wave ? ('current' as const) : ('waiting' as const),
        clusters: members.map((c) => ({
          cluster_id: c.cluster_id,
          organization_id: c.organization_id,
          from: c.from_version,
          to: c.target_version,
          need: c.need_reason as 'end_of_life' | 'end_of_support_near' | 'patch',
          window_starts_at: c.planned_start.toISOString(),
          window_ends_at: c.planned_end.toISOString(),
          announced_at: c.announced_at.toISOString(),
          state: c.state,
          operation_id: c.operation_id,
          reason: c.state_reason,
        })),
      };
    }),
  };
}
