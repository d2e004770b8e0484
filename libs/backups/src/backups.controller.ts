import { backupRoutes as routes, type RouteInput } from '@capstan/contracts';
import { Endpoint, Input, withLocation } from '@capstan/platform';
import { actorOf, CurrentCustomer, type CustomerCaller } from '@capstan/tenancy';
import { Controller, Headers } from '@nestjs/common';
import type { BackupRequester } from './backup-cluster-source';
import { BackupHealth } from './backup-health';
import { CreateBackupSchedule } from './use-cases/create-backup-schedule';
import { DeleteBackup } from './use-cases/delete-backup';
import { DeleteBackupSchedule } from './use-cases/delete-backup-schedule';
import { ReadBackups } from './use-cases/read-backups';
import { RestoreBackup } from './use-cases/restore-backup';
import { TakeBackup } from './use-cases/take-backup';
import { UpdateBackupSchedule } from './use-cases/update-backup-schedule';

function requester(caller: CustomerCaller, idempotencyKey?: string): BackupRequester {
  return { organizationId: caller.organizationId, actor: actorOf(caller), idempotencyKey };
}

/** One line per route: auth and input from the route contract, then one use case. */
@Controller()
export class BackupsController {
  constructor(
    private readonly read: ReadBackups,
    private readonly createSchedule: CreateBackupSchedule,
    private readonly updateSchedule: UpdateBackupSchedule,
    private readonly deleteSchedule: DeleteBackupSchedule,
    private readonly takeBackup: TakeBackup,
    private readonly deleteBackup: DeleteBackup,
    private readonly restoreBackup: RestoreBackup,
  ) {}

  @Endpoint(routes.createBackupSchedule)
  async create(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.createBackupSchedule>,
    @Headers('idempotency-key') key?: string,
  ) {
    const schedule = await this.createSchedule.execute(requester(caller, key), params.cluster_id, body);
    return withLocation(schedule, `/v1/clusters/${params.cluster_id}/backup-schedules/${schedule.id}`);
  }

  @Endpoint(routes.listBackupSchedules)
  listSchedules(@CurrentCustomer() caller: CustomerCaller, @Input() { params, query }: RouteInput<typeof routes.listBackupSchedules>) {
    return this.read.schedules(caller.organizationId, params.cluster_id, query.limit, query.cursor);
  }

  @Endpoint(routes.getBackupSchedule)
  getSchedule(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.getBackupSchedule>) {
    return this.read.schedule(caller.organizationId, params.cluster_id, params.schedule_id);
  }

  @Endpoint(routes.updateBackupSchedule)
  update(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.updateBackupSchedule>,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.updateSchedule.execute(requester(caller), params.cluster_id, params.schedule_id, ifMatch, body);
  }

  @Endpoint(routes.deleteBackupSchedule)
  remove(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.deleteBackupSchedule>) {
    return this.deleteSchedule.execute(requester(caller), params.cluster_id, params.schedule_id);
  }

  @Endpoint(routes.createBackup)
  async backup(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.createBackup>,
    @Headers('idempotency-key') key?: string,
  ) {
    const result = await this.takeBackup.execute(requester(caller, key), params.cluster_id, {
      kind: body.kind,
      purpose: 'on_demand',
      includedNamespaces: body.included_namespaces,
      excludedNamespaces: body.excluded_namespaces,
      labelSelector: body.label_selector ?? null,
      retainDays: body.retain_days ?? null,
      deleteLockDays: body.delete_lock_days ?? null,
    });
    return withLocation(result, `/v1/clusters/${params.cluster_id}/backups/${result.backup.id}`);
  }

  @Endpoint(routes.listBackups)
  list(@CurrentCustomer() caller: CustomerCaller, @Input() { params, query }: RouteInput<typeof routes.listBackups>) {
    return this.read.list(caller.organizationId, params.cluster_id, { state: query.state, scheduleId: query.schedule_id }, query.limit, query.cursor);
  }

  @Endpoint(routes.getBackup)
  get(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.getBackup>) {
    return this.read.get(caller.organizationId, params.cluster_id, params.backup_id);
  }

  @Endpoint(routes.deleteBackup)
  delete(@CurrentCustomer() caller: CustomerCaller, @Input() { params }: RouteInput<typeof routes.deleteBackup>) {
    return this.deleteBackup.execute(requester(caller), params.cluster_id, params.backup_id);
  }

  @Endpoint(routes.restoreBackup)
  restore(
    @CurrentCustomer() caller: CustomerCaller,
    @Input() { params, body }: RouteInput<typeof routes.restoreBackup>,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.restoreBackup.execute(requester(caller, key), params.cluster_id, body);
  }
}

/** Staff: backups across the fleet and the age of each cluster's last good backup. */
@Controller()
export class StaffBackupsController {
  constructor(
    private readonly read: ReadBackups,
    private readonly health: BackupHealth,
  ) {}

  @Endpoint(routes.adminListBackups)
  list(@Input() { query }: RouteInput<typeof routes.adminListBackups>) {
    return this.read.listForStaff({ state: query.state, organizationId: query.organization_id, clusterId: query.cluster_id }, query.limit, query.cursor);
  }

  @Endpoint(routes.adminBackupHealth)
  backupHealth(@Input() { query }: RouteInput<typeof routes.adminBackupHealth>) {
    return this.health.present({ stale: query.stale === undefined ? undefined : query.stale === 'true', limit: query.limit });
  }
}
