import { EventRecordingModule } from '@capstan/events';
import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { OperationHistory } from './operation-history';
import { OperationsController, StaffOperationsController } from './operations.controller';
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';

@Module({
  imports: [TenancyModule, EventRecordingModule],
  controllers: [OperationsController, StaffOperationsController],
  providers: [OperationsRepository, OperationsService, OperationHistory],
  exports: [OperationsRepository, OperationsService, OperationHistory],
})
export class OperationsModule {}
