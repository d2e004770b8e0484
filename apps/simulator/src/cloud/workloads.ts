import type { Sql } from '../database';
import { conflict, notFound } from '../errors';
import { compareVersions, parseVersion } from '../versions';
import { type CloudContext, type ClusterRow, lockCluster, oneStepLater, requireApiServer, SERVING_PHASE_LIST } from './context';
import { countCreated, recordCreated } from './stats';

export interface Addon {
  name: string;
  version: string;
}

export interface ClusterObject {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
}

export interface SnapshotResource {
  cluster: string;
  name: string;
  version: string;
  sizeBytes: number;
  createdAt: string;
}

interface SnapshotRow {
  cluster: string;
  name: string;
  version: string;
  size_bytes: string;
  addons: Addon[];
  objects: ClusterObject[];
  created_at: Date;
}

/** What runs inside a tenant cluster: add-ons, objects, and the etcd snapshots that hold them. */
export class Workloads {
  constructor(private readonly cloud: CloudContext) {}

  /** Takes an etcd snapshot named `name` unless one exists; either way answers with it. */
  async snapshot(cluster: string, name: string): Promise<{ snapshot: SnapshotResource; created: boolean }> {
    return this.cloud.db.transaction(async (sql) => {
      const owner = await lockCluster(sql, cluster);
      const existing = await this.findSnapshot(sql, cluster, name);
      if (existing) return { snapshot: renderSnapshot(existing), created: false };
      if (!['running', 'upgrading', 'updating'].includes(owner.phase)) throw conflict(`cluster ${cluster} is ${owner.phase}; etcd cannot be snapshotted`);
      const addons = await this.readAddons(sql, cluster);
      const objects = await this.readObjects(sql, cluster);
      // A believable size: an empty etcd is a few MiB, and every object adds to it.
      const sizeBytes = 4 * 1024 * 1024 + objects.length * 2048 + addons.length * 65_536;
      const { rows } = await sql.query<SnapshotRow>(
        `INSERT INTO simulator.snapshots (cluster, name, version, size_bytes, addons, objects) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [cluster, name, owner.version, sizeBytes, JSON.stringify(addons), JSON.stringify(objects)],
      );
      await recordCreated(sql, 'snapshot', cluster, [name]);
      return { snapshot: renderSnapshot(rows[0]!), created: true };
    });
  }

  /** Snapshots outlive their cluster, so a lost cluster can be recreated and restored. */
  async listSnapshots(cluster: string): Promise<SnapshotResource[]> {
    const rows = await this.cloud.db.query<SnapshotRow>(`SELECT * FROM simulator.snapshots WHERE cluster = $1 ORDER BY created_at, name`, [cluster]);
    return rows.map(renderSnapshot);
  }

  /**
   * Puts the cluster's add-ons and objects back as they were in the snapshot. A snapshot from a
   * newer control plane than the cluster's is refused: its objects may use APIs this one lacks.
   */
  async restore(cluster: string, snapshot: string): Promise<void> {
    await this.cloud.db.transaction(async (sql) => {
      const owner = await lockCluster(sql, cluster);
      if (owner.phase !== 'running' && owner.phase !== 'updating')
        throw conflict(`cluster ${cluster} is ${owner.phase}; it can be restored once it is running`);
      const source = (await this.findSnapshot(sql, cluster, snapshot)) ?? notFoundSnapshot(cluster, snapshot);
      if (compareVersions(parseVersion(source.version), parseVersion(owner.version)) > 0) {
        throw conflict(`snapshot ${snapshot} was taken at ${source.version} and cannot be restored onto a ${owner.version} control plane`);
      }
      await sql.query(`DELETE FROM simulator.addons WHERE cluster = $1`, [cluster]);
      await this.insertAddons(sql, cluster, source.addons);
      await sql.query(`DELETE FROM simulator.objects WHERE cluster = $1`, [cluster]);
      await this.insertObjects(sql, cluster, source.objects);
      await sql.query(`UPDATE simulator.clusters SET phase = 'updating', settles_at = ${oneStepLater(2)} WHERE name = $1`, [cluster, this.cloud.stepDelayMs]);
    });
  }

  /** Installs or moves each add-on to the given version (Helm upgrade --install). */
  async installAddons(cluster: string, addons: Addon[], found: ClusterRow | null): Promise<void> {
    requireApiServer(this.existing(cluster, found));
    const { rows } = await this.cloud.db.pool.query<Pick<ClusterRow, 'name' | 'phase' | 'api_server_up'>>(
      `WITH owner AS (SELECT * FROM simulator.clusters WHERE name = $1 FOR UPDATE),
       installed AS (
         INSERT INTO simulator.addons (cluster, name, version)
         SELECT owner.name, a.name, a.version FROM owner, unnest($2::text[], $3::text[]) AS a (name, version)
          WHERE owner.api_server_up AND owner.phase = ANY($4::text[])
         ON CONFLICT (cluster, name) DO UPDATE SET version = excluded.version, installed_at = now()
         RETURNING name, (xmax = 0) AS inserted),
       counted AS (${countCreated(`SELECT 'addon', $1, name FROM installed WHERE inserted`)})
       SELECT owner.name, owner.phase, owner.api_server_up FROM owner`,
      [cluster, addons.map((a) => a.name), addons.map((a) => a.version), SERVING_PHASE_LIST],
    );
    if (!rows[0]) throw notFound(`cluster ${cluster} does not exist`);
    requireApiServer(rows[0]);
  }

  async listAddons(cluster: string, found: ClusterRow | null): Promise<Addon[]> {
    requireApiServer(this.existing(cluster, found));
    return this.readAddons(this.cloud.db.pool, cluster);
  }

  async listObjects(cluster: string, found: ClusterRow | null): Promise<ClusterObject[]> {
    requireApiServer(this.existing(cluster, found));
    return this.readObjects(this.cloud.db.pool, cluster);
  }

  /** Seeds objects (e.g. an `extensions/v1beta1` Ingress for an upgrade preflight to find). */
  async putObjects(cluster: string, objects: ClusterObject[], mode: 'replace' | 'add'): Promise<ClusterObject[]> {
    return this.cloud.db.transaction(async (sql) => {
      await lockCluster(sql, cluster);
      if (mode === 'replace') await sql.query(`DELETE FROM simulator.objects WHERE cluster = $1`, [cluster]);
      await this.insertObjects(sql, cluster, objects);
      return this.readObjects(sql, cluster);
    });
  }

  private existing(cluster: string, found: ClusterRow | null): ClusterRow {
    if (!found) throw notFound(`cluster ${cluster} does not exist`);
    return found;
  }

  private async findSnapshot(sql: Sql, cluster: string, name: string): Promise<SnapshotRow | null> {
    const { rows } = await sql.query<SnapshotRow>(`SELECT * FROM simulator.snapshots WHERE cluster = $1 AND name = $2`, [cluster, name]);
    return rows[0] ?? null;
  }

  /** Returns the names of add-ons that were not installed before. */
  private async insertAddons(sql: Sql, cluster: string, addons: Addon[]): Promise<string[]> {
    const { rows } = await sql.query<{ name: string; inserted: boolean }>(
      `INSERT INTO simulator.addons (cluster, name, version) SELECT $1, * FROM unnest($2::text[], $3::text[])
       ON CONFLICT (cluster, name) DO UPDATE SET version = excluded.version, installed_at = now()
       RETURNING name, (xmax = 0) AS inserted`,
      [cluster, addons.map((a) => a.name), addons.map((a) => a.version)],
    );
    return rows.filter((r) => r.inserted).map((r) => r.name);
  }

  private async insertObjects(sql: Sql, cluster: string, objects: ClusterObject[]): Promise<void> {
    await sql.query(
      `INSERT INTO simulator.objects (cluster, api_version, kind, namespace, name)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
      [cluster, objects.map((o) => o.apiVersion), objects.map((o) => o.kind), objects.map((o) => o.namespace ?? ''), objects.map((o) => o.name)],
    );
  }

  private async readAddons(sql: Sql, cluster: string): Promise<Addon[]> {
    const { rows } = await sql.query<Addon>(`SELECT name, version FROM simulator.addons WHERE cluster = $1 ORDER BY name`, [cluster]);
    return rows;
  }

  private async readObjects(sql: Sql, cluster: string): Promise<ClusterObject[]> {
    const { rows } = await sql.query<{ api_version: string; kind: string; namespace: string; name: string }>(
      `SELECT api_version, kind, namespace, name FROM simulator.objects WHERE cluster = $1 ORDER BY api_version, kind, namespace, name`,
      [cluster],
    );
    return rows.map((r) => ({ apiVersion: r.api_version, kind: r.kind, namespace: r.namespace || null, name: r.name }));
  }
}

function notFoundSnapshot(cluster: string, snapshot: string): never {
  throw notFound(`snapshot ${snapshot} of cluster ${cluster} does not exist`);
}

function renderSnapshot(row: SnapshotRow): SnapshotResource {
  return { cluster: row.cluster, name: row.name, version: row.version, sizeBytes: Number(row.size_bytes), createdAt: row.created_at.toISOString() };
}
