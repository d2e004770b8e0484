import { OperationsModule, OperationsRepository } from '@capstan/operations';
import { ClusterProvidersModule } from '@capstan/kube';
import { AuditLog, TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { CatalogueController, ClustersController, StaffClustersController } from './clusters.controller';
import { ClusterUnitOfWork } from './cluster-change';
import { ClusterUsageModule } from './cluster-usage';
import { ClustersRepository } from './clusters.repository';
import { CreateCluster } from './use-cases/create-cluster';
import { CreateNodePool } from './use-cases/create-node-pool';
import { DeleteCluster } from './use-cases/delete-cluster';
import { DeleteNodePool } from './use-cases/delete-node-pool';
import { CreateMaintenanceExclusion } from './use-cases/create-maintenance-exclusion';
import { DeleteMaintenanceExclusion } from './use-cases/delete-maintenance-exclusion';
import { ReadMaintenanceExclusions } from './use-cases/read-maintenance-exclusions';
import { IssueKubeconfig } from './use-cases/issue-kubeconfig';
import { ReadClusters } from './use-cases/read-clusters';
import { ReadFleetClusters } from './use-cases/read-fleet-clusters';
import { ReadMeteredClusters } from './use-cases/read-metered-clusters';
import { UpdateCluster } from './use-cases/update-cluster';
import { UpdateNodePool } from './use-cases/update-node-pool';
import { CreateVersion } from './use-cases/create-version';
import { ReadVersions } from './use-cases/read-versions';
import { UpdateVersion } from './use-cases/update-version';
import { StartClusterUpgrade } from './use-cases/start-cluster-upgrade';
import { StartClusterOperation } from './use-cases/start-cluster-operation';
import { StartBackupOperation } from './use-cases/start-backup-operation';
import { VersionCatalogueRepository } from './version-catalogue.repository';
import { VersionCatalogueSeeder } from './version-catalogue-seeder';
import { SimulatorController } from './simulator.controller';

@Module({
  imports: [TenancyModule, OperationsModule, ClusterProvidersModule, ClusterUsageModule],
  controllers: [ClustersController, CatalogueController, StaffClustersController, SimulatorController],
  providers: [
    ClustersRepository,
    ClusterUnitOfWork,
    ReadClusters,
    ReadFleetClusters,
    ReadMeteredClusters,
    CreateCluster,
    UpdateCluster,
    DeleteCluster,
    IssueKubeconfig,
    CreateNodePool,
    UpdateNodePool,
    DeleteNodePool,
    ReadMaintenanceExclusions,
    CreateMaintenanceExclusion,
    DeleteMaintenanceExclusion,
    VersionCatalogueRepository,
    VersionCatalogueSeeder,
    ReadVersions,
    CreateVersion,
    UpdateVersion,
    StartClusterUpgrade,
    StartClusterOperation,
    StartBackupOperation,
  ],
  exports: [ReadClusters, ReadVersions, ReadMeteredClusters, StartClusterUpgrade, StartClusterOperation, ReadFleetClusters, StartBackupOperation],
})
export class ClustersModule {}

/**
 * What the worker's backup scheduler needs of libs/clusters, without the HTTP controllers of
 * ClustersModule (the worker serves health and metrics only): the reads and StartBackupOperation.
 */
@Module({
  providers: [ClustersRepository, ClusterUnitOfWork, OperationsRepository, AuditLog, VersionCatalogueRepository, ReadClusters, StartBackupOperation],
  exports: [ReadClusters, StartBackupOperation],
})
export class ClusterBackupWorkModule {}
