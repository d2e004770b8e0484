import { EventRecordingModule } from '@capstan/events';
import { Module } from '@nestjs/common';
import { BurnRateAlerter } from './burn-rate-alerter';
import { SlaReportsRepository } from '../reports/sla-reports.repository';
import { SlaReportsService } from '../reports/sla-reports.service';
import { SlaBreachGauge } from './sla-breach-gauge';
import { ProbeScheduler } from './probe-scheduler';

@Module({
  imports: [EventRecordingModule],
  providers: [SlaReportsRepository, SlaReportsService, ProbeScheduler, BurnRateAlerter, SlaBreachGauge],
  exports: [ProbeScheduler, BurnRateAlerter],
})
export class SlaProbingModule {}
