import { NotFoundError } from '@capstan/domain';
import { Database, type DB, jsonb, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type Insertable, sql, type Updateable } from 'kysely';
import type { BackupRow, BackupScheduleRow } from './backup-view';

export type BackupState = BackupRow['status'];

/** What a finished backup records, as the provider reported it. */
export interface BackupOutcome {
  status: 'succeeded' | 'failed';
  location: string | null;
  sizeBytes: bigint | null;
  completedAt: Date;
  expiresAt: Date | null;
  /** Backup for GKE's delete lock (a succeeded backup only). */
  deleteLockedUntil?: Date | null;
  error: { code: string; message: string } | null;
}

/**
 * The backups feature's tables, `backups` and `backup_schedules` (docs/architecture.md, "Table
 * owners"). Every customer read takes the organisation: another tenant's rows do not exist here.
 */
@Injectable()
export class BackupsRepository {
  constructor(private readonly db: Database) {}

  // ------------------------------------------------------------------ schedules

  async insertSchedule(uow: UnitOfWork, row: Insertable<DB['backup_schedules']>): Promise<BackupScheduleRow> {
    return uow.insertInto('backup_schedules').values(row).returningAll().executeTakeFirstOrThrow();
  }

  schedule(organizationId: string, clusterId: string, id: string, uow: UnitOfWork = this.db): Promise<BackupScheduleRow> {
    return found('backup schedule', id, this.scheduleOf(uow, organizationId, clusterId, id).executeTakeFirst());
  }

  scheduleForUpdate(uow: UnitOfWork, organizationId: string, clusterId: string, id: string): Promise<BackupScheduleRow> {
    return found('backup schedule', id, this.scheduleOf(uow, organizationId, clusterId, id).forUpdate().executeTakeFirst());
  }

  private scheduleOf(uow: UnitOfWork, organizationId: string, clusterId: string, id: string) {
    return uow
      .selectFrom('backup_schedules')
      .selectAll()
      .where((eb) => eb.and({ organization_id: organizationId, cluster_id: clusterId, id }));
  }

  schedules(organizationId: string, clusterId: string, limit: number, after?: string): Promise<BackupScheduleRow[]> {
    let query = this.db.selectFrom('backup_schedules').selectAll().where('organization_id', '=', organizationId).where('cluster_id', '=', clusterId);
    if (after) query = query.where('id', '>', after);
    return query
      .orderBy('id')
      .limit(limit + 1)
      .execute();
  }

  async updateSchedule(uow: UnitOfWork, id: string, set: Updateable<DB['backup_schedules']>): Promise<BackupScheduleRow> {
    return uow
      .updateTable('backup_schedules')
      .set({ ...set, resource_version: sql<number>`resource_version + 1`, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async deleteSchedule(uow: UnitOfWork, id: string): Promise<void> {
    await uow.deleteFrom('backup_schedules').where('id', '=', id).execute();
  }

  /** Schedules whose next window has come (or was never computed), not paused, fleet-wide. */
  dueSchedules(now: Date, limit: number): Promise<BackupScheduleRow[]> {
    return this.db
      .selectFrom('backup_schedules')
      .selectAll()
      .where('paused', '=', false)
      .where((eb) => eb.or([eb('next_run_at', 'is', null), eb('next_run_at', '<=', now)]))
      .orderBy('next_run_at')
      .limit(limit)
      .execute();
  }

  async schedulesByIds(ids: readonly string[]): Promise<Map<string, BackupScheduleRow>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('backup_schedules')
      .selectAll()
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Every schedule that is not paused: staleness is judged per cluster from them. */
  activeSchedules(): Promise<BackupScheduleRow[]> {
    return this.db.selectFrom('backup_schedules').selectAll().where('paused', '=', false).orderBy('cluster_id').execute();
  }

  /**
   * Records that the scheduler handled `window`, guarded by the window it found: two workers
   * ticking at once cannot both handle it (the second changes nothing and is told so).
   */
  async markWindowHandled(uow: UnitOfWork, id: string, found: Date | null, window: Date | null, next: Date | null): Promise<boolean> {
    const result = await uow
      .updateTable('backup_schedules')
      .set({ last_run_at: window ?? found, next_run_at: next, updated_at: new Date() })
      .where('id', '=', id)
      .where(sql<boolean>`last_run_at IS NOT DISTINCT FROM ${found}::timestamptz`)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setStaleSince(uow: UnitOfWork, ids: readonly string[], since: Date | null): Promise<void> {
    if (ids.length === 0) return;
    await uow
      .updateTable('backup_schedules')
      .set({ stale_since: since })
      .where('id', 'in', [...ids])
      .execute();
  }

  // ------------------------------------------------------------------ backups

  async insertBackup(uow: UnitOfWork, row: Insertable<DB['backups']>): Promise<BackupRow> {
    return uow
      .insertInto('backups')
      .values({ ...row, updated_at: row.updated_at ?? new Date() })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  backup(organizationId: string, clusterId: string, id: string, uow: UnitOfWork = this.db): Promise<BackupRow> {
    return found(
      'backup',
      id,
      uow
        .selectFrom('backups')
        .selectAll()
        .where((eb) => eb.and({ organization_id: organizationId, cluster_id: clusterId, id }))
        .executeTakeFirst(),
    );
  }

  /** A backup by id alone, for the worker (its operation names it). */
  backupById(id: string): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The backup taken before an upgrade's hop to `version`, if its step already recorded one. */
  preUpgradeBackup(operationId: string, version: string): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').selectAll().where('operation_id', '=', operationId).where('taken_before_version', '=', version).executeTakeFirst();
  }

  /** A cluster's backups, newest first. */
  backups(
    organizationId: string,
    clusterId: string,
    filter: { state?: BackupState; scheduleId?: string },
    limit: number,
    before?: string,
  ): Promise<BackupRow[]> {
    let query = this.db.selectFrom('backups').selectAll().where('organization_id', '=', organizationId).where('cluster_id', '=', clusterId);
    if (filter.state) query = query.where('status', '=', filter.state);
    if (filter.scheduleId) query = query.where('schedule_id', '=', filter.scheduleId);
    if (before) query = query.where('id', '<', before);
    return query
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
  }

  /** Backups across the fleet (staff), newest first. */
  allBackups(filter: { state?: BackupState; organizationId?: string; clusterId?: string }, limit: number, before?: string): Promise<BackupRow[]> {
    let query = this.db.selectFrom('backups').selectAll();
    if (filter.state) query = query.where('status', '=', filter.state);
    if (filter.organizationId) query = query.where('organization_id', '=', filter.organizationId);
    if (filter.clusterId) query = query.where('cluster_id', '=', filter.clusterId);
    if (before) query = query.where('id', '<', before);
    return query
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
  }

  async setOperation(uow: UnitOfWork, backupId: string, operationId: string): Promise<void> {
    await uow.updateTable('backups').set({ operation_id: operationId, updated_at: new Date() }).where('id', '=', backupId).execute();
  }

  /** Marks the backup as read by a restore (retention keeps it while that restore is active). */
  async markRestoring(uow: UnitOfWork, backupId: string, restoreOperationId: string): Promise<void> {
    await uow.updateTable('backups').set({ restore_operation_id: restoreOperationId, updated_at: new Date() }).where('id', '=', backupId).execute();
  }

  async markRunning(id: string, now: Date): Promise<void> {
    await this.db
      .updateTable('backups')
      .set((eb) => ({ status: 'running', started_at: eb.fn.coalesce('started_at', sql<Date>`${now}::timestamptz`), updated_at: now }))
      .where('id', '=', id)
      .where('status', 'in', ['pending', 'running'])
      .execute();
  }

  /** Records the end, once: a backup already finished (or deleted) is not rewritten. */
  async markFinished(id: string, outcome: BackupOutcome): Promise<void> {
    await this.db
      .updateTable('backups')
      .set({
        status: outcome.status,
        location: outcome.location,
        size_bytes: outcome.sizeBytes,
        completed_at: outcome.completedAt,
        expires_at: outcome.expiresAt,
        delete_locked_until: outcome.deleteLockedUntil ?? null,
        error: outcome.error ? jsonb(outcome.error) : null,
        updated_at: outcome.completedAt,
      })
      .where('id', '=', id)
      .where('status', 'in', ['pending', 'running'])
      .execute();
  }

  /** A failed operation's backup that never finished: recorded as failed with the operation's reason. */
  async markFailedIfUnfinished(id: string, error: { code: string; message: string }, now: Date): Promise<void> {
    await this.markFinished(id, { status: 'failed', location: null, sizeBytes: null, completedAt: now, expiresAt: null, error });
  }

  async expireNow(uow: UnitOfWork, id: string, now: Date): Promise<BackupRow> {
    return uow.updateTable('backups').set({ expires_at: now, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  /** Finished backups that retention looks at, fleet-wide (deleted and expired ones are done with). */
  retained(): Promise<BackupRow[]> {
    return this.db.selectFrom('backups').selectAll().where('status', 'in', ['succeeded', 'failed']).orderBy('cluster_id').orderBy('id').execute();
  }

  async markDeleted(id: string, now: Date): Promise<void> {
    await this.db
      .updateTable('backups')
      .set({ status: 'deleted', updated_at: now })
      .where('id', '=', id)
      .where('status', 'in', ['succeeded', 'failed'])
      .execute();
  }

  /**
   * Marks `deleted`, with `reason` in `error`, the cluster's good backups that `lost` says went
   * with it (docs/backups.md, "When a cluster is deleted"); the row's change ends its storage for
   * billing. Returns their ids. Repeating it changes nothing.
   */
  async markLostWithCluster(
    clusterId: string,
    lost: (backup: Pick<BackupRow, 'kind' | 'location'>) => boolean,
    reason: { code: string; message: string },
    now: Date,
  ): Promise<string[]> {
    const good = await this.db
      .selectFrom('backups')
      .select(['id', 'kind', 'location'])
      .where('cluster_id', '=', clusterId)
      .where('status', '=', 'succeeded')
      .execute();
    const ids = good.filter(lost).map((b) => b.id);
    if (ids.length === 0) return [];
    await this.db
      .updateTable('backups')
      .set({ status: 'deleted', error: jsonb(reason), updated_at: now })
      .where('id', 'in', ids)
      .where('status', '=', 'succeeded')
      .execute();
    return ids;
  }

  /** Backups whose operation ended without recording their end (it failed or was cancelled). */
  unfinished(): Promise<BackupRow[]> {
    return this.db.selectFrom('backups').selectAll().where('status', 'in', ['pending', 'running']).where('operation_id', 'is not', null).execute();
  }

  /** The newest good backup of each of these clusters. */
  async lastGood(clusterIds: readonly string[]): Promise<Map<string, Date>> {
    if (clusterIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('backups')
      .select(['cluster_id', (eb) => eb.fn.max('completed_at').as('last')])
      .where('cluster_id', 'in', [...new Set(clusterIds)])
      .where('status', '=', 'succeeded')
      .groupBy('cluster_id')
      .execute();
    return new Map(rows.filter((r) => r.last !== null).map((r) => [r.cluster_id, r.last as Date]));
  }
}

/** A row scoped by the caller's organisation and cluster: another tenant's id does not exist for them. */
async function found<R>(what: string, id: string, row: Promise<R | undefined>): Promise<R> {
  const r = await row;
  if (!r) throw new NotFoundError(what, id);
  return r;
}
