import type { PlannedWave, RolloutClusterState } from '@capstan/domain';
import { Database, type db, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';

export interface RolloutRow {
  id: string;
  state: db.RolloutState;
  trigger: string;
  catalogue_fingerprint: string;
  current_wave: number;
  max_failure_rate: number;
  state_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface RolloutClusterRow {
  rollout_id: string;
  cluster_id: string;
  organization_id: string;
  wave: number;
  tier: string;
  from_version: string;
  target_version: string;
  need_reason: string;
  planned_start: Date;
  planned_end: Date;
  announced_at: Date;
  state: RolloutClusterState;
  operation_id: string | null;
  state_reason: string | null;
  started_at: Date | null;
  updated_at: Date;
}

/** Rows in the tables libs/upgrades owns: `upgrade_rollouts` and `rollout_clusters`. */
@Injectable()
export class RolloutsRepository {
  constructor(private readonly db: Database) {}

  /** Clusters already planned or running in a rollout that is not over: a new pass leaves them alone. */
  async clustersInOpenRollouts(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('rollout_clusters as rc')
      .innerJoin('upgrade_rollouts as r', 'r.id', 'rc.rollout_id')
      .select('rc.cluster_id')
      .where('r.state', 'in', ['active', 'paused'])
      .where('rc.state', 'in', ['planned', 'running'])
      .execute();
    return new Set(rows.map((r) => r.cluster_id));
  }

  /** The fingerprint of the catalogue the newest rollout was planned from, if any. */
  async lastFingerprint(): Promise<string | null> {
    const row = await this.db.selectFrom('upgrade_rollouts').select('catalogue_fingerprint').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row?.catalogue_fingerprint ?? null;
  }

  async insert(
    tx: UnitOfWork,
    rollout: { id: string; trigger: string; fingerprint: string; maxFailureRate: number },
    waves: readonly PlannedWave[],
    now: Date,
  ): Promise<void> {
    await tx
      .insertInto('upgrade_rollouts')
      .values({
        id: rollout.id,
        trigger: rollout.trigger,
        catalogue_fingerprint: rollout.fingerprint,
        max_failure_rate: rollout.maxFailureRate,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const rows = waves.flatMap((w) =>
      w.clusters.map((c) => ({
        rollout_id: rollout.id,
        cluster_id: c.clusterId,
        organization_id: c.organizationId,
        wave: w.index,
        tier: w.tier,
        from_version: c.from,
        target_version: c.need.target,
        need_reason: c.need.reason,
        planned_start: c.slot.startsAt,
        planned_end: c.slot.endsAt,
        announced_at: now,
        updated_at: now,
      })),
    );
    // Multi-row VALUES in chunks (a statement carries at most 65535 parameters).
    for (let i = 0; i < rows.length; i += 2_000)
      await tx
        .insertInto('rollout_clusters')
        .values(rows.slice(i, i + 2_000))
        .execute();
  }

  async open(): Promise<RolloutRow[]> {
    return this.db.selectFrom('upgrade_rollouts').selectAll().where('state', 'in', ['active', 'paused']).orderBy('id').execute();
  }

  async get(id: string, uow: UnitOfWork = this.db): Promise<RolloutRow | undefined> {
    return uow.selectFrom('upgrade_rollouts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async getForUpdate(trx: UnitOfWork, id: string): Promise<RolloutRow | undefined> {
    return trx.selectFrom('upgrade_rollouts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  /** A page of rollouts, newest first, `limit + 1` rows. */
  async page(filter: { state?: db.RolloutState; before?: string }, limit: number): Promise<RolloutRow[]> {
    return this.db
      .selectFrom('upgrade_rollouts')
      .selectAll()
      .$if(filter.state !== undefined, (q) => q.where('state', '=', filter.state!))
      .$if(filter.before !== undefined, (q) => q.where('id', '<', filter.before!))
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
  }

  async clusters(rolloutIds: readonly string[], uow: UnitOfWork = this.db): Promise<RolloutClusterRow[]> {
    if (rolloutIds.length === 0) return [];
    return uow
      .selectFrom('rollout_clusters')
      .selectAll()
      .where('rollout_id', 'in', [...rolloutIds])
      .orderBy('wave')
      .orderBy('cluster_id')
      .execute();
  }

  /** Moves the rollout from `expected` to `state`; false when another change got there first. */
  async setState(
    uow: UnitOfWork,
    id: string,
    expected: readonly db.RolloutState[],
    change: { state: db.RolloutState; reason?: string | null; currentWave?: number },
    now: Date,
  ): Promise<boolean> {
    const res = await uow
      .updateTable('upgrade_rollouts')
      .set({
        state: change.state,
        ...(change.reason !== undefined ? { state_reason: change.reason } : {}),
        ...(change.currentWave !== undefined ? { current_wave: change.currentWave } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .where('state', 'in', [...expected])
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Moves one cluster of a rollout on, guarded by the state it is expected in. */
  async setClusterState(
    uow: UnitOfWork,
    key: { rolloutId: string; clusterId: string },
    expected: readonly RolloutClusterState[],
    change: {
      state: RolloutClusterState;
      reason?: string | null;
      operationId?: string;
      startedAt?: Date;
      plannedStart?: Date;
      plannedEnd?: Date;
      announcedAt?: Date;
    },
    now: Date,
  ): Promise<boolean> {
    const res = await uow
      .updateTable('rollout_clusters')
      .set({
        state: change.state,
        ...(change.reason !== undefined ? { state_reason: change.reason } : {}),
        ...(change.operationId !== undefined ? { operation_id: change.operationId } : {}),
        ...(change.startedAt !== undefined ? { started_at: change.startedAt } : {}),
        ...(change.plannedStart !== undefined ? { planned_start: change.plannedStart } : {}),
        ...(change.plannedEnd !== undefined ? { planned_end: change.plannedEnd } : {}),
        ...(change.announcedAt !== undefined ? { announced_at: change.announcedAt } : {}),
        updated_at: now,
      })
      .where('rollout_id', '=', key.rolloutId)
      .where('cluster_id', '=', key.clusterId)
      .where('state', 'in', [...expected])
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Every planned cluster of the rollout is skipped, with why (a halt). */
  async skipPlanned(uow: UnitOfWork, rolloutId: string, reason: string, now: Date): Promise<number> {
    const res = await uow
      .updateTable('rollout_clusters')
      .set({ state: 'skipped', state_reason: reason, updated_at: now })
      .where('rollout_id', '=', rolloutId)
      .where('state', '=', 'planned')
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Counts per state of a page of rollouts, for their summaries. */
  async counts(rolloutIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
    if (rolloutIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('rollout_clusters')
      .select(['rollout_id', 'state', sql<string>`count(*)`.as('n')])
      .where('rollout_id', 'in', [...rolloutIds])
      .groupBy(['rollout_id', 'state'])
      .execute();
    const result = new Map<string, Record<string, number>>();
    for (const r of rows) result.set(r.rollout_id, { ...(result.get(r.rollout_id) ?? {}), [r.state]: Number(r.n) });
    return result;
  }
}
