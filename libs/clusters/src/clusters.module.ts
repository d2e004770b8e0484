import { OperationsModule } from '@capstan/operations';
import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { CatalogueController, ClustersController, StaffClustersController } from './clusters.controller';
import { ClustersRepository } from './clusters.repository';
import { ClustersService } from './clusters.service';

@Module({
  imports: [TenancyModule, OperationsModule],
  controllers: [ClustersController, CatalogueController, StaffClustersController],
  providers: [ClustersRepository, ClustersService],
  exports: [ClustersService],
})
export class ClustersModule {}
