import { OperationsRepository } from '@capstan/operations';
import { AuditLog } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { ClusterUnitOfWork } from './cluster-change';
import { ClustersRepository } from './clusters.repository';
import { ReadFleetClusters } from './use-cases/read-fleet-clusters';
import { ReadVersions } from './use-cases/read-versions';
import { StartClusterUpgrade } from './use-cases/start-cluster-upgrade';
import { VersionCatalogueRepository } from './version-catalogue.repository';

/**
 * What the worker's fleet upgrade scheduler calls in libs/clusters (docs/architecture.md,
 * "Feature-to-feature calls"), without any controller: the worker serves no API routes. The
 * repositories it needs are stateless, so providing them here as well as in ClustersModule is safe.
 */
@Module({
  providers: [
    ClustersRepository,
    ClusterUnitOfWork,
    OperationsRepository,
    AuditLog,
    VersionCatalogueRepository,
    ReadVersions,
    ReadFleetClusters,
    StartClusterUpgrade,
  ],
  exports: [ReadVersions, ReadFleetClusters, StartClusterUpgrade],
})
export class ClusterFleetModule {}
