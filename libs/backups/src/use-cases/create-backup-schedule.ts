import type { backupRoutes, RouteInput } from '@capstan/contracts';
import { assertDeleteLock, assertRegionAllowed, assertWorkloadBackupTool, backupKindFor, ConflictError, validateBackupCron } from '@capstan/domain';
import { Clock, Database, newId } from '@capstan/platform';
import { AuditLog, OrganizationsService } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { BackupClusterSource, type BackupRequester } from '../backup-cluster-source';
import { presentSchedule } from '../backup-view';
import { BackupsRepository } from '../backups.repository';
import { assertWorkloadFields, nextWindow, retentionOf } from './schedule-rules';

type Body = RouteInput<typeof backupRoutes.createBackupSchedule>['body'];

/** POST /v1/clusters/{cluster_id}/backup-schedules (docs/backups.md, "Schedules"). */
@Injectable()
export class CreateBackupSchedule {
  constructor(
    private readonly db: Database,
    private readonly source: BackupClusterSource,
    private readonly backups: BackupsRepository,
    private readonly organizations: OrganizationsService,
    private readonly auditLog: AuditLog,
    private readonly clock: Clock,
  ) {}

  async execute(requester: BackupRequester, clusterId: string, body: Body) {
    const cluster = await this.source.cluster(requester.organizationId, clusterId);
    const spec = validateBackupCron({ cron: body.cron, timeZone: body.time_zone });
    const kind = backupKindFor(cluster.provider, body.kind);
    assertWorkloadFields(kind, body);
    const retention = retentionOf(body.retention_count, body.retain_days);
    assertDeleteLock(cluster.provider, { deleteLockDays: body.delete_lock_days, retainDays: retention.retain_days });
    const { residency } = await this.organizations.get(requester.organizationId);
    const region = assertRegionAllowed(body.region ?? cluster.region, cluster.provider, residency).id;
    // An RKE2 workload schedule needs the velero add-on now (docs/backups.md, "The model"); one
    // removed later makes its backups fail with `velero_missing`, which the customer sees.
    if (kind === 'workload' && cluster.provider === 'rke2')
      assertWorkloadBackupTool(cluster, kind, await this.source.enabledAddons(requester.organizationId, clusterId), 'schedule workload backups of');
    const now = this.clock.now();
    const id = newId('bks');
    return this.db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('backup_schedules').select('id').where('cluster_id', '=', clusterId).where('name', '=', body.name).executeTakeFirst();
      if (taken) throw nameTaken(clusterId, body.name, taken.id);
      const row = await this.backups
        .insertSchedule(trx, {
          id,
          cluster_id: clusterId,
          organization_id: requester.organizationId,
          name: body.name,
          kind,
          cron: spec.cron,
          time_zone: spec.timeZone,
          ...retention,
          delete_lock_days: body.delete_lock_days || null,
          included_namespaces: body.included_namespaces,
          excluded_namespaces: body.excluded_namespaces,
          label_selector: body.label_selector ?? null,
          region,
          paused: body.paused,
          // Counted from now: a new schedule does not run the windows before it existed.
          last_run_at: now,
          next_run_at: nextWindow(spec, now),
          created_at: now,
          updated_at: now,
        })
        .catch((error: unknown) => {
          if ((error as { code?: string }).code === '23505') throw nameTaken(clusterId, body.name);
          throw error;
        });
      await this.auditLog.record(trx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'backup_schedule.create',
        target: { type: 'backup_schedule', id },
        changes: { name: { before: null, after: body.name }, cron: { before: null, after: spec.cron }, time_zone: { before: null, after: spec.timeZone } },
      });
      return presentSchedule(row);
    });
  }
}

function nameTaken(clusterId: string, name: string, id?: string): ConflictError {
  return new ConflictError('backup-schedule-name-taken', `cluster ${clusterId} already has a backup schedule named ${name}`, {
    name,
    ...(id ? { schedule_id: id } : {}),
  });
}
