import { apiServerDownReason, apiServerHealth, type MinuteRange, minuteStatesAcrossVantagePoints } from '@capstan/domain';
import { BackgroundWork, Clock, SlaMonitorConfig } from '@capstan/platform';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SlaReportsRepository } from '../reports/sla-reports.repository';
import { ProbeScheduler } from './probe-scheduler';

const MINUTE = 60_000;
/** How far back a run of down minutes is followed to say since when the API server is unreachable. */
const LOOKBACK_MINUTES = 24 * 60;

/**
 * The port through which the monitor changes a cluster's status (answered by libs/clusters'
 * `RecordApiServerHealth`, bound in libs/composition: docs/architecture.md, "Feature-to-feature
 * calls"). Each call changes the cluster only from the status it expects and says whether it did.
 */
export abstract class ClusterHealthStatus {
  /** `running` -> `degraded`, with the reason shown to the customer. */
  abstract degraded(clusterId: string, reason: string, since: Date): Promise<boolean>;
  /** A cluster the monitor marked `degraded` -> `running`. */
  abstract recovered(clusterId: string): Promise<boolean>;
  /** The clusters the monitor marked `degraded`. */
  abstract markedDegraded(): Promise<string[]>;
}

export interface ApiServerHealthChange {
  clusterId: string;
  status: 'degraded' | 'running';
}

/**
 * Turns what the probes stored into the cluster's status (docs/sla.md, "Cluster status"): a
 * `running` cluster whose API server was down for `SLA_DEGRADED_AFTER_MINUTES` consecutive minutes
 * becomes `degraded`, and goes back to `running` once a minute is up again.
 *
 * It reads the minutes exactly as reports do (every vantage point combined: down only where every
 * location with data saw it down), from the database, never from this replica's memory: every
 * replica that judges a cluster reaches the same answer, and the conditional updates behind
 * `ClusterHealthStatus` let one of them write it. A replica judges only its own share of clusters
 * (the ones it probes), so the replicas of one location do not repeat each other's work.
 */
@Injectable()
export class ApiServerHealthWatch implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly work = new BackgroundWork(ApiServerHealthWatch.name);

  constructor(
    private readonly reports: SlaReportsRepository,
    private readonly clusters: ClusterHealthStatus,
    private readonly scheduler: ProbeScheduler,
    private readonly config: SlaMonitorConfig,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    // Often enough that a status trails its minutes by a fraction of one: three probe intervals, at most 15 s.
    this.work.every(Math.min(15_000, 3 * this.config.probeIntervalMs), 'API server health', () => this.evaluate());
  }

  async onModuleDestroy(): Promise<void> {
    await this.work.stop();
  }

  /** Judges this replica's clusters that its probes see down or that are marked degraded; returns what changed. */
  async evaluate(): Promise<ApiServerHealthChange[]> {
    const now = this.clock.now();
    const end = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
    const window: MinuteRange = { start: new Date(end.getTime() - LOOKBACK_MINUTES * MINUTE), end };
    const mine = new Set(this.scheduler.recorder.trackedClusters());
    const marked = new Set(await this.clusters.markedDegraded());
    // Only a cluster this replica's own probes see down can have every vantage point's minutes
    // down, so the candidates come from memory and a healthy fleet costs one small query.
    const candidates = new Set([...this.scheduler.recorder.downClusters(), ...[...marked].filter((id) => mine.has(id))]);
    const changes: ApiServerHealthChange[] = [];
    for (const clusterId of candidates) {
      if (this.work.stopping) break;
      const minutes = minuteStatesAcrossVantagePoints(await this.reports.intervalsByVantage(clusterId, window), window);
      const health = apiServerHealth(minutes, window.start, this.config.degradedAfterMinutes);
      if (health.state === 'down' && !marked.has(clusterId)) {
        if (await this.clusters.degraded(clusterId, apiServerDownReason(health.since, health.minutes), health.since)) {
          changes.push({ clusterId, status: 'degraded' });
        }
      } else if (health.state === 'up' && marked.has(clusterId)) {
        if (await this.clusters.recovered(clusterId)) changes.push({ clusterId, status: 'running' });
      }
    }
    return changes;
  }
}
