import type { ApiServerObservation, WatchedCluster } from '@capstan/domain';
import { apiServerDownReason, apiServerHealth, type MinuteRange, minuteStatesAcrossVantagePoints } from '@capstan/domain';
import { BackgroundWork, Clock, Metrics, SlaMonitorConfig } from '@capstan/platform';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { SlaReportsRepository } from '../reports/sla-reports.repository';
import { ProbeScheduler } from './probe-scheduler';

const MINUTE = 60_000;
/** How far back a run of down minutes is followed to say since when the API server is unreachable. */
const LOOKBACK_MINUTES = 24 * 60;

export type { ApiServerObservation, WatchedCluster };

/**
 * The port through which the monitor records its view of a cluster's API server and changes the
 * cluster's status (answered by libs/clusters' `RecordApiServerHealth`, bound in libs/composition:
 * docs/architecture.md, "Feature-to-feature calls"). Every write is guarded, so replicas that
 * observe at once change a cluster and announce it once.
 */
export abstract class ClusterHealthStatus {
  /** Records the observation (`running` <-> `degraded` where it applies) and returns the change it announced, if any. */
  abstract observe(clusterId: string, observation: ApiServerObservation): Promise<'degraded' | 'running' | null>;
  /** The clusters the monitor holds down or whose status change is unannounced. */
  abstract watched(): Promise<WatchedCluster[]>;
}

/** Whether recording `observation` can change anything for a cluster the monitor knows as `known`. */
export function observationMatters(observation: ApiServerObservation, known: WatchedCluster | undefined): boolean {
  if (known?.unannounced) return true;
  if (observation.state === 'down') return !known?.heldDown || known.status === 'running';
  if (observation.state === 'up') return known?.heldDown === true;
  return false;
}

export interface ApiServerHealthChange {
  clusterId: string;
  status: 'degraded' | 'running';
}

/**
 * Turns what the probes stored into the cluster's status (docs/sla.md, "Cluster status"): a
 * `running` cluster whose API server was down for `SLA_DEGRADED_AFTER_MINUTES` consecutive minutes
 * becomes `degraded`, and goes back to `running` once a minute is up again. What it holds is
 * recorded in any status, so an operation's end leaves the cluster as the monitor sees it, and
 * each change between `running` and `degraded`, the monitor's or an operation's, is announced once
 * (counted by `capstan_cluster_status_changes_total{to}`).
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
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    // Often enough that a status trails its minutes by a fraction of one: three probe intervals, at most 15 s.
    this.work.every(Math.min(15_000, 3 * this.config.probeIntervalMs), 'API server health', () => this.evaluate());
  }

  async onModuleDestroy(): Promise<void> {
    await this.work.stop();
  }

  /** Judges this replica's clusters that its probes see down or that it watches; returns the changes it announced. */
  async evaluate(): Promise<ApiServerHealthChange[]> {
    const now = this.clock.now();
    const end = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
    const window: MinuteRange = { start: new Date(end.getTime() - LOOKBACK_MINUTES * MINUTE), end };
    const mine = new Set(this.scheduler.recorder.trackedClusters());
    const watched = new Map((await this.clusters.watched()).map((w) => [w.clusterId, w]));
    // Only a cluster this replica's own probes see down can have every vantage point's minutes
    // down, so the candidates come from memory and a healthy fleet costs one small query.
    const candidates = new Set([...this.scheduler.recorder.downClusters(), ...[...watched.keys()].filter((id) => mine.has(id))]);
    const changes: ApiServerHealthChange[] = [];
    for (const clusterId of candidates) {
      if (this.work.stopping) break;
      const minutes = minuteStatesAcrossVantagePoints(await this.reports.intervalsByVantage(clusterId, window), window);
      const health = apiServerHealth(minutes, window.start, this.config.degradedAfterMinutes);
      const observation: ApiServerObservation =
        health.state === 'down' ? { state: 'down', since: health.since, reason: apiServerDownReason(health.since, health.minutes) } : health;
      if (!observationMatters(observation, watched.get(clusterId))) continue;
      const announced = await this.clusters.observe(clusterId, observation);
      if (announced) {
        changes.push({ clusterId, status: announced });
        this.metrics?.clusterStatusChanges.inc({ to: announced });
      }
    }
    return changes;
  }
}
