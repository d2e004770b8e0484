import { BackgroundWork, Metrics } from '@capstan/platform';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SlaReportsService } from '../reports/sla-reports.service';

/** Monthly reports are minutes-grained and costly per cluster: a few minutes' staleness is fine. */
const RECOMPUTE_EVERY_MS = 5 * 60_000;
const PROVIDERS = ['rke2', 'gke'] as const;

/**
 * `capstan_sla_breaches{provider}`: clusters whose SLA for the month in progress is already lost,
 * from the same reports customers read (docs/sla.md), recomputed in the background rather than
 * per scrape. Every SLA monitor replica computes the fleet's number; dashboards take the max.
 */
@Injectable()
export class SlaBreachGauge implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SlaBreachGauge.name);
  private readonly work = new BackgroundWork(SlaBreachGauge.name);

  constructor(
    private readonly reports: SlaReportsService,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    void this.work.track(this.recompute());
    this.work.every(RECOMPUTE_EVERY_MS, 'SLA breach gauge', () => this.recompute());
  }

  async onModuleDestroy(): Promise<void> {
    await this.work.stop();
  }

  async recompute(): Promise<void> {
    try {
      const breached = await this.reports.breachedThisMonth();
      for (const provider of PROVIDERS) this.metrics.slaBreaches.set({ provider }, breached.filter((r) => r.cluster.provider === provider).length);
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not recompute SLA breaches; keeping the last numbers');
    }
  }
}
