import type { Sql, SimulatorDatabase } from '../database';

/**
 * Counters kept by the simulated cloud about itself: how many times each external object was
 * created (the evidence that a worker's retries find what it made instead of making it again) and
 * how many calls of each kind arrived.
 */
export type ObjectKind = 'cluster' | 'nodePool' | 'node' | 'snapshot' | 'addon';

export interface ObjectStat {
  kind: ObjectKind;
  cluster: string;
  name: string;
  creates: number;
  deletes: number;
  /** Times it vanished behind its owner's back (the "lose the cluster" chaos action). */
  losses: number;
  lastCreatedAt: string | null;
}

export interface CallStat {
  call: string;
  cluster: string;
  count: number;
}

export interface StatsSummary {
  calls: Record<string, number>;
  creates: Record<string, number>;
  live: { clusters: number; nodePools: number; nodes: number; snapshots: number };
}

/**
 * A statement counting one creation of each `(kind, cluster, name)` row that `rows` (SQL) yields:
 * alone, or as a CTE of the statement that creates the objects, so that they and their count are
 * written together in one round trip.
 */
export const countCreated = (rows: string) => `INSERT INTO simulator.object_stats AS s (kind, cluster, name, creates, last_created_at)
  SELECT kind, cluster, name, 1, now() FROM (${rows}) AS created (kind, cluster, name)
  ON CONFLICT (kind, cluster, name) DO UPDATE SET creates = s.creates + 1, last_created_at = now()`;

/** Like countCreated, for deletions (`deletes`) or losses behind the owner's back (`losses`). */
export const countDeleted = (rows: string, how: 'deletes' | 'losses' = 'deletes') => `INSERT INTO simulator.object_stats AS s (kind, cluster, name, ${how})
  SELECT kind, cluster, name, 1 FROM (${rows}) AS deleted (kind, cluster, name)
  ON CONFLICT (kind, cluster, name) DO UPDATE SET ${how} = s.${how} + 1`;

export async function recordCreated(sql: Sql, kind: ObjectKind, cluster: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await sql.query(countCreated('SELECT $1::text, $2::text, unnest($3::text[])'), [kind, cluster, names]);
}

export async function recordDeleted(sql: Sql, kind: ObjectKind, cluster: string, name: string, how: 'deletes' | 'losses' = 'deletes'): Promise<void> {
  await sql.query(countDeleted('SELECT $1::text, $2::text, $3::text', how), [kind, cluster, name]);
}

export class CloudStats {
  constructor(private readonly db: SimulatorDatabase) {}

  async summary(): Promise<StatsSummary> {
    const [calls, creates, live] = await Promise.all([
      this.db.query<{ call: string; count: string }>(`SELECT call, sum(count)::bigint AS count FROM simulator.call_stats GROUP BY call ORDER BY call`),
      this.db.query<{ kind: string; creates: string }>(`SELECT kind, sum(creates)::bigint AS creates FROM simulator.object_stats GROUP BY kind ORDER BY kind`),
      this.db.query<{ clusters: string; node_pools: string; nodes: string; snapshots: string }>(
        `SELECT (SELECT count(*) FROM simulator.clusters) AS clusters, (SELECT count(*) FROM simulator.node_pools) AS node_pools,
                (SELECT count(*) FROM simulator.nodes) AS nodes, (SELECT count(*) FROM simulator.snapshots) AS snapshots`,
      ),
    ]);
    const counts = live[0]!;
    return {
      calls: Object.fromEntries(calls.map((r) => [r.call, Number(r.count)])),
      creates: Object.fromEntries(creates.map((r) => [r.kind, Number(r.creates)])),
      live: { clusters: Number(counts.clusters), nodePools: Number(counts.node_pools), nodes: Number(counts.nodes), snapshots: Number(counts.snapshots) },
    };
  }

  async objects(filter: { kind?: string; cluster?: string; name?: string }): Promise<ObjectStat[]> {
    const rows = await this.db.query<{
      kind: ObjectKind;
      cluster: string;
      name: string;
      creates: number;
      deletes: number;
      losses: number;
      last_created_at: Date | null;
    }>(
      `SELECT * FROM simulator.object_stats
        WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR cluster = $2) AND ($3::text IS NULL OR name = $3)
        ORDER BY kind, cluster, name LIMIT 10000`,
      [filter.kind ?? null, filter.cluster ?? null, filter.name ?? null],
    );
    return rows.map((r) => ({
      kind: r.kind,
      cluster: r.cluster,
      name: r.name,
      creates: r.creates,
      deletes: r.deletes,
      losses: r.losses,
      lastCreatedAt: r.last_created_at?.toISOString() ?? null,
    }));
  }

  async calls(filter: { call?: string; cluster?: string }): Promise<CallStat[]> {
    const rows = await this.db.query<{ call: string; cluster: string; count: string }>(
      `SELECT call, cluster, count FROM simulator.call_stats
        WHERE ($1::text IS NULL OR call = $1) AND ($2::text IS NULL OR cluster = $2) ORDER BY call, cluster LIMIT 10000`,
      [filter.call ?? null, filter.cluster ?? null],
    );
    return rows.map((r) => ({ call: r.call, cluster: r.cluster, count: Number(r.count) }));
  }

  async reset(): Promise<void> {
    await this.db.query(`TRUNCATE simulator.object_stats, simulator.call_stats`);
  }
}
