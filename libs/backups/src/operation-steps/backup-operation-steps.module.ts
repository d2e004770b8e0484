import { EventRecordingModule } from '@capstan/events';
import { OperationHistory } from '@capstan/operations';
import { BackupDriversModule } from '@capstan/providers';
import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { BackupClusterSource, RestoredClusters } from '../backup-cluster-source';
import { BackupHealth } from '../backup-health';
import { BackupsRepository } from '../backups.repository';
import { TakeBackup } from '../use-cases/take-backup';
import { BackupOperationSteps } from './backup-operation-steps';
import { BACKUPS_QUEUE, BackupScheduler, BackupSchedulerProcessor } from './backup-scheduler';

/**
 * The worker side of backups: the create_backup and restore_backup steps, the pre-upgrade snapshot
 * step of upgrade_cluster, and the scheduler. The composition root passes the classes answering
 * the ports (docs/architecture.md, "Feature-to-feature calls") and the modules they need; the
 * BullMQ connection is the engine's (OperationsEngineModule).
 */
@Module({})
export class BackupOperationStepsModule {
  static withClusters(source: Type<BackupClusterSource>, restored: Type<RestoredClusters>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: BackupOperationStepsModule,
      imports: [...(imports ?? []), BackupDriversModule, EventRecordingModule, BullModule.registerQueue({ name: BACKUPS_QUEUE })],
      providers: [
        { provide: BackupClusterSource, useClass: source },
        { provide: RestoredClusters, useClass: restored },
        BackupsRepository,
        BackupHealth,
        OperationHistory,
        TakeBackup,
        BackupOperationSteps,
        BackupScheduler,
        BackupSchedulerProcessor,
      ],
      exports: [BackupScheduler],
    };
  }
}
