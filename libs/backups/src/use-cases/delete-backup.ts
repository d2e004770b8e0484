import { ConflictError, UnprocessableError } from '@capstan/domain';
import { OperationHistory } from '@capstan/operations';
import { Clock, Database } from '@capstan/platform';
import { AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { BackupClusterSource, type BackupRequester } from '../backup-cluster-source';
import { presentBackup } from '../backup-view';
import { BackupsRepository } from '../backups.repository';

/**
 * DELETE .../backups/{backup_id} (docs/backups.md, "Deleting a backup"): on-demand backups only;
 * the backup expires now and the worker's retention pass removes it at the provider, then marks it
 * deleted. Scheduled and pre-upgrade backups follow their retention, which the holds protect.
 */
@Injectable()
export class DeleteBackup {
  constructor(
    private readonly db: Database,
    private readonly source: BackupClusterSource,
    private readonly backups: BackupsRepository,
    private readonly history: OperationHistory,
    private readonly auditLog: AuditLog,
    private readonly clock: Clock,
  ) {}

  async execute(requester: BackupRequester, clusterId: string, backupId: string) {
    await this.source.cluster(requester.organizationId, clusterId);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const backup = await this.backups.backup(requester.organizationId, clusterId, backupId, trx);
      if (backup.purpose !== 'on_demand')
        throw new UnprocessableError('backup-not-deletable', `backup ${backupId} is a ${backup.purpose.replace('_', '-')} backup; its retention removes it`, {
          rule: 'only on-demand backups are deleted by hand',
          purpose: backup.purpose,
        });
      if (backup.status === 'deleted' || backup.status === 'expired') return presentBackup(backup);
      if (backup.status === 'pending' || backup.status === 'running')
        throw new ConflictError('backup-running', `backup ${backupId} is ${backup.status}; delete it once it has finished`, {
          backup_id: backupId,
          operation_id: backup.operation_id,
        });
      if (backup.restore_operation_id) {
        const status = (await this.history.statuses([backup.restore_operation_id])).get(backup.restore_operation_id)?.status;
        if (status === 'pending' || status === 'running' || status === 'needs_attention')
          throw new ConflictError('backup-in-use', `backup ${backupId} is being restored by operation ${backup.restore_operation_id}`, {
            backup_id: backupId,
            operation_id: backup.restore_operation_id,
          });
      }
      if (backup.delete_locked_until && now.getTime() < backup.delete_locked_until.getTime())
        throw new ConflictError('backup-delete-locked', `backup ${backupId} is locked against deletion until ${backup.delete_locked_until.toISOString()}`, {
          rule: 'no deletion before the delete lock expires',
          delete_locked_until: backup.delete_locked_until.toISOString(),
        });
      const expired = await this.backups.expireNow(trx, backupId, now);
      await this.auditLog.record(trx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'backup.delete',
        target: { type: 'backup', id: backupId },
        changes: { expires_at: { before: backup.expires_at?.toISOString() ?? null, after: now.toISOString() } },
      });
      return presentBackup(expired);
    });
  }
}
