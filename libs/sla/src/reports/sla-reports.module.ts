import { TenancyModule } from '@capstan/tenancy';
import { Module } from '@nestjs/common';
import { SlaReportsController, StaffSlaReportsController } from './sla-reports.controller';
import { SlaReportsRepository } from './sla-reports.repository';
import { SlaReportsService } from './sla-reports.service';

/** SLA reports over HTTP: customers' monthly reports and summaries, staff breaches. The credits in money are libs/billing's. */
@Module({
  imports: [TenancyModule],
  controllers: [SlaReportsController, StaffSlaReportsController],
  providers: [SlaReportsRepository, SlaReportsService],
  exports: [SlaReportsService],
})
export class SlaReportsModule {}
