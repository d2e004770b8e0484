import { type CapstanConfig, type Clock, PlatformModule } from '@capstan/platform';
import { SlaProbingModule } from '@capstan/sla';
import { type DynamicModule, Module } from '@nestjs/common';

/** Probes every cluster's API server and records its availability; HTTP only for health and metrics. */
@Module({})
export class SlaMonitorModule {
  static forRoot(config: CapstanConfig, options: { clock?: Clock } = {}): DynamicModule {
    return { module: SlaMonitorModule, imports: [PlatformModule.forRoot(config, 'sla-monitor', options), SlaProbingModule] };
  }
}
