import { conflict, notFound } from '../errors';
import { controlPlaneUpgradeRefusal, kubeletSkewRefusal, parseVersion } from '../versions';
import { type CloudContext, type ClusterRow, findCluster, lockCluster, type ObjectPhase, oneStepLater } from './context';
import { countCreated, countDeleted, recordDeleted } from './stats';

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
const BUILT_IN_COLUMNS = [0, 1, 2, 3].map((i) => BUILT_IN_OBJECTS.map((o) => o[i]));

export class Clusters {
  constructor(private readonly cloud: CloudContext) {}

  /**
   * Creates the cluster unless it exists; either way answers with it. `found` is the cluster as the
   * call found it: when it exists, that is the answer, with no further round trip.
   */
  async ensure(spec: ClusterSpec, found: ClusterRow | null): Promise<{ cluster: ClusterResource; created: boolean }> {
    parseVersion(spec.version);
    let created = false;
    let cluster = found;
    if (!cluster) {
      // One statement: the cluster, its built-in objects and its creation count stand or fall
      // together. Of concurrent creators, the one whose insert wins counts; the others find it.
      const [row] = await this.cloud.db.query<{ created: number }>(
        `WITH cluster AS (
           INSERT INTO simulator.clusters (name, flavour, region, version, labels, phase, settles_at)
           VALUES ($1, $2, $3, $4, $5, 'provisioning', ${oneStepLater(6)})
           ON CONFLICT (name) DO NOTHING RETURNING name),
         built_in AS (
           INSERT INTO simulator.objects (cluster, api_version, kind, namespace, name)
           SELECT cluster.name, o.* FROM cluster, unnest($7::text[], $8::text[], $9::text[], $10::text[]) o),
         counted AS (${countCreated(`SELECT 'cluster', name, name FROM cluster`)})
         SELECT count(*)::integer AS created FROM cluster`,
        [spec.name, spec.flavour, spec.region, spec.version, JSON.stringify(spec.labels), this.cloud.stepDelayMs, ...BUILT_IN_COLUMNS],
      );
      created = row!.created === 1;
      cluster = await findCluster(this.cloud.db.pool, spec.name);
      if (!cluster) throw conflict(`cluster ${spec.name} vanished while it was being created; ensure it again`);
    }
    if (cluster.phase === 'deleting') throw conflict(`cluster ${spec.name} is being deleted; it can be created again once it is gone`);
    return { cluster: this.render(cluster), created };
  }

  get(name: string, found: ClusterRow | null): ClusterResource {
    if (!found) throw notFound(`cluster ${name} does not exist`);
    return this.render(found);
  }

  async list(page: { limit: number; after?: string }): Promise<{ items: ClusterResource[]; next: string | null }> {
    const window = `FROM simulator.clusters WHERE name > $1 ORDER BY name LIMIT $2`;
    const args = [page.after ?? '', page.limit];
    await this.cloud.db.query(`SELECT simulator.settle(name) ${window}`, args);
    const rows = await this.cloud.db.query<ClusterRow>(`SELECT * ${window}`, args);
    return { items: rows.map((r) => this.render(r)), next: rows.length === page.limit ? rows[rows.length - 1]!.name : null };
  }

  /** Starts deleting the cluster; null when it is already gone. */
  async delete(name: string, found: ClusterRow | null): Promise<ClusterResource | null> {
    if (!found) return null;
    if (found.phase !== 'deleting') {
      // Of concurrent deletes, only the one that moves it to `deleting` counts a deletion.
      await this.cloud.db.query(
        `WITH deleting AS (
           UPDATE simulator.clusters SET phase = 'deleting', target_version = NULL, settles_at = ${oneStepLater(2)}
            WHERE name = $1 AND phase <> 'deleting' RETURNING name)
         ${countDeleted(`SELECT 'cluster', name, name FROM deleting`)}`,
        [name, this.cloud.stepDelayMs],
      );
    }
    const after = await findCluster(this.cloud.db.pool, name);
    return after && this.render(after);
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
