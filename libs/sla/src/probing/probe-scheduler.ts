import { BackgroundWork, Clock, Database, Metrics, RedisConnections, SlaMonitorConfig } from '@capstan/platform';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AvailabilityRecorder, recorderTimings } from './availability-recorder';
import { ReadyzProber, type ProbeTarget } from './prober';

const TARGETS_REFRESH_MS = 5_000;
const MEMBERSHIP_TTL_S = 15;

/** Where a cluster falls among the live replicas of one vantage point (rendezvous hashing). */
export function ownerOf(clusterId: string, replicas: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const replica of replicas) {
    const score = BigInt(`0x${createHash('sha1').update(`${replica}:${clusterId}`).digest('hex').slice(0, 15)}`);
    if (score > bestScore) {
      best = replica;
      bestScore = score;
    }
  }
  return best;
}

/** A cluster's fixed place within the probe interval, so probes spread evenly (jitter by id). */
export function probeOffsetMs(clusterId: string, intervalMs: number): number {
  return Number(BigInt(`0x${createHash('sha1').update(clusterId).digest('hex').slice(0, 12)}`) % BigInt(intervalMs));
}

/**
 * Probes every cluster of this replica's share once per interval. Replicas of a vantage point
 * announce themselves in Redis with a short TTL; each owns the clusters that rendezvous-hash to it,
 * so when a replica dies its share moves to the others within the TTL, and a new replica takes
 * its share without coordination. Probes run with bounded concurrency; results are written in
 * batches by the AvailabilityRecorder.
 */
@Injectable()
export class ProbeScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProbeScheduler.name);
  private readonly replicaId = randomUUID();
  private readonly prober: ReadyzProber;
  readonly recorder: AvailabilityRecorder;
  private readonly redis: Redis;
  private targets: ProbeTarget[] = [];
  private readonly nextDue = new Map<string, number>();
  private inFlight = 0;
  /** Every loop, probe and flush of this scheduler, so shutdown can wait for all of them. */
  private readonly work = new BackgroundWork(ProbeScheduler.name);
  probesSent = 0;

  constructor(
    private readonly db: Database,
    private readonly config: SlaMonitorConfig,
    private readonly clock: Clock,
    redis: RedisConnections,
    private readonly metrics: Metrics,
  ) {
    this.prober = new ReadyzProber(config.probeTimeoutMs, () => clock.now(), config.concurrency);
    const timings = recorderTimings(config.probeIntervalMs, config.probeTimeoutMs);
    this.recorder = new AvailabilityRecorder(db, config.vantage, timings.maxGapMs, config.rawProbeRetentionMs > 0, timings.extendUpEveryMs);
    this.redis = redis.open('sla-monitor');
    this.membershipKey = `${redis.prefix}:sla:replicas:${config.vantage}`;
  }

  private readonly membershipKey: string;

  onApplicationBootstrap(): void {
    void this.work.track(this.refreshTargets());
    this.work.every(TARGETS_REFRESH_MS, 'refreshing probe targets', () => this.refreshTargets());
    this.work.every(Math.max(10, Math.min(100, this.config.probeIntervalMs / 10)), 'scheduling probes', async () => this.tick());
    this.work.every(this.config.flushIntervalMs, 'flushing availability', () => this.flush());
    if (this.config.rawProbeRetentionMs > 0) this.work.every(60_000, 'pruning raw probes', () => this.pruneRawProbes());
  }

  /**
   * Shutdown in an order where nothing touches the database after the final flush: stop the loops
   * and wait for the probes in flight (each ends within the probe timeout) and the flushes they
   * started; only then close the sockets, so no probe fails because its agent was destroyed; then
   * the final flush. Before, closing the agents first made in-flight probes fail, and the state
   * change they recorded started a flush after the final one, racing the pool's end (the Prisma
   * transaction never gave its client back and `pool.end()` waited for ever).
   */
  async onModuleDestroy(): Promise<void> {
    await this.work.stop(this.config.probeTimeoutMs + 5_000);
    this.prober.close();
    await this.redis.zrem(this.membershipKey, this.replicaId).catch(() => undefined);
    await this.flush({ everything: true });
  }

  /** Writes what was recorded; kept for the next flush when the database is away. */
  async flush(options: { everything?: boolean } = {}): Promise<void> {
    try {
      const { intervalsOpened } = await this.recorder.flush(options);
      this.metrics.availabilityIntervalsWritten.inc(intervalsOpened);
    } catch (error) {
      this.metrics.availabilityFlushFailures.inc();
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'availability flush failed; will retry');
    }
  }

  /** Re-reads which clusters exist and which of them are this replica's to probe. */
  async refreshTargets(): Promise<void> {
    try {
      const now = Date.now();
      await this.redis.zadd(this.membershipKey, now, this.replicaId);
      await this.redis.zremrangebyscore(this.membershipKey, 0, now - MEMBERSHIP_TTL_S * 1000);
      const replicas = await this.redis.zrange(this.membershipKey, 0, -1);
      const clusters = await this.db
        .selectFrom('clusters')
        .select(['id', 'endpoint', 'ca_certificate', 'tls_server_name'])
        .where('deleted_at', 'is', null)
        .where('endpoint', 'is not', null)
        .where('ca_certificate', 'is not', null)
        .where('status', 'in', ['running', 'updating', 'upgrading', 'restoring', 'degraded', 'error'])
        .execute();
      const mine = clusters.filter((c) => ownerOf(c.id, replicas.length > 0 ? replicas : [this.replicaId]) === this.replicaId);
      const kept = new Set(mine.map((c) => c.id));
      this.recorder.forget(this.recorder.trackedClusters().filter((id) => !kept.has(id)));
      this.targets = mine.map((c) => ({
        clusterId: c.id,
        endpoint: c.endpoint!,
        caCertificate: c.ca_certificate!,
        ...(c.tls_server_name ? { serverName: c.tls_server_name } : {}),
      }));
      this.metrics.probeTargets.set(this.targets.length);
      for (const target of this.targets) {
        if (!this.nextDue.has(target.clusterId)) this.nextDue.set(target.clusterId, now + probeOffsetMs(target.clusterId, this.config.probeIntervalMs));
      }
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not refresh probe targets');
    }
  }

  private tick(): void {
    if (this.work.stopping) return;
    const now = Date.now();
    for (const target of this.targets) {
      if (this.inFlight >= this.config.concurrency) return;
      const due = this.nextDue.get(target.clusterId) ?? now;
      if (due > now) continue;
      // The next probe keeps its slot in the interval, even when this one ran late.
      this.nextDue.set(target.clusterId, due + this.config.probeIntervalMs * Math.max(1, Math.ceil((now - due + 1) / this.config.probeIntervalMs)));
      this.inFlight++;
      this.probesSent++;
      void this.work.track(this.probeAndRecord(target));
    }
  }

  private async probeAndRecord(target: ProbeTarget): Promise<void> {
    let result;
    try {
      result = await this.prober.probe(target);
    } finally {
      this.inFlight--;
    }
    const outcome = result.success ? 'up' : 'down';
    this.metrics.probesSent.inc({ result: outcome });
    this.metrics.probeLatency.observe({ result: outcome }, result.latencyMs / 1000);
    if (!result.success) this.metrics.probeFailures.inc({ kind: result.errorKind ?? 'unknown' });
    // A state change is written at once rather than at the next flush: detection time is what
    // burn-rate alerts and customers wait on. Part of this tracked work, so shutdown waits for it;
    // once shutdown began, the final flush writes it instead.
    if (this.recorder.record(result) && !this.work.stopping) await this.flush();
  }

  private async pruneRawProbes(): Promise<void> {
    await this.db
      .deleteFrom('probe_results')
      .where('probed_at', '<', new Date(this.clock.now().getTime() - this.config.rawProbeRetentionMs))
      .execute()
      .catch(() => undefined);
  }
}
