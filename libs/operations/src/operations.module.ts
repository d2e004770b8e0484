import { EventRecordingModule } from '@capstan/events';
import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { OperationsController, StaffOperationsController, StaffOrphansController } from './operations.controller';
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';
import { OrphansService } from './orphans.service';

@Module({
  imports: [TenancyModule, EventRecordingModule],
  controllers: [OperationsController, StaffOperationsController, StaffOrphansController],
  providers: [OperationsRepository, OperationsService, OrphansService],
  exports: [OperationsRepository, OperationsService, OrphansService],
})
export class OperationsModule {}
