import { EventRecordingModule } from '@capstan/events';
import { ClusterProvidersModule } from '@capstan/kube';
import { OperationHistory, OperationsRepository } from '@capstan/operations';
import { AuditLog } from '@capstan/tenancy';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ClusterUnitOfWork } from '../cluster-change';
import { ClustersRepository } from '../clusters.repository';
import { CheckGkeSettingsDrift } from './check-gke-settings-drift';
import { GKE_DRIFT_QUEUE, GkeDriftProcessor, GkeDriftSchedule } from './gke-drift-schedule';

/**
 * The worker's GKE drift check (docs/gke-driver.md, "Drift"): its queue, job scheduler and
 * processor, and the use case the tests drive with an injected instant. The repositories it needs
 * are stateless, so providing them here as well as in ClustersModule is safe.
 */
@Module({
  imports: [ClusterProvidersModule, EventRecordingModule, BullModule.registerQueueAsync({ name: GKE_DRIFT_QUEUE })],
  providers: [
    ClustersRepository,
    ClusterUnitOfWork,
    OperationsRepository,
    OperationHistory,
    AuditLog,
    CheckGkeSettingsDrift,
    GkeDriftSchedule,
    GkeDriftProcessor,
  ],
  exports: [CheckGkeSettingsDrift],
})
export class GkeDriftCheckModule {}
