import { EventRecordingModule } from '@capstan/events';
import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
<<<<<<< HEAD
import { OperationHistory } from './operation-history';
import { OperationsController, StaffOperationsController } from './operations.controller';
=======
import { OperationsController, StaffOperationsController, StaffOrphansController } from './operations.controller';
>>>>>>> ops
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';
import { OrphansService } from './orphans.service';

@Module({
  imports: [TenancyModule, EventRecordingModule],
<<<<<<< HEAD
  controllers: [OperationsController, StaffOperationsController],
  providers: [OperationsRepository, OperationsService, OperationHistory],
  exports: [OperationsRepository, OperationsService, OperationHistory],
=======
  controllers: [OperationsController, StaffOperationsController, StaffOrphansController],
  providers: [OperationsRepository, OperationsService, OrphansService],
  exports: [OperationsRepository, OperationsService, OrphansService],
>>>>>>> ops
})
export class OperationsModule {}
