import { ApiServerHealthModule } from '@capstan/clusters';
import { ClusterHealthFromProbes } from '@capstan/composition';
import { type CapstanConfig, type Clock, PlatformModule } from '@capstan/platform';
import { SlaProbingModule } from '@capstan/sla';
import { type DynamicModule, Module } from '@nestjs/common';

/** Probes every cluster's API server, records its availability and the status it implies; HTTP only for health and metrics. */
@Module({})
export class SlaMonitorModule {
  static forRoot(config: CapstanConfig, options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: SlaMonitorModule,
      imports: [PlatformModule.forRoot(config, 'sla-monitor', options), SlaProbingModule.withClusterStatus(ClusterHealthFromProbes, [ApiServerHealthModule])],
    };
  }
}
