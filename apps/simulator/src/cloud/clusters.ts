import { conflict, notFound } from '../errors';
import { controlPlaneUpgradeRefusal, kubeletSkewRefusal, parseVersion } from '../versions';
import { type CloudContext, type ClusterRow, findCluster, lockCluster, type ObjectPhase, oneStepLater } from './context';
import { recordCreated, recordDeleted } from './stats';

export interface ClusterSpec {
  name: string;
  flavour: 'rke2' | 'gke';
  region: string;
  version: string;
  labels: Record<string, string>;
}

export interface ClusterResource {
  name: string;
  flavour: 'rke2' | 'gke';
  region: string;
  /** The control plane's version; during an upgrade, the version it is leaving. */
  version: string;
  targetVersion: string | null;
  status: ObjectPhase;
  labels: Record<string, string>;
  /** The API server URL, once the control plane has been provisioned. */
  endpoint: string | null;
  caCertificate: string | null;
  apiServer: 'up' | 'down';
  createdAt: string;
}

/** What a fresh cluster holds before anyone deploys to it. */
const BUILT_IN_OBJECTS = [
  ['v1', 'Namespace', '', 'default'],
  ['v1', 'Namespace', '', 'kube-system'],
  ['v1', 'Service', 'default', 'kubernetes'],
  ['apps/v1', 'Deployment', 'kube-system', 'coredns'],
] as const;

export class Clusters {
  constructor(private readonly cloud: CloudContext) {}

  /** Creates the cluster unless it exists; either way answers with it. */
  async ensure(spec: ClusterSpec): Promise<{ cluster: ClusterResource; created: boolean }> {
    parseVersion(spec.version);
    return this.cloud.db.transaction(async (sql) => {
      await sql.query('SELECT simulator.settle($1)', [spec.name]);
      const inserted = await sql.query(
        `INSERT INTO simulator.clusters (name, flavour, region, version, labels, phase, settles_at)
         VALUES ($1, $2, $3, $4, $5, 'provisioning', ${oneStepLater(6)})
         ON CONFLICT (name) DO NOTHING RETURNING name`,
        [spec.name, spec.flavour, spec.region, spec.version, JSON.stringify(spec.labels), this.cloud.stepDelayMs],
      );
      const created = inserted.rowCount === 1;
      if (created) {
        await sql.query(
          `INSERT INTO simulator.objects (cluster, api_version, kind, namespace, name)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])`,
          [spec.name, ...[0, 1, 2, 3].map((i) => BUILT_IN_OBJECTS.map((o) => o[i]))],
        );
        await recordCreated(sql, 'cluster', spec.name, [spec.name]);
      }
      const cluster = (await findCluster(sql, spec.name))!;
      if (cluster.phase === 'deleting') throw conflict(`cluster ${spec.name} is being deleted; it can be created again once it is gone`);
      return { cluster: this.render(cluster), created };
    });
  }

  async get(name: string): Promise<ClusterResource> {
    const cluster = await findCluster(this.cloud.db.pool, name);
    if (!cluster) throw notFound(`cluster ${name} does not exist`);
    return this.render(cluster);
  }

  async list(page: { limit: number; after?: string }): Promise<{ items: ClusterResource[]; next: string | null }> {
    const window = `FROM simulator.clusters WHERE name > $1 ORDER BY name LIMIT $2`;
    const args = [page.after ?? '', page.limit];
    await this.cloud.db.query(`SELECT simulator.settle(name) ${window}`, args);
    const rows = await this.cloud.db.query<ClusterRow>(`SELECT * ${window}`, args);
    return { items: rows.map((r) => this.render(r)), next: rows.length === page.limit ? rows[rows.length - 1]!.name : null };
  }

  /** Starts deleting the cluster; null when it is already gone. */
  async delete(name: string): Promise<ClusterResource | null> {
    return this.cloud.db.transaction(async (sql) => {
      const cluster = await findCluster(sql, name, true);
      if (!cluster) return null;
      if (cluster.phase !== 'deleting') {
        await sql.query(`UPDATE simulator.clusters SET phase = 'deleting', target_version = NULL, settles_at = ${oneStepLater(2)} WHERE name = $1`, [
          name,
          this.cloud.stepDelayMs,
        ]);
        await recordDeleted(sql, 'cluster', name, name);
      }
      const after = await findCluster(sql, name);
      return after && this.render(after);
    });
  }

  /** Moves the control plane to `version`: one minor at a time, never down, never past the nodes' skew. */
  async upgradeControlPlane(name: string, version: string): Promise<ClusterResource> {
    const target = parseVersion(version);
    return this.cloud.db.transaction(async (sql) => {
      const cluster = await lockCluster(sql, name);
      if (cluster.phase === 'upgrading') {
        if (cluster.target_version === version) return this.render(cluster);
        throw conflict(`cluster ${name} is already upgrading to ${cluster.target_version}`);
      }
      if (cluster.phase !== 'running') throw conflict(`cluster ${name} is ${cluster.phase}; its control plane can be upgraded once it is running`);
      if (cluster.version === version) return this.render(cluster);

      const refusal = controlPlaneUpgradeRefusal(parseVersion(cluster.version), target);
      if (refusal) throw conflict(refusal);
      const { rows: nodes } = await sql.query<{ name: string; version: string }>(
        `SELECT name, version FROM simulator.nodes WHERE cluster = $1 AND phase <> 'deleting' ORDER BY seq`,
        [name],
      );
      for (const node of nodes) {
        const skew = kubeletSkewRefusal(parseVersion(node.version), target);
        if (skew) throw conflict(`upgrading the control plane to ${version} would break node ${node.name}: ${skew}`);
      }
      await sql.query(`UPDATE simulator.clusters SET phase = 'upgrading', target_version = $2, settles_at = ${oneStepLater(3)} WHERE name = $1`, [
        name,
        version,
        this.cloud.stepDelayMs,
      ]);
      return this.render((await findCluster(sql, name))!);
    });
  }

  /** Chaos: the cluster vanishes behind its owner's back (deleted out of band, region lost). */
  async lose(name: string): Promise<void> {
    await this.cloud.db.transaction(async (sql) => {
      const { rowCount } = await sql.query(`DELETE FROM simulator.clusters WHERE name = $1`, [name]);
      if (rowCount === 0) throw notFound(`cluster ${name} does not exist`);
      await recordDeleted(sql, 'cluster', name, name, 'losses');
    });
  }

  /** Chaos: the API server stops (or starts again) answering; the cluster itself stays. */
  async setApiServer(name: string, up: boolean): Promise<ClusterResource> {
    const [row] = await this.cloud.db.query<ClusterRow>(`UPDATE simulator.clusters SET api_server_up = $2 WHERE name = $1 RETURNING *`, [name, up]);
    if (!row) throw notFound(`cluster ${name} does not exist`);
    return this.render(row);
  }

  private render(row: ClusterRow): ClusterResource {
    const provisioned = row.phase !== 'provisioning';
    return {
      name: row.name,
      flavour: row.flavour,
      region: row.region,
      version: row.version,
      targetVersion: row.target_version,
      status: row.phase,
      labels: row.labels,
      endpoint: provisioned ? `${this.cloud.kubeUrl}/clusters/${row.name}` : null,
      caCertificate: provisioned ? this.cloud.caCertificatePem : null,
      apiServer: row.api_server_up ? 'up' : 'down',
      createdAt: row.created_at.toISOString(),
    };
  }
}
