import { EventRecordingModule } from '@capstan/events';
import { type DynamicModule, type ModuleMetadata, Module, type Type } from '@nestjs/common';
import { ApiServerHealthWatch, ClusterHealthStatus } from './api-server-health-watch';
import { BurnRateAlerter } from './burn-rate-alerter';
import { SlaReportsRepository } from '../reports/sla-reports.repository';
import { SlaReportsService } from '../reports/sla-reports.service';
import { SlaBreachGauge } from './sla-breach-gauge';
import { ProbeScheduler } from './probe-scheduler';

/**
 * The SLA monitor's work: probes, burn-rate alerts, and the cluster status the probes imply,
 * written through `status` (the ClusterHealthStatus port, bound in libs/composition) with the
 * modules that provide what it calls.
 */
@Module({})
export class SlaProbingModule {
  static withClusterStatus(status: Type<ClusterHealthStatus>, imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: SlaProbingModule,
      imports: [...(imports ?? []), EventRecordingModule],
      providers: [
        { provide: ClusterHealthStatus, useClass: status },
        SlaReportsRepository,
        SlaReportsService,
        ProbeScheduler,
        BurnRateAlerter,
        SlaBreachGauge,
        ApiServerHealthWatch,
      ],
      exports: [ProbeScheduler, BurnRateAlerter, ApiServerHealthWatch],
    };
  }
}
