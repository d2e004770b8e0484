import { OperationsModule } from '@capstan/operations';
import { ProvidersModule } from '@capstan/providers';
import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { CatalogueController, ClustersController, StaffClustersController } from './clusters.controller';
import { ClusterUnitOfWork } from './cluster-change';
import { ClustersRepository } from './clusters.repository';
import { ClustersService } from './clusters.service';
import { SimulatorController } from './simulator.controller';

@Module({
  imports: [TenancyModule, OperationsModule, ProvidersModule],
  controllers: [ClustersController, CatalogueController, StaffClustersController, SimulatorController],
  providers: [ClustersRepository, ClusterUnitOfWork, ClustersService],
  exports: [ClustersService],
})
export class ClustersModule {}
