import { Module } from '@nestjs/common';
import { ProbeScheduler } from './probe-scheduler';

@Module({ providers: [ProbeScheduler], exports: [ProbeScheduler] })
export class SlaProbingModule {}
