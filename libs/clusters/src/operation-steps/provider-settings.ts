import type { UnitOfWork } from '@capstan/platform';
import type { ProviderClusterSettings, ProviderMaintenancePolicy } from '@capstan/providers';

type WindowDay = NonNullable<ProviderMaintenancePolicy['window']>['days'][number];

/**
 * The settings a provider that upgrades clusters itself must hold, read from the cluster's rows
 * when the step runs (never from the operation's params): a step run again after a crash, or an
 * operation that starts after another change, applies what Capstan holds now. Exclusions that
 * have ended are left out: they constrain nothing any more.
 */
export async function providerSettingsOf(db: UnitOfWork, clusterId: string, now: Date): Promise<ProviderClusterSettings> {
  // One statement at a time: a run holds one connection of the pool (docs/operations-engine.md, "Connections").
  const cluster = await db.selectFrom('clusters').select(['labels', 'release_channel']).where('id', '=', clusterId).executeTakeFirstOrThrow();
  const window = await db
    .selectFrom('maintenance_windows')
    .select(['time_zone', 'days', 'start_time', 'duration_minutes'])
    .where('cluster_id', '=', clusterId)
    .executeTakeFirst();
  const exclusions = await db
    .selectFrom('maintenance_exclusions')
    .select(['name', 'scope', 'starts_at', 'ends_at'])
    .where('cluster_id', '=', clusterId)
    .where('ends_at', '>', now)
    .orderBy('starts_at')
    .orderBy('id')
    .execute();
  return {
    labels: (cluster.labels ?? {}) as Record<string, string>,
    releaseChannel: cluster.release_channel,
    maintenance: {
      window: window
        ? { timeZone: window.time_zone, days: window.days as WindowDay[], startTime: window.start_time, durationMinutes: window.duration_minutes }
        : null,
      exclusions: exclusions.map((e) => ({ name: e.name, startsAt: e.starts_at, endsAt: e.ends_at, scope: e.scope })),
    },
  };
}
