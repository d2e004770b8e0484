import { EventRecordingModule } from '@capstan/events';
import { Module } from '@nestjs/common';
import { BurnRateAlerter } from './burn-rate-alerter';
import { ProbeScheduler } from './probe-scheduler';

@Module({ imports: [EventRecordingModule], providers: [ProbeScheduler, BurnRateAlerter], exports: [ProbeScheduler, BurnRateAlerter] })
export class SlaProbingModule {}
