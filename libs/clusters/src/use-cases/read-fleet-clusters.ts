import { Database } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';

/** What the fleet upgrade scheduler needs of a cluster (docs/upgrades.md, "Fleet auto-upgrade"). */
export interface FleetClusterRow {
  id: string;
  organization_id: string;
  name: string;
  provider: 'rke2' | 'gke';
  status: string;
  current_version: string;
  release_channel: string;
  auto_upgrade: boolean;
  labels: Record<string, string>;
  node_pools: { id: string; name: string; version: string; max_surge: number; max_unavailable: number }[];
  maintenance_window: { time_zone: string; days: string[]; start_time: string; duration_minutes: number } | null;
  /** Exclusions that have not ended by `now` (ISO strings: they come back as JSON). */
  exclusions: { scope: 'no_upgrades' | 'no_minor_upgrades' | 'no_minor_or_node_upgrades'; starts_at: string; ends_at: string }[];
}

/**
 * The fleet-wide read for libs/upgrades' scheduler (public to other features: docs/architecture.md,
 * "Feature-to-feature calls"): every live cluster across organisations with its pools, window and
 * current or coming exclusions, a page at a time, in ONE statement per page.
 */
@Injectable()
export class ReadFleetClusters {
  constructor(private readonly db: Database) {}

  /** Live clusters with an id after `after`, by id, at most `limit`. */
  page(after: string | undefined, limit: number, now: Date): Promise<FleetClusterRow[]> {
    return this.query(now, (q) => q.$if(after !== undefined, (w) => w.where('c.id', '>', after!)).limit(limit));
  }

  /** An organisation's live clusters, by id. */
  ofOrganization(organizationId: string, now: Date): Promise<FleetClusterRow[]> {
    return this.query(now, (q) => q.where('c.organization_id', '=', organizationId));
  }

  /** The live clusters among `ids`, by id. */
  byIds(ids: readonly string[], now: Date): Promise<FleetClusterRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.query(now, (q) => q.where('c.id', 'in', [...ids]));
  }

  private async query<Q>(now: Date, narrow: (q: ReturnType<ReadFleetClusters['base']>) => Q & { execute(): Promise<unknown[]> }): Promise<FleetClusterRow[]> {
    return (await narrow(this.base(now)).execute()) as unknown as FleetClusterRow[];
  }

  private base(now: Date) {
    return this.db
      .selectFrom('clusters as c')
      .select(['c.id', 'c.organization_id', 'c.name', 'c.provider', 'c.status', 'c.current_version', 'c.release_channel', 'c.auto_upgrade', 'c.labels'])
      .select((eb) => [
        jsonArrayFrom(
          eb
            .selectFrom('node_pools as p')
            .select(['p.id', 'p.name', 'p.version', 'p.max_surge', 'p.max_unavailable'])
            .whereRef('p.cluster_id', '=', 'c.id')
            .where('p.deleted_at', 'is', null)
            .orderBy('p.id'),
        ).as('node_pools'),
        jsonObjectFrom(
          eb
            .selectFrom('maintenance_windows as w')
            .select(['w.time_zone', 'w.days', 'w.start_time', 'w.duration_minutes'])
            .whereRef('w.cluster_id', '=', 'c.id'),
        ).as('maintenance_window'),
        jsonArrayFrom(
          eb
            .selectFrom('maintenance_exclusions as e')
            .select(['e.scope', 'e.starts_at', 'e.ends_at'])
            .whereRef('e.cluster_id', '=', 'c.id')
            .where('e.ends_at', '>', now)
            .orderBy('e.starts_at'),
        ).as('exclusions'),
      ])
      .where('c.deleted_at', 'is', null)
      .orderBy('c.id');
  }
}
