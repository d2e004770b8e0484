import { currentSlaPolicy, evaluateBurnRateAlerts, minuteStatesAcrossVantagePoints, slaTargetPercent, type StateInterval } from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { BackgroundWork, Clock, PrismaService } from '@capstan/platform';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

const MINUTE = 60_000;
/** The longest burn-rate window (3 days, SRE workbook): history older than this never matters. */
const LOOKBACK_MINUTES = 3 * 24 * 60;
const EVALUATE_EVERY_MS = 15_000;

/**
 * Burn-rate alerts over the 30-day error budget (docs/sla.md): page at 14.4x over 1h and 5m
 * or 6x over 6h and 30m; ticket at 3x over 1d and 2h or 1x over 3d and 6h. Only clusters with
 * downtime in the last three days can burn, so only those are evaluated. An alert is an event
 * (`dev.capstan.sla.burn_rate.page|ticket`) in the cluster's organisation, which its webhooks
 * receive and staff see in /admin/v1/events; it is raised once per cluster and severity until
 * it stops firing.
 */
@Injectable()
export class BurnRateAlerter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly firing = new Map<string, string>();
  private readonly work = new BackgroundWork(BurnRateAlerter.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly events: EventsService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.work.every(EVALUATE_EVERY_MS, 'burn-rate evaluation', () => this.evaluate());
  }

  /** Waits for an evaluation in flight: it must not write an event while the pool is closing. */
  async onModuleDestroy(): Promise<void> {
    await this.work.stop();
  }

  /** Evaluates every cluster that had downtime lately; returns the alerts raised now. */
  async evaluate(): Promise<{ clusterId: string; severity: string }[]> {
    const now = this.clock.now();
    const end = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
    const start = new Date(end.getTime() - LOOKBACK_MINUTES * MINUTE);
    const burning = await this.prisma.availabilityInterval.findMany({
      where: { state: 'down', endedAt: { gt: start } },
      distinct: ['clusterId'],
      select: { clusterId: true },
    });
    const raised: { clusterId: string; severity: string }[] = [];
    for (const { clusterId } of burning) {
      if (this.work.stopping) break;
      const cluster = await this.prisma.cluster.findUnique({ where: { id: clusterId }, select: { organizationId: true, provider: true, deletedAt: true } });
      if (!cluster || cluster.deletedAt) continue;
      const rows = await this.prisma.availabilityInterval.findMany({ where: { clusterId, endedAt: { gt: start }, startedAt: { lt: end } } });
      const byVantage = new Map<string, StateInterval[]>();
      for (const row of rows) {
        const list = byVantage.get(row.vantage) ?? [];
        list.push({ state: row.state, start: row.startedAt, end: row.endedAt });
        byVantage.set(row.vantage, list);
      }
      const minutes = minuteStatesAcrossVantagePoints([...byVantage.values()], { start, end });
      const target = slaTargetPercent(cluster.provider);
      const evaluation = evaluateBurnRateAlerts(minutes, target, currentSlaPolicy());
      const previous = this.firing.get(clusterId);
      if (!evaluation.fires) {
        this.firing.delete(clusterId);
        continue;
      }
      if (previous === evaluation.fires) continue;
      this.firing.set(clusterId, evaluation.fires);
      const rule = evaluation.rules.find((r) => r.fires && r.severity === evaluation.fires)!;
      await this.prisma.$transaction((tx) =>
        this.events.record(tx, {
          organizationId: cluster.organizationId,
          type: `dev.capstan.sla.burn_rate.${evaluation.fires}`,
          source: `/v1/clusters/${clusterId}/sla`,
          subject: `/v1/clusters/${clusterId}`,
          data: {
            cluster_id: clusterId,
            severity: evaluation.fires,
            target_percent: target,
            factor: rule.factor,
            long_window_minutes: rule.longWindowMinutes,
            short_window_minutes: rule.shortWindowMinutes,
            long_window_burn_rate: rule.long.rate,
            short_window_burn_rate: rule.short.rate,
          },
        }),
      );
      raised.push({ clusterId, severity: evaluation.fires });
    }
    return raised;
  }
}
