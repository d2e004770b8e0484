import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Sql } from '../database';
import { conflict, invalid, notFound, unavailable } from '../errors';
import { compareVersions, formatVersion, kubeletSkewRefusal, parseVersion } from '../versions';
import { type CloudContext, type ClusterRow, findCluster, lockCluster, type ObjectPhase, oneStepLater, requireApiServer, SERVING_PHASE_LIST } from './context';
import { countCreated, countDeleted, recordCreated } from './stats';

export interface Taint {
  key: string;
  value: string;
  effect: string;
}

export interface NodePoolSpec {
  name: string;
  machineType: string;
  count: number;
  autoscaling: { min: number; max: number } | null;
  version: string;
  labels: Record<string, string>;
  taints: Taint[];
  maxSurge: number;
  maxUnavailable: number;
}

export interface NodeResource {
  name: string;
  version: string;
  targetVersion: string | null;
  ready: boolean;
  unschedulable: boolean;
  status: ObjectPhase;
}

export interface NodePoolResource {
  cluster: string;
  name: string;
  machineType: string;
  count: number;
  autoscaling: { min: number; max: number } | null;
  /** The oldest version any of its nodes runs: the pool is at a version once every node is. */
  version: string;
  labels: Record<string, string>;
  taints: Taint[];
  maxSurge: number;
  maxUnavailable: number;
  status: ObjectPhase;
  nodes: NodeResource[];
}

export interface DrainResult {
  drained: boolean;
  blockedBy: { namespace: string; pod: string; podDisruptionBudget: string }[];
}

export interface DisruptionBudget {
  namespace: string;
  name: string;
  pods: { name: string; node: string }[];
}

interface NodePoolRow {
  cluster: string;
  name: string;
  machine_type: string;
  count: number;
  autoscaling: { min: number; max: number } | null;
  version: string;
  labels: Record<string, string>;
  taints: Taint[];
  max_surge: number;
  max_unavailable: number;
  phase: ObjectPhase;
}

interface NodeRow {
  name: string;
  pool: string;
  version: string;
  target_version: string | null;
  unschedulable: boolean;
  phase: ObjectPhase;
}

/** A pool as stored, with its nodes in creation order (`simulator.node_pool_view`). */
export type NodePoolRecord = NodePoolRow & { nodes: NodeRow[] };

/** Kubernetes' generateName alphabet: no vowels, so no words, and no look-alike characters. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export class NodePools {
  constructor(private readonly cloud: CloudContext) {}

  /**
   * Creates the pool and its nodes unless the pool exists; either way answers with it. The checks
   * are made on `found`, the cluster as the call found it, and the insert goes ahead only if the
   * cluster, locked, is still as judged; if it moved meanwhile (an upgrade settled), it is judged
   * again as it now is.
   */
  async ensure(
    cluster: string,
    spec: NodePoolSpec,
    found: ClusterRow | null,
    foundPool?: NodePoolRecord | null,
  ): Promise<{ pool: NodePoolResource; created: boolean }> {
    checkScale(spec);
    const version = parseVersion(spec.version);
    let owner = found;
    if (owner && owner.phase !== 'deleting' && foundPool) {
      if (foundPool.phase === 'deleting') throw conflict(`node pool ${spec.name} is being deleted; it can be created again once it is gone`);
      return { pool: renderPool(cluster, foundPool), created: false };
    }
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (!owner) throw notFound(`cluster ${cluster} does not exist`);
      if (owner.phase === 'deleting') throw conflict(`cluster ${cluster} is being deleted`);
      const skew = kubeletSkewRefusal(version, parseVersion(owner.version));
      const { rows } = await this.cloud.db.pool.query<ClusterRow & { created: number }>(
        `WITH owner AS (SELECT * FROM simulator.clusters WHERE name = $1 FOR UPDATE),
         pool AS (
           INSERT INTO simulator.node_pools
             (cluster, name, machine_type, count, autoscaling, version, labels, taints, max_surge, max_unavailable, phase, settles_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'provisioning', ${oneStepLater(11)}
             FROM owner WHERE owner.phase = $12 AND owner.version = $13 AND $14::boolean
           ON CONFLICT (cluster, name) DO NOTHING RETURNING name),
         nodes AS (
           INSERT INTO simulator.nodes (cluster, pool, name, version, phase, settles_at)
           SELECT $1, pool.name, unnest($15::text[]), $6, 'provisioning', ${oneStepLater(11)} FROM pool RETURNING name),
         counted AS (${countCreated(`SELECT 'nodePool', $1, name FROM pool UNION ALL SELECT 'node', $1, name FROM nodes`)})
         SELECT owner.*, (SELECT count(*) FROM pool)::integer AS created FROM owner`,
        [
          cluster,
          spec.name,
          spec.machineType,
          spec.count,
          spec.autoscaling && JSON.stringify(spec.autoscaling),
          spec.version,
          JSON.stringify(spec.labels),
          JSON.stringify(spec.taints),
          spec.maxSurge,
          spec.maxUnavailable,
          this.cloud.stepDelayMs,
          owner.phase,
          owner.version,
          skew === null,
          nodeNames(spec.name, spec.count),
        ],
      );
      const locked = rows[0];
      if (locked?.created) return { pool: (await this.view(this.cloud.db.pool, cluster, spec.name, true))!, created: true };
      if (!locked || locked.phase !== owner.phase || locked.version !== owner.version) {
        owner = locked ?? null;
        continue;
      }
      const existing = await this.view(this.cloud.db.pool, cluster, spec.name, true);
      if (existing?.status === 'deleting') throw conflict(`node pool ${spec.name} is being deleted; it can be created again once it is gone`);
      if (existing) return { pool: existing, created: false };
      if (skew) throw conflict(skew);
      // It existed when the insert ran and was gone by the read (its deletion settled): once more.
    }
    throw unavailable(`node pool ${spec.name} of cluster ${cluster} keeps changing; try again`);
  }

  async get(cluster: string, pool: string, found: ClusterRow | null, foundPool?: NodePoolRecord | null): Promise<NodePoolResource> {
    if (!found) throw notFound(`cluster ${cluster} does not exist`);
    const resource = foundPool === undefined ? await this.view(this.cloud.db.pool, cluster, pool, false) : foundPool && renderPool(cluster, foundPool);
    if (!resource) throw notFound(`node pool ${pool} does not exist in cluster ${cluster}`);
    return resource;
  }

  async list(cluster: string): Promise<NodePoolResource[]> {
    return this.cloud.db.transaction(async (sql) => {
      if (!(await findCluster(sql, cluster))) throw notFound(`cluster ${cluster} does not exist`);
      const { rows } = await sql.query<{ name: string }>(`SELECT name FROM simulator.node_pools WHERE cluster = $1 ORDER BY name`, [cluster]);
      return Promise.all(rows.map((r) => this.read(sql, cluster, r.name)));
    });
  }

  /**
   * Applies count, autoscaling, labels, taints and surge settings. Version and machine type are not
   * changed here: nodes move to a new version one by one through upgradeNode.
   */
  async update(cluster: string, spec: NodePoolSpec): Promise<NodePoolResource> {
    checkScale(spec);
    return this.cloud.db.transaction(async (sql) => {
      await lockCluster(sql, cluster);
      const pool = await this.findPool(sql, cluster, spec.name, true);
      if (!pool) throw notFound(`node pool ${spec.name} does not exist in cluster ${cluster}`);
      if (pool.phase === 'deleting') throw conflict(`node pool ${spec.name} is being deleted`);

      const { rows: nodes } = await sql.query<NodeRow>(`SELECT * FROM simulator.nodes WHERE cluster = $1 AND pool = $2 AND phase <> 'deleting' ORDER BY seq`, [
        cluster,
        spec.name,
      ]);
      if (spec.count > nodes.length) await this.addNodes(sql, cluster, spec.name, pool.version, spec.count - nodes.length);
      if (spec.count < nodes.length) {
        // Scale-down removes the newest nodes first, like a MachineSet's "Newest" delete policy.
        const removed = nodes.slice(spec.count).map((n) => n.name);
        await sql.query(
          `UPDATE simulator.nodes SET phase = 'deleting', unschedulable = true, settles_at = ${oneStepLater(3)} WHERE cluster = $1 AND name = ANY($2::text[])`,
          [cluster, removed, this.cloud.stepDelayMs],
        );
      }
      const unchanged =
        spec.count === nodes.length &&
        spec.count === pool.count &&
        isDeepStrictEqual(spec.autoscaling, pool.autoscaling) &&
        isDeepStrictEqual(spec.labels, pool.labels) &&
        isDeepStrictEqual(spec.taints, pool.taints) &&
        spec.maxSurge === pool.max_surge &&
        spec.maxUnavailable === pool.max_unavailable;
      if (!unchanged) {
        await sql.query(
          `UPDATE simulator.node_pools
              SET count = $3, autoscaling = $4, labels = $5, taints = $6, max_surge = $7, max_unavailable = $8,
                  phase = CASE WHEN phase = 'provisioning' THEN phase ELSE 'updating' END,
                  settles_at = greatest(settles_at, ${oneStepLater(9)})
            WHERE cluster = $1 AND name = $2`,
          [
            cluster,
            spec.name,
            spec.count,
            spec.autoscaling && JSON.stringify(spec.autoscaling),
            JSON.stringify(spec.labels),
            JSON.stringify(spec.taints),
            spec.maxSurge,
            spec.maxUnavailable,
            this.cloud.stepDelayMs,
          ],
        );
      }
      return this.read(sql, cluster, spec.name);
    });
  }

  /** Starts deleting the pool and its nodes; null when there is nothing to delete. */
  async delete(cluster: string, pool: string, found: ClusterRow | null, foundPool?: NodePoolRecord | null): Promise<NodePoolResource | null> {
    if (!found || foundPool === null) return null;
    // Of concurrent deletes, only the one that moves it to `deleting` counts a deletion.
    await this.cloud.db.query(
      `WITH owner AS (SELECT name FROM simulator.clusters WHERE name = $1 FOR UPDATE),
       deleting AS (
         UPDATE simulator.node_pools p SET phase = 'deleting', settles_at = ${oneStepLater(3)}
           FROM owner WHERE p.cluster = owner.name AND p.name = $2 AND p.phase <> 'deleting' RETURNING p.name),
       nodes AS (
         UPDATE simulator.nodes n SET phase = 'deleting', unschedulable = true, settles_at = ${oneStepLater(3)}
           FROM deleting WHERE n.cluster = $1 AND n.pool = deleting.name)
       ${countDeleted(`SELECT 'nodePool', $1, name FROM deleting`)}`,
      [cluster, pool, this.cloud.stepDelayMs],
    );
    return this.view(this.cloud.db.pool, cluster, pool, true);
  }

  async setUnschedulable(cluster: string, node: string, unschedulable: boolean, found: ClusterRow | null): Promise<NodeResource> {
    if (!found) throw notFound(`cluster ${cluster} does not exist`);
    requireApiServer(found);
    const { rows } = await this.cloud.db.pool.query<Pick<ClusterRow, 'name' | 'phase' | 'api_server_up'> & { node: NodeRow | null }>(
      `WITH owner AS (SELECT * FROM simulator.clusters WHERE name = $1 FOR UPDATE),
       node AS (
         UPDATE simulator.nodes n SET unschedulable = $3
           FROM owner WHERE n.cluster = owner.name AND n.name = $2 AND owner.api_server_up AND owner.phase = ANY($4::text[])
         RETURNING n.*)
       SELECT owner.name, owner.phase, owner.api_server_up, to_json(node) AS node FROM owner LEFT JOIN node ON true`,
      [cluster, node, unschedulable, SERVING_PHASE_LIST],
    );
    const locked = rows[0];
    if (!locked) throw notFound(`cluster ${cluster} does not exist`);
    requireApiServer(locked);
    if (!locked.node) throw notFound(`node ${node} does not exist in cluster ${cluster}`);
    return renderNode(locked.node);
  }

  /**
   * Cordons the node and evicts its pods, as `kubectl drain` does. Pods whose PodDisruptionBudget
   * allows no disruption answer the eviction with 429 and block the drain, unless `force` deletes
   * them anyway. A blocked drain answers at once rather than after `timeoutSeconds`: the caller
   * polls, and waiting inside one request would only hold a connection.
   */
  async drain(cluster: string, node: string, options: { timeoutSeconds: number; force: boolean }, found: ClusterRow | null): Promise<DrainResult> {
    if (!found) throw notFound(`cluster ${cluster} does not exist`);
    requireApiServer(found);
    // One statement: cordon, find the pods whose budget refuses eviction, and evict unless they
    // block (or `force`), all under the cluster's lock.
    const { rows } = await this.cloud.db.pool.query<
      Pick<ClusterRow, 'name' | 'phase' | 'api_server_up'> & { cordoned: number; blocking: { namespace: string; pod: string; budget: string }[] }
    >(
      `WITH owner AS (SELECT * FROM simulator.clusters WHERE name = $1 FOR UPDATE),
       cordoned AS (
         UPDATE simulator.nodes n SET unschedulable = true
           FROM owner WHERE n.cluster = owner.name AND n.name = $2 AND owner.api_server_up AND owner.phase = ANY($4::text[])
         RETURNING n.name),
       blocking AS (
         SELECT namespace, pod, budget FROM simulator.disruption_budget_pods
          WHERE cluster = $1 AND node = $2 AND EXISTS (SELECT 1 FROM cordoned)),
       evicted AS (
         DELETE FROM simulator.disruption_budget_pods
          WHERE cluster = $1 AND node = $2 AND EXISTS (SELECT 1 FROM cordoned) AND ($3::boolean OR NOT EXISTS (SELECT 1 FROM blocking)))
       SELECT owner.name, owner.phase, owner.api_server_up, (SELECT count(*) FROM cordoned)::integer AS cordoned,
              coalesce((SELECT json_agg(blocking ORDER BY namespace, pod) FROM blocking), '[]'::json) AS blocking
         FROM owner`,
      [cluster, node, options.force, SERVING_PHASE_LIST],
    );
    const locked = rows[0];
    if (!locked) throw notFound(`cluster ${cluster} does not exist`);
    requireApiServer(locked);
    if (locked.cordoned === 0) throw notFound(`node ${node} does not exist in cluster ${cluster}`);
    if (locked.blocking.length > 0 && !options.force) {
      return { drained: false, blockedBy: locked.blocking.map((r) => ({ namespace: r.namespace, pod: r.pod, podDisruptionBudget: r.budget })) };
    }
    return { drained: true, blockedBy: [] };
  }

  /** Replaces the node's kubelet with `version`; never newer than the control plane, never down. */
  async upgradeNode(cluster: string, node: string, version: string): Promise<NodeResource> {
    const target = parseVersion(version);
    return this.cloud.db.transaction(async (sql) => {
      const owner = await lockCluster(sql, cluster);
      const { rows } = await sql.query<NodeRow>(`SELECT * FROM simulator.nodes WHERE cluster = $1 AND name = $2 FOR UPDATE`, [cluster, node]);
      const current = rows[0];
      if (!current) throw notFound(`node ${node} does not exist in cluster ${cluster}`);
      if (current.phase === 'deleting') throw conflict(`node ${node} is being deleted`);
      if (current.phase === 'upgrading') {
        if (current.target_version === version) return renderNode(current);
        throw conflict(`node ${node} is already upgrading to ${current.target_version}`);
      }
      if (current.version === version) return renderNode(current);
      const from = parseVersion(current.version);
      if (compareVersions(target, from) < 0) throw conflict(`node downgrades are not supported (${formatVersion(from)} -> ${version})`);
      const skew = kubeletSkewRefusal(target, parseVersion(owner.version));
      if (skew) throw conflict(skew);

      const { rows: upgraded } = await sql.query<NodeRow>(
        `UPDATE simulator.nodes SET phase = 'upgrading', target_version = $3, settles_at = ${oneStepLater(4)}
          WHERE cluster = $1 AND name = $2 RETURNING *`,
        [cluster, node, version, this.cloud.stepDelayMs],
      );
      // New nodes of the pool (a scale-up mid-upgrade) start at the newest version asked for.
      const pool = (await this.findPool(sql, cluster, current.pool, true))!;
      if (compareVersions(target, parseVersion(pool.version)) > 0) {
        await sql.query(`UPDATE simulator.node_pools SET version = $3 WHERE cluster = $1 AND name = $2`, [cluster, current.pool, version]);
      }
      return renderNode(upgraded[0]!);
    });
  }

  /** Simulates a PodDisruptionBudget that allows no disruption, protecting `pods`. */
  async putDisruptionBudget(cluster: string, budget: DisruptionBudget): Promise<DisruptionBudget> {
    return this.cloud.db.transaction(async (sql) => {
      await lockCluster(sql, cluster);
      const nodes = [...new Set(budget.pods.map((p) => p.node))];
      const { rows } = await sql.query<{ name: string }>(`SELECT name FROM simulator.nodes WHERE cluster = $1 AND name = ANY($2::text[])`, [cluster, nodes]);
      const missing = nodes.filter((n) => !rows.some((r) => r.name === n));
      if (missing.length > 0) throw invalid(`no node ${missing.join(', ')} in cluster ${cluster}`);
      await sql.query(`DELETE FROM simulator.disruption_budget_pods WHERE cluster = $1 AND namespace = $2 AND budget = $3`, [
        cluster,
        budget.namespace,
        budget.name,
      ]);
      await sql.query(
        `INSERT INTO simulator.disruption_budget_pods (cluster, namespace, budget, pod, node)
         SELECT $1, $2, $3, * FROM unnest($4::text[], $5::text[])
         ON CONFLICT (cluster, namespace, pod) DO UPDATE SET budget = excluded.budget, node = excluded.node`,
        [cluster, budget.namespace, budget.name, budget.pods.map((p) => p.name), budget.pods.map((p) => p.node)],
      );
      return budget;
    });
  }

  async deleteDisruptionBudget(cluster: string, namespace: string, name: string): Promise<void> {
    await this.cloud.db.query(`DELETE FROM simulator.disruption_budget_pods WHERE cluster = $1 AND namespace = $2 AND budget = $3`, [cluster, namespace, name]);
  }

  async listDisruptionBudgets(cluster: string): Promise<DisruptionBudget[]> {
    const rows = await this.cloud.db.query<{ namespace: string; budget: string; pod: string; node: string }>(
      `SELECT namespace, budget, pod, node FROM simulator.disruption_budget_pods WHERE cluster = $1 ORDER BY namespace, budget, pod`,
      [cluster],
    );
    const budgets = new Map<string, DisruptionBudget>();
    for (const row of rows) {
      const key = `${row.namespace}/${row.budget}`;
      const budget = budgets.get(key) ?? { namespace: row.namespace, name: row.budget, pods: [] };
      budget.pods.push({ name: row.pod, node: row.node });
      budgets.set(key, budget);
    }
    return [...budgets.values()];
  }

  private async findPool(sql: Sql, cluster: string, pool: string, lock = false): Promise<NodePoolRow | null> {
    const { rows } = await sql.query<NodePoolRow>(`SELECT * FROM simulator.node_pools WHERE cluster = $1 AND name = $2${lock ? ' FOR UPDATE' : ''}`, [
      cluster,
      pool,
    ]);
    return rows[0] ?? null;
  }

  /** Nodes are named from their pool, `<pool>-<5 random characters>`, as MachineSets name machines. */
  private async addNodes(sql: Sql, cluster: string, pool: string, version: string, count: number): Promise<void> {
    let added: string[] = [];
    while (added.length < count) {
      const names = Array.from({ length: count - added.length }, () => `${pool}-${randomSuffix()}`);
      const { rows } = await sql.query<{ name: string }>(
        `INSERT INTO simulator.nodes (cluster, pool, name, version, phase, settles_at)
         SELECT $1, $2, unnest($3::text[]), $4, 'provisioning', ${oneStepLater(5)}
         ON CONFLICT (cluster, name) DO NOTHING RETURNING name`,
        [cluster, pool, names, version, this.cloud.stepDelayMs],
      );
      added = [...added, ...rows.map((r) => r.name)];
    }
    await recordCreated(sql, 'node', cluster, added);
  }

  private async read(sql: Sql, cluster: string, name: string): Promise<NodePoolResource> {
    const pool = await this.view(sql, cluster, name, true);
    if (!pool) throw notFound(`node pool ${name} does not exist in cluster ${cluster}`);
    return pool;
  }

  /** The pool with its nodes, in one round trip; settled first when asked. */
  private async view(sql: Sql, cluster: string, name: string, settle: boolean): Promise<NodePoolResource | null> {
    const { rows } = await sql.query<NodePoolRecord>('SELECT (v.pool).*, v.nodes FROM simulator.node_pool_view($1, $2, $3) v', [cluster, name, settle]);
    return rows[0] ? renderPool(cluster, rows[0]) : null;
  }
}

function renderPool(cluster: string, pool: NodePoolRecord): NodePoolResource {
  const nodes = pool.nodes.map(renderNode);
  const versions = pool.nodes.filter((n) => n.phase !== 'deleting').map((n) => parseVersion(n.version));
  const oldest = versions.sort(compareVersions)[0];
  const upgrading = pool.nodes.some((n) => n.phase === 'upgrading');
  return {
    cluster,
    name: pool.name,
    machineType: pool.machine_type,
    count: pool.count,
    autoscaling: pool.autoscaling,
    version: oldest ? formatVersion(oldest) : pool.version,
    labels: pool.labels,
    taints: pool.taints,
    maxSurge: pool.max_surge,
    maxUnavailable: pool.max_unavailable,
    status: pool.phase === 'running' && upgrading ? 'upgrading' : pool.phase,
    nodes,
  };
}

function checkScale(spec: NodePoolSpec): void {
  const { autoscaling, count } = spec;
  if (autoscaling && (autoscaling.min > autoscaling.max || count < autoscaling.min || count > autoscaling.max)) {
    throw invalid(`count ${count} must lie within the autoscaling bounds ${autoscaling.min}..${autoscaling.max}`);
  }
}

/** `count` distinct names for the nodes of a new pool: no other pool's nodes can share them. */
function nodeNames(pool: string, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`${pool}-${randomSuffix()}`);
  return [...names];
}

function randomSuffix(): string {
  return Array.from({ length: 5 }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('');
}

function renderNode(row: NodeRow): NodeResource {
  return {
    name: row.name,
    version: row.version,
    targetVersion: row.target_version,
    ready: row.phase === 'running',
    unschedulable: row.unschedulable,
    status: row.phase,
  };
}
