import { EventRecordingModule } from '@capstan/events';
import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { OperationHistory } from './operation-history';
import { OperationsController, StaffOperationsController, StaffOrphansController } from './operations.controller';
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';
import { OrphansService } from './orphans.service';

@Module({
  imports: [TenancyModule, EventRecordingModule],
  controllers: [OperationsController, StaffOperationsController, StaffOrphansController],
  providers: [OperationsRepository, OperationsService, OperationHistory, OrphansService],
  exports: [OperationsRepository, OperationsService, OperationHistory, OrphansService],
})
export class OperationsModule {}
