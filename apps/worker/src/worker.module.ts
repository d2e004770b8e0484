import { type CapstanConfig, PlatformModule } from '@capstan/platform';
import { WebhooksWorkerModule } from '@capstan/events';
import { BackupOperationStepsModule } from '@capstan/backups';
import { ClusterBackupWorkModule, ClusterFleetModule, ClusterOperationStepsModule, GkeDriftCheckModule } from '@capstan/clusters';
import { ClusterDowntimeModule } from '@capstan/sla';
import { OperationsEngineModule } from '@capstan/operations';
import { FleetSchedulerModule, UpgradeOperationStepsModule } from '@capstan/upgrades';
import { AddonCatalogueModule, AddonOperationStepsModule } from '@capstan/addons';
import { type DynamicModule, Module } from '@nestjs/common';
import { ClusterRestores, ClustersForBackups, ClustersForFleet, ClusterUpgradeVersions } from '@capstan/composition';

/**
 * The worker: runs operations (BullMQ) and relays the outbox; HTTP only for health and metrics.
 * Each feature library's operation steps are registered here (the engine discovers them at boot
 * and refuses to start if an enqueueable operation has a step kind without a handler).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: CapstanConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        PlatformModule.forRoot(config, 'worker'),
        OperationsEngineModule,
        ClusterOperationStepsModule,
        UpgradeOperationStepsModule.withVersions(ClusterUpgradeVersions, [ClusterOperationStepsModule, AddonCatalogueModule]),
        AddonOperationStepsModule,
        BackupOperationStepsModule.withClusters(ClustersForBackups, ClusterRestores, [
          ClusterBackupWorkModule,
          ClusterOperationStepsModule,
          AddonCatalogueModule,
        ]),
        WebhooksWorkerModule,
        // The fleet auto-upgrade scheduler (docs/upgrades.md, "Fleet auto-upgrade").
        FleetSchedulerModule.withSource(ClustersForFleet, [ClusterFleetModule, ClusterDowntimeModule]),
        // The GKE settings drift check (docs/gke-driver.md, "Drift").
        GkeDriftCheckModule,
      ],
    };
  }
}
