import { type BackupPurpose, backupsToPrune, DomainError, dueRun, NotFoundError, type RetainedBackup } from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { OperationHistory } from '@capstan/operations';
import { BackgroundWork, Clock, Database } from '@capstan/platform';
import { BackupDrivers, externalClusterName, ProviderError } from '@capstan/providers';
import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { BackupClusterSource, type BackupRequester } from '../backup-cluster-source';
import { BackupHealth } from '../backup-health';
import type { BackupRow, BackupScheduleRow } from '../backup-view';
import { BackupsRepository } from '../backups.repository';
import { AlreadyHandled, TakeBackup } from '../use-cases/take-backup';

export const BACKUPS_QUEUE = 'backups';
export const BACKUP_TICK_JOB = 'backup-tick';
/** Cron is minute-grained: a tick a minute starts each window within a minute of its time. */
export const BACKUP_TICK_MS = 60_000;
/** Schedules handled per tick; the rest are due at the next one. */
const DUE_PER_TICK = 500;

export interface TickResult {
  /** Scheduled backups created (one per schedule whose window came). */
  created: number;
  /** Windows that passed unhandled (the scheduler was down) and were folded into those backups. */
  skippedWindows: number;
  /** Backups retention removed. */
  pruned: number;
  /** Clusters newly found stale (their event was raised). */
  stale: number;
}

const SCHEDULER: BackupRequester['actor'] = { type: 'system', id: 'backup-scheduler' };

/**
 * The fleet's backup scheduler (docs/backups.md, "Schedules", "Retention", "Staleness"), run once
 * per period by one worker as a BullMQ job scheduler, like the reconciler: every worker declares
 * it at boot and every period (idempotent), so it comes back by itself after Redis lost its data.
 * Each tick, with the injected Clock:
 *
 * 1. each due schedule gets one backup for the latest window that passed, however many passed
 *    (missed windows run once); the window is claimed in the backup's own transaction, guarded by
 *    the window it read, so two ticks never take it twice;
 * 2. backups whose operation ended without recording their end (cancelled, failed for good) are
 *    recorded as failed;
 * 3. retention prunes exactly what the domain's rules say, at the provider first, then the row;
 * 4. a cluster whose last good backup got older than twice its schedule's interval raises
 *    `dev.capstan.backup.stale`, once per episode.
 */
@Injectable()
export class BackupScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BackupScheduler.name);
  private readonly background = new BackgroundWork(BackupScheduler.name);
  private busy = false;

  constructor(
    private readonly db: Database,
    private readonly backups: BackupsRepository,
    private readonly take: TakeBackup,
    private readonly health: BackupHealth,
    private readonly history: OperationHistory,
    private readonly drivers: BackupDrivers,
    private readonly source: BackupClusterSource,
    private readonly events: EventsService,
    private readonly clock: Clock,
    @InjectQueue(BACKUPS_QUEUE) private readonly queue: Queue,
  ) {}

  onApplicationBootstrap(): void {
    const declare = () =>
      this.queue.upsertJobScheduler(
        BACKUP_TICK_JOB,
        { every: BACKUP_TICK_MS },
        { name: BACKUP_TICK_JOB, opts: { removeOnComplete: true, removeOnFail: true, attempts: 1 } },
      );
    void this.background.track(
      declare().catch((error: unknown) => this.logger.warn({ err: String(error) }, 'declaring the backup scheduler failed; will retry')),
    );
    this.background.every(BACKUP_TICK_MS, 'declaring the backup scheduler', declare);
  }

  async onModuleDestroy(): Promise<void> {
    await this.background.stop();
  }

  /** One pass at `now` (the injected Clock's; tests hand it an instant to drive schedules). */
  async tick(now: Date = this.clock.now()): Promise<TickResult> {
    const result: TickResult = { created: 0, skippedWindows: 0, pruned: 0, stale: 0 };
    if (this.busy) return result;
    this.busy = true;
    try {
      await this.runDue(result, now);
      await this.settleUnfinished(now);
      result.pruned = await this.prune(now);
      result.stale = await this.raiseStale(now);
      return result;
    } finally {
      this.busy = false;
    }
  }

  private async runDue(result: TickResult, now: Date): Promise<void> {
    for (const schedule of await this.backups.dueSchedules(now, DUE_PER_TICK)) {
      const found = schedule.last_run_at;
      const due = dueRun({ cron: schedule.cron, timeZone: schedule.time_zone }, found ?? schedule.created_at, now);
      if (!due.window) {
        await this.backups.markWindowHandled(this.db, schedule.id, found, null, due.next);
        continue;
      }
      try {
        await this.take.execute({ organizationId: schedule.organization_id, actor: SCHEDULER }, schedule.cluster_id, {
          kind: schedule.kind,
          purpose: 'scheduled',
          includedNamespaces: schedule.included_namespaces,
          excludedNamespaces: schedule.excluded_namespaces,
          labelSelector: schedule.label_selector,
          retainDays: schedule.retain_days,
          deleteLockDays: schedule.delete_lock_days,
          scheduleId: schedule.id,
          region: schedule.region,
          claim: (trx) => this.backups.markWindowHandled(trx, schedule.id, found, due.window, due.next),
        });
        result.created++;
        result.skippedWindows += due.skipped;
        if (due.skipped > 0) this.logger.warn({ scheduleId: schedule.id, skipped: due.skipped }, 'windows missed while the scheduler was down run once');
      } catch (error) {
        if (error instanceof AlreadyHandled) continue;
        // A busy cluster (an upgrade runs) or one that accepts no backup now: the window stays due
        // and the next tick tries again, still once however long it waits.
        if (error instanceof DomainError) {
          this.logger.debug({ scheduleId: schedule.id, reason: error.message }, 'scheduled backup deferred');
          continue;
        }
        throw error;
      }
    }
  }

  private async settleUnfinished(now: Date): Promise<void> {
    const unfinished = await this.backups.unfinished();
    const statuses = await this.history.statuses(unfinished.map((b) => b.operation_id!));
    for (const backup of unfinished) {
      const status = statuses.get(backup.operation_id!)?.status;
      if (status === 'failed' || status === 'cancelled')
        await this.backups.markFailedIfUnfinished(
          backup.id,
          { code: `operation_${status}`, message: `operation ${backup.operation_id} ${status} before the backup finished` },
          now,
        );
    }
  }

  private async prune(now: Date): Promise<number> {
    const rows = await this.backups.retained();
    const holds = rows.flatMap((r) => [r.restore_operation_id, r.purpose === 'pre_upgrade' ? r.operation_id : null]).filter((id): id is string => id !== null);
    const statuses = await this.history.statuses(holds);
    const schedules = await this.backups.schedulesByIds(rows.map((r) => r.schedule_id).filter((id): id is string => id !== null));
    const groups = new Map<string, BackupRow[]>();
    for (const row of rows) {
      const key = row.schedule_id && schedules.has(row.schedule_id) ? row.schedule_id : `cluster:${row.cluster_id}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    let pruned = 0;
    for (const [key, group] of groups) {
      const schedule: BackupScheduleRow | undefined = schedules.get(key);
      const policy = schedule ? { retentionCount: schedule.retention_count, retainDays: schedule.retain_days } : null;
      const retained: RetainedBackup[] = group.map((r) => ({
        id: r.id,
        // A scheduled backup whose schedule is gone goes by its own expiry only.
        purpose: (schedule ? r.purpose : r.purpose === 'scheduled' ? 'on_demand' : r.purpose) as BackupPurpose,
        status: r.status,
        completedAt: r.completed_at,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
        inUseByRestore:
          r.restore_operation_id !== null && ['pending', 'running', 'needs_attention'].includes(statuses.get(r.restore_operation_id)?.status ?? ''),
        upgradeSucceeded: r.operation_id !== null && statuses.get(r.operation_id)?.status === 'succeeded',
        deleteLockedUntil: r.delete_locked_until,
      }));
      for (const id of backupsToPrune(retained, policy, now)) if (await this.remove(byId.get(id)!, now)) pruned++;
    }
    return pruned;
  }

  /** Deletes the artefact at the provider, then the row; a refusal leaves both for the next tick. */
  private async remove(backup: BackupRow, now: Date): Promise<boolean> {
    try {
      const cluster = await this.source.cluster(backup.organization_id, backup.cluster_id);
      await this.drivers.driverFor(cluster.provider).deleteBackup(externalClusterName(backup.cluster_id), backup.id, backup.kind);
    } catch (error) {
      const nothingThere = backup.location === null && error instanceof ProviderError && error.code === 'driver_unavailable';
      if (!(error instanceof NotFoundError) && !nothingThere) {
        this.logger.warn(
          { backupId: backup.id, err: error instanceof Error ? error.message : String(error) },
          'pruning a backup failed; the next tick tries again',
        );
        return false;
      }
    }
    await this.backups.markDeleted(backup.id, now);
    return true;
  }

  private async raiseStale(now: Date): Promise<number> {
    let raised = 0;
    for (const cluster of await this.health.clusters(now)) {
      const flagged = cluster.schedules.filter((s) => s.stale_since !== null).map((s) => s.id);
      if (!cluster.stale) {
        if (flagged.length > 0) await this.backups.setStaleSince(this.db, flagged, null);
        continue;
      }
      if (flagged.length > 0) continue;
      await this.db.transaction().execute(async (trx) => {
        await this.events.record(trx, {
          organizationId: cluster.organizationId,
          type: 'dev.capstan.backup.stale',
          source: `/v1/clusters/${cluster.clusterId}/backups`,
          subject: cluster.clusterId,
          data: {
            cluster_id: cluster.clusterId,
            last_good_backup_at: cluster.lastGoodAt?.toISOString() ?? null,
            schedule_interval_seconds: Math.round(cluster.intervalMs / 1000),
          },
        });
        await this.backups.setStaleSince(
          trx,
          cluster.schedules.map((s) => s.id),
          now,
        );
      });
      raised++;
    }
    return raised;
  }
}

/** Thin: the tick job runs the scheduler. */
@Processor(BACKUPS_QUEUE)
export class BackupSchedulerProcessor extends WorkerHost {
  constructor(private readonly scheduler: BackupScheduler) {
    super();
  }

  async process(job: Job): Promise<void> {
    if (job.name === BACKUP_TICK_JOB) await this.scheduler.tick();
  }
}
