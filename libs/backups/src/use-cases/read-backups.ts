import { Injectable } from '@nestjs/common';
import { decodeCursor, toPage } from '@capstan/platform';
import { BackupClusterSource } from '../backup-cluster-source';
import { presentAdminBackup, presentBackup, presentSchedule } from '../backup-view';
import { type BackupState, BackupsRepository } from '../backups.repository';

/** The read routes of schedules and backups; the cluster is looked up first, so another organisation's is 404. */
@Injectable()
export class ReadBackups {
  constructor(
    private readonly source: BackupClusterSource,
    private readonly backups: BackupsRepository,
  ) {}

  async schedules(organizationId: string, clusterId: string, limit: number, cursor?: string) {
    await this.source.cluster(organizationId, clusterId);
    return toPage(await this.backups.schedules(organizationId, clusterId, limit, decodeCursor(cursor, 'bks')), limit, presentSchedule);
  }

  async schedule(organizationId: string, clusterId: string, scheduleId: string) {
    await this.source.cluster(organizationId, clusterId);
    return presentSchedule(await this.backups.schedule(organizationId, clusterId, scheduleId));
  }

  async list(organizationId: string, clusterId: string, filter: { state?: BackupState; scheduleId?: string }, limit: number, cursor?: string) {
    await this.source.cluster(organizationId, clusterId);
    return toPage(await this.backups.backups(organizationId, clusterId, filter, limit, decodeCursor(cursor, 'bk')), limit, presentBackup);
  }

  async get(organizationId: string, clusterId: string, backupId: string) {
    await this.source.cluster(organizationId, clusterId);
    return presentBackup(await this.backups.backup(organizationId, clusterId, backupId));
  }

  async listForStaff(filter: { state?: BackupState; organizationId?: string; clusterId?: string }, limit: number, cursor?: string) {
    return toPage(await this.backups.allBackups(filter, limit, decodeCursor(cursor, 'bk')), limit, presentAdminBackup);
  }
}
