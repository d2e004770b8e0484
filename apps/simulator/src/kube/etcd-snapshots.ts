import type { SimulatorDatabase } from '../database';
import type { ObjectStore, StoredRow } from './object-store';
import type { KubeObject } from './types';

/** Where a snapshot went besides the server's disk (RKE2's `etcd-s3-*` settings). */
export interface EtcdSnapshotS3 {
  endpoint: string;
  bucket: string;
  folder?: string;
  region?: string;
  /** `s3://<bucket>/<folder>/<file>`. */
  location: string;
}

export interface EtcdSnapshotRecord {
  server: string;
  /** The snapshot file's name, `<snapshot name>-<node>-<unix seconds>` as RKE2 names it. */
  name: string;
  node: string;
  /** `file://<etcd-snapshot-dir>/<name>` on the server node. */
  location: string;
  s3: EtcdSnapshotS3 | null;
  /** The API server's revision the snapshot holds. */
  resourceVersion: string;
  sizeBytes: number;
  createdAt: Date;
}

/** RKE2 lists its snapshot files as these objects; they describe snapshots and are not in one. */
export const SNAPSHOT_FILE_GROUP = 'k3s.cattle.io';
export const SNAPSHOT_FILE_RESOURCE = 'etcdsnapshotfiles';

function isSnapshotFile(group: string, resource: string): boolean {
  return group === SNAPSHOT_FILE_GROUP && resource === SNAPSHOT_FILE_RESOURCE;
}

interface SnapshotRow {
  server: string;
  name: string;
  node: string;
  location: string;
  s3: EtcdSnapshotS3 | null;
  resource_version: string;
  size_bytes: string;
  created_at: Date;
}

const COLUMNS = `server, name, node, location, s3, resource_version::text AS resource_version, size_bytes::text AS size_bytes, created_at`;

/**
 * The etcd snapshot files of the emulated RKE2 workload clusters, for real: a snapshot is a copy
 * of every object the workload API server stores, taken under the server's write lock so it is
 * exactly the state at one revision (what `rke2 etcd-snapshot save` gets from etcd); a restore
 * (`rke2 server --cluster-reset --cluster-reset-restore-path=...`) makes the server's objects
 * those of the snapshot again. ETCDSnapshotFile objects are spared on both sides: RKE2 lists the
 * files it finds on disk and in S3, which a restore does not touch.
 */
export class EtcdSnapshots {
  constructor(
    private readonly db: SimulatorDatabase,
    private readonly store: ObjectStore,
  ) {}

  /** Takes the snapshot, or answers the one already taken under that name (a repeated save). */
  async save(server: string, file: { name: string; node: string; location: string; s3: EtcdSnapshotS3 | null }, now: Date): Promise<EtcdSnapshotRecord> {
    return this.db.transaction(async (sql) => {
      // The server's row lock stops its writes: the copy is one revision, as etcd's snapshot is.
      const locked = await sql.query(`SELECT 1 FROM simulator.api_servers WHERE name = $1 FOR UPDATE`, [server]);
      if (locked.rows.length === 0) throw new Error(`API server ${server} does not exist`);
      await sql.query(
        `INSERT INTO simulator.kube_etcd_snapshots (server, name, node, location, s3, resource_version, objects, size_bytes, created_at)
         SELECT $1, $2, $3, $4, $5::jsonb, s.resource_version, copy.objects, octet_length(copy.objects::text), $6
           FROM simulator.api_servers s,
                LATERAL (SELECT coalesce(jsonb_agg(jsonb_build_object('group', o.api_group, 'resource', o.resource, 'object', o.body)
                                                   ORDER BY o.api_group, o.resource, o.namespace, o.name), '[]'::jsonb) AS objects
                           FROM simulator.kube_objects o
                          WHERE o.server = s.name AND NOT (o.api_group = $7 AND o.resource = $8)) copy
          WHERE s.name = $1
         ON CONFLICT (server, name) DO NOTHING`,
        [server, file.name, file.node, file.location, file.s3 ? JSON.stringify(file.s3) : null, now, SNAPSHOT_FILE_GROUP, SNAPSHOT_FILE_RESOURCE],
      );
      const { rows } = await sql.query<SnapshotRow>(`SELECT ${COLUMNS} FROM simulator.kube_etcd_snapshots WHERE server = $1 AND name = $2`, [
        server,
        file.name,
      ]);
      return toRecord(rows[0]!);
    });
  }

  async get(server: string, name: string): Promise<EtcdSnapshotRecord | null> {
    const rows = await this.db.query<SnapshotRow>(`SELECT ${COLUMNS} FROM simulator.kube_etcd_snapshots WHERE server = $1 AND name = $2`, [server, name]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(server: string): Promise<EtcdSnapshotRecord[]> {
    const rows = await this.db.query<SnapshotRow>(`SELECT ${COLUMNS} FROM simulator.kube_etcd_snapshots WHERE server = $1 ORDER BY created_at, name`, [server]);
    return rows.map(toRecord);
  }

  /** `rke2 etcd-snapshot delete`: the file goes (on disk and in S3). Absent is fine. */
  async remove(server: string, name: string): Promise<void> {
    await this.db.query(`DELETE FROM simulator.kube_etcd_snapshots WHERE server = $1 AND name = $2`, [server, name]);
  }

  /** The cluster reset: the server's objects become the snapshot's. False when there is no such snapshot. */
  async restore(server: string, name: string): Promise<boolean> {
    const rows = await this.db.query<{ objects: { group: string; resource: string; object: KubeObject }[] }>(
      `SELECT objects FROM simulator.kube_etcd_snapshots WHERE server = $1 AND name = $2`,
      [server, name],
    );
    if (!rows[0]) return false;
    const wanted: StoredRow[] = rows[0].objects.map((o) => ({ group: o.group, resource: o.resource, object: o.object }));
    await this.store.replaceObjects(server, wanted, isSnapshotFile);
    return true;
  }

  /** Staff fault "etcd lost its data": every object of the server goes (snapshot files stay, as on disk). */
  async wipe(server: string): Promise<{ removed: number }> {
    const { removed } = await this.store.replaceObjects(server, [], isSnapshotFile);
    return { removed };
  }
}

function toRecord(row: SnapshotRow): EtcdSnapshotRecord {
  return {
    server: row.server,
    name: row.name,
    node: row.node,
    location: row.location,
    s3: row.s3,
    resourceVersion: row.resource_version,
    sizeBytes: Number(row.size_bytes),
    createdAt: row.created_at,
  };
}
