import { OperationHistory } from '@capstan/operations';
import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { BackupClusterSource } from './backup-cluster-source';
import { BackupHealth } from './backup-health';
import { ReadBackupStorage } from './backup-storage';
import { BackupsController, StaffBackupsController } from './backups.controller';
import { BackupsRepository } from './backups.repository';
import { CreateBackupSchedule } from './use-cases/create-backup-schedule';
import { DeleteBackup } from './use-cases/delete-backup';
import { DeleteBackupSchedule } from './use-cases/delete-backup-schedule';
import { ReadBackups } from './use-cases/read-backups';
import { RestoreBackup } from './use-cases/restore-backup';
import { TakeBackup } from './use-cases/take-backup';
import { UpdateBackupSchedule } from './use-cases/update-backup-schedule';

/**
 * Backup schedules, backups and restores (docs/backups.md). The composition root passes the class
 * answering {@link BackupClusterSource} and the modules it needs (docs/architecture.md,
 * "Feature-to-feature calls"); OrganizationsService and AuditLog come from the root's TenancyModule.
 */
@Module({})
export class BackupsModule {
  static withSource(source: Type<BackupClusterSource>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: BackupsModule,
      imports: imports ?? [],
      controllers: [BackupsController, StaffBackupsController],
      providers: [
        { provide: BackupClusterSource, useClass: source },
        BackupsRepository,
        BackupHealth,
        OperationHistory,
        ReadBackups,
        CreateBackupSchedule,
        UpdateBackupSchedule,
        DeleteBackupSchedule,
        TakeBackup,
        DeleteBackup,
        RestoreBackup,
        ReadBackupStorage,
      ],
      exports: [ReadBackupStorage],
    };
  }
}
