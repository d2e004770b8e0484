import type { backupRoutes, RouteInput } from '@capstan/contracts';
import { assertDeleteLock, PreconditionFailedError, validateBackupCron } from '@capstan/domain';
import { Clock, Database, etagOf, matchesEtag } from '@capstan/platform';
import { AuditLog, changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { BackupClusterSource, type BackupRequester } from '../backup-cluster-source';
import { presentSchedule } from '../backup-view';
import { BackupsRepository } from '../backups.repository';
import { assertWorkloadFields, nextWindow, retentionOf } from './schedule-rules';

type Body = RouteInput<typeof backupRoutes.updateBackupSchedule>['body'];

const AUDITED = [
  'cron',
  'time_zone',
  'retention_count',
  'retain_days',
  'delete_lock_days',
  'included_namespaces',
  'excluded_namespaces',
  'label_selector',
  'paused',
] as const;

/**
 * PATCH .../backup-schedules/{schedule_id} under If-Match. A changed cron or zone, or a resumed
 * schedule, counts its windows from now: windows that passed while it was paused or read another
 * way are not run after the fact.
 */
@Injectable()
export class UpdateBackupSchedule {
  constructor(
    private readonly db: Database,
    private readonly source: BackupClusterSource,
    private readonly backups: BackupsRepository,
    private readonly auditLog: AuditLog,
    private readonly clock: Clock,
  ) {}

  async execute(requester: BackupRequester, clusterId: string, scheduleId: string, ifMatch: string | undefined, body: Body) {
    const cluster = await this.source.cluster(requester.organizationId, clusterId);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const before = await this.backups.scheduleForUpdate(trx, requester.organizationId, clusterId, scheduleId);
      if (ifMatch !== undefined && !matchesEtag(ifMatch, before.resource_version))
        throw new PreconditionFailedError(`backup schedule ${scheduleId} has changed since you read it; its etag is now ${etagOf(before.resource_version)}`, {
          etag: etagOf(before.resource_version),
        });
      const spec = validateBackupCron({ cron: body.cron ?? before.cron, timeZone: body.time_zone ?? before.time_zone });
      const merged = {
        included_namespaces: body.included_namespaces ?? before.included_namespaces,
        excluded_namespaces: body.excluded_namespaces ?? before.excluded_namespaces,
        label_selector: body.label_selector === undefined ? before.label_selector : body.label_selector,
      };
      assertWorkloadFields(before.kind, merged);
      const retention =
        body.retention_count === undefined && body.retain_days === undefined
          ? { retention_count: before.retention_count, retain_days: before.retain_days }
          : retentionOf(
              body.retention_count !== undefined ? body.retention_count : body.retain_days != null ? null : before.retention_count,
              body.retain_days !== undefined ? body.retain_days : body.retention_count != null ? null : before.retain_days,
            );
      const deleteLockDays = body.delete_lock_days === undefined ? before.delete_lock_days : body.delete_lock_days || null;
      assertDeleteLock(cluster.provider, { deleteLockDays, retainDays: retention.retain_days });
      const paused = body.paused ?? before.paused;
      const recount = spec.cron !== before.cron || spec.timeZone !== before.time_zone || (before.paused && !paused);
      const after = await this.backups.updateSchedule(trx, scheduleId, {
        cron: spec.cron,
        time_zone: spec.timeZone,
        ...retention,
        delete_lock_days: deleteLockDays,
        ...merged,
        paused,
        ...(recount ? { last_run_at: now, next_run_at: nextWindow(spec, now), stale_since: null } : {}),
      });
      await this.auditLog.record(trx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'backup_schedule.update',
        target: { type: 'backup_schedule', id: scheduleId },
        changes: changesBetween<Record<string, unknown>>(before, after, [...AUDITED]),
      });
      return presentSchedule(after);
    });
  }
}
