import { EventRecordingModule } from '@capstan/events';
import { Module } from '@nestjs/common';
import { BurnRateAlerter } from './burn-rate-alerter';
import { SlaReportsRepository } from '../reports/sla-reports.repository';
import { ProbeScheduler } from './probe-scheduler';

@Module({ imports: [EventRecordingModule], providers: [SlaReportsRepository, ProbeScheduler, BurnRateAlerter], exports: [ProbeScheduler, BurnRateAlerter] })
export class SlaProbingModule {}
