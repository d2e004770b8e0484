import { EventRecordingModule } from '@capstan/events';
import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { OperationsController, StaffOperationsController } from './operations.controller';
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';

@Module({
  imports: [TenancyModule, EventRecordingModule],
  controllers: [OperationsController, StaffOperationsController],
  providers: [OperationsRepository, OperationsService],
  exports: [OperationsRepository, OperationsService],
})
export class OperationsModule {}
