import { isBackupStale, longestInterval } from '@capstan/domain';
import { Clock } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { BackupScheduleRow } from './backup-view';
import { BackupsRepository } from './backups.repository';

export interface ClusterBackupHealth {
  clusterId: string;
  organizationId: string;
  lastGoodAt: Date | null;
  /** The longest gap between windows of the cluster's most frequent active schedule. */
  intervalMs: number;
  stale: boolean;
  /** The cluster's active schedules (the stale event is recorded once per episode on them). */
  schedules: BackupScheduleRow[];
}

/**
 * How old each scheduled cluster's last good backup is (docs/backups.md, "Staleness"): stale once
 * older than twice its schedule's interval (its most frequent active schedule; a new schedule
 * counts from its creation). Read by staff and by the scheduler, which raises the event.
 */
@Injectable()
export class BackupHealth {
  constructor(
    private readonly backups: BackupsRepository,
    private readonly clock: Clock,
  ) {}

  async clusters(now: Date = this.clock.now()): Promise<ClusterBackupHealth[]> {
    const byCluster = new Map<string, BackupScheduleRow[]>();
    for (const s of await this.backups.activeSchedules()) byCluster.set(s.cluster_id, [...(byCluster.get(s.cluster_id) ?? []), s]);
    const lastGood = await this.backups.lastGood([...byCluster.keys()]);
    const result: ClusterBackupHealth[] = [];
    for (const [clusterId, schedules] of byCluster) {
      const intervals = schedules.map((s) => longestInterval({ cron: s.cron, timeZone: s.time_zone }, now)).filter((ms) => ms > 0);
      const intervalMs = intervals.length > 0 ? Math.min(...intervals) : 0;
      const since = new Date(Math.min(...schedules.map((s) => s.created_at.getTime())));
      const last = lastGood.get(clusterId) ?? null;
      result.push({
        clusterId,
        organizationId: schedules[0]!.organization_id,
        lastGoodAt: last,
        intervalMs,
        stale: isBackupStale(last, since, intervalMs, now),
        schedules,
      });
    }
    return result;
  }

  /** The staff view: stalest first. */
  async present(filter: { stale?: boolean; limit: number }) {
    const now = this.clock.now().getTime();
    const age = (h: ClusterBackupHealth) => (h.lastGoodAt ? now - h.lastGoodAt.getTime() : Number.POSITIVE_INFINITY);
    return {
      items: (await this.clusters())
        .filter((h) => filter.stale === undefined || h.stale === filter.stale)
        .sort((a, b) => Number(b.stale) - Number(a.stale) || age(b) - age(a) || (a.clusterId < b.clusterId ? -1 : 1))
        .slice(0, filter.limit)
        .map((h) => ({
          cluster_id: h.clusterId,
          organization_id: h.organizationId,
          last_good_backup_at: h.lastGoodAt?.toISOString() ?? null,
          age_seconds: h.lastGoodAt ? Math.floor((now - h.lastGoodAt.getTime()) / 1000) : null,
          schedule_interval_seconds: h.intervalMs > 0 ? Math.round(h.intervalMs / 1000) : null,
          stale: h.stale,
        })),
    };
  }
}
