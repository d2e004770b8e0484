import { Database } from '@capstan/platform';
import { AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { BackupClusterSource, type BackupRequester } from '../backup-cluster-source';
import { BackupsRepository } from '../backups.repository';

/**
 * DELETE .../backup-schedules/{schedule_id}: the schedule stops; the backups it took stay, with
 * their expiry, until deleted (the foreign key keeps them, with no schedule).
 */
@Injectable()
export class DeleteBackupSchedule {
  constructor(
    private readonly db: Database,
    private readonly source: BackupClusterSource,
    private readonly backups: BackupsRepository,
    private readonly auditLog: AuditLog,
  ) {}

  async execute(requester: BackupRequester, clusterId: string, scheduleId: string): Promise<void> {
    await this.source.cluster(requester.organizationId, clusterId);
    await this.db.transaction().execute(async (trx) => {
      const before = await this.backups.scheduleForUpdate(trx, requester.organizationId, clusterId, scheduleId);
      await this.backups.deleteSchedule(trx, scheduleId);
      await this.auditLog.record(trx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'backup_schedule.delete',
        target: { type: 'backup_schedule', id: scheduleId },
        changes: { name: { before: before.name, after: null } },
      });
    });
  }
}
