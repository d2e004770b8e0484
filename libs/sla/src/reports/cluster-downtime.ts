import { Database } from '@capstan/platform';
import { Injectable, Module } from '@nestjs/common';

/**
 * Whether clusters' probes saw downtime since a moment (public to other features:
 * docs/architecture.md, "Feature-to-feature calls"; the fleet rollouts' wave health). Any vantage
 * point's down interval counts: a rollout would rather wait on a doubtful sign than upgrade
 * production past a real one.
 */
@Injectable()
export class ClusterDowntime {
  constructor(private readonly db: Database) {}

  /** The ids, among `since`'s keys, of clusters with a down interval that ended after their moment. */
  async downSince(since: ReadonlyMap<string, Date>): Promise<Set<string>> {
    if (since.size === 0) return new Set();
    const earliest = new Date(Math.min(...[...since.values()].map((d) => d.getTime())));
    const rows = await this.db
      .selectFrom('availability_intervals')
      .select(['cluster_id', 'ended_at'])
      .where('cluster_id', 'in', [...since.keys()])
      .where('state', '=', 'down')
      .where('ended_at', '>', earliest)
      .execute();
    return new Set(rows.filter((r) => r.ended_at > since.get(r.cluster_id)!).map((r) => r.cluster_id));
  }
}

/** ClusterDowntime without the report routes, for the worker. */
@Module({ providers: [ClusterDowntime], exports: [ClusterDowntime] })
export class ClusterDowntimeModule {}
