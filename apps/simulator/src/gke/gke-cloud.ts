import { createHash, randomBytes } from 'node:crypto';
import type { SimulatorDatabase, Sql } from '../database';
import { SimulatorError } from '../errors';
import type { FaultInjector } from '../faults';
import { assertNodeLocations, type GkeLocation, requireLocation } from './locations';
import { type ClusterUpdateInput, type CreateClusterInput, type MaintenancePolicyInput, type NodePoolInput, type UpdateNodePoolInput } from './requests';
import type { ClusterResource, MaintenancePolicyResource, NodePoolResource, OperationResource, OperationStatus, OperationType } from './resources';
import { alreadyExists, failedPrecondition, GRPC_CODE, invalidArgument, notFound } from './rpc-status';
import { assertMasterUpgrade, assertNodeVersion, type GkeVersionSet, resolveGkeVersion } from './versions';

/**
 * What becomes of a GKE cluster in the Kubernetes API emulator: its API server and a Node per node
 * of its pools. Kept apart so the Container API's state machine does not know how nodes are made.
 */
export interface GkeKubeBridge {
  /** Where the cluster's API server answers: `host:port`, its DNS endpoint (TLS server name) and CA. */
  endpointOf(cluster: string): { endpoint: string; dnsEndpoint: string; caCertificatePem: string };
  /** Makes the API server and its Nodes match GKE's view of the cluster. Idempotent. */
  sync(cluster: ClusterResource, pools: readonly PoolState[]): Promise<void>;
  remove(cluster: string): Promise<void>;
  /** A token the cluster's API server accepts with admin rights: GKE accepts the caller's Google token there. */
  issueToken(cluster: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date | null }>;
}

export interface PoolState {
  resource: NodePoolResource;
  /** Nodes per zone. */
  nodeCount: number;
}

export interface ClusterKey {
  project: string;
  location: string;
  cluster: string;
}

export interface PoolKey extends ClusterKey {
  pool: string;
}

type Effect =
  | { kind: 'createCluster' }
  | { kind: 'deleteCluster' }
  | { kind: 'upgradeMaster'; version: string }
  | { kind: 'reconcileCluster' }
  | { kind: 'createNodePool'; pool: string }
  | { kind: 'deleteNodePool'; pool: string }
  | { kind: 'upgradeNodes'; pool: string; version: string; nodes?: number }
  | { kind: 'rollbackNodes'; pool: string; nodes?: number }
  | { kind: 'resizeNodePool'; pool: string; nodeCount: number }
  | { kind: 'reconcileNodePool'; pool: string };

interface OperationRow {
  name: string;
  project: string;
  location: string;
  cluster: string;
  node_pool: string | null;
  operation_type: OperationType;
  status: OperationStatus;
  status_message: string | null;
  detail: string | null;
  error: { code: number; message: string } | null;
  target_link: string;
  effect: Effect & { aborted?: boolean };
  start_time: Date;
  running_at: Date;
  settles_at: Date;
  end_time: Date | null;
}

interface PoolRow {
  name: string;
  resource: NodePoolResource;
  node_count: number;
}

export interface GkeCloudOptions {
  db: SimulatorDatabase;
  versions: GkeVersionSet;
  stepDelayMs: number;
  /** `http://host:port` of the emulated API, for selfLink and targetLink. */
  baseUrl: () => string;
  kube: GkeKubeBridge | null;
  /** Injected faults; `gke.nodes.create` fails the nodes an operation brings up. */
  faults?: FaultInjector;
}

/**
 * The emulated Container API's state machine. Every mutation starts a long-running Operation and
 * marks its cluster (and pool) busy; a second mutation while one runs is FAILED_PRECONDITION, as
 * GKE answers "incompatible operation". Time passes lazily, as in the rest of the simulated cloud:
 * whoever touches a cluster first completes the operations whose time has come, under the
 * cluster's row lock, so two simulators on one database never complete one twice.
 */
export class GkeCloud {
  constructor(private readonly options: GkeCloudOptions) {}

  private get db() {
    return this.options.db;
  }

  // --- reads ---------------------------------------------------------------------------------

  async listClusters(project: string, location: string): Promise<ClusterResource[]> {
    const names = await this.db.query<{ project: string; location: string; name: string }>(
      `SELECT project, location, name FROM simulator.gke_clusters WHERE project = $1 AND ($2 = '-' OR location = $2) ORDER BY location, name`,
      [project, location === '-' ? '-' : requireLocation(location).name],
    );
    const clusters: ClusterResource[] = [];
    for (const n of names) {
      const found = await this.findCluster({ project: n.project, location: n.location, cluster: n.name });
      if (found) clusters.push(found);
    }
    return clusters;
  }

  async getCluster(key: ClusterKey): Promise<ClusterResource> {
    const found = await this.findCluster(key);
    if (!found) throw clusterNotFound(key);
    return found;
  }

  async listNodePools(key: ClusterKey): Promise<NodePoolResource[]> {
    return (await this.getCluster(key)).nodePools ?? [];
  }

  async getNodePool(key: PoolKey): Promise<NodePoolResource> {
    const pool = (await this.listNodePools(key)).find((p) => p.name === key.pool);
    if (!pool) throw poolNotFound(key);
    return pool;
  }

  async getOperation(project: string, location: string, name: string): Promise<OperationResource> {
    requireLocation(location);
    const [row] = await this.db.query<OperationRow>(`SELECT * FROM simulator.gke_operations WHERE name = $1 AND project = $2 AND location = $3`, [
      name,
      project,
      location,
    ]);
    if (!row) throw notFound(`Operation "projects/${project}/locations/${location}/operations/${name}" not found.`);
    if (row.status !== 'DONE') await this.advance({ project, location, cluster: row.cluster });
    const [current] = await this.db.query<OperationRow>(`SELECT * FROM simulator.gke_operations WHERE name = $1`, [name]);
    return this.operationResource(current!);
  }

  async listOperations(project: string, location: string): Promise<OperationResource[]> {
    const loc = location === '-' ? '-' : requireLocation(location).name;
    const open = await this.db.query<{ location: string; cluster: string }>(
      `SELECT DISTINCT location, cluster FROM simulator.gke_operations WHERE project = $1 AND ($2 = '-' OR location = $2) AND status <> 'DONE'`,
      [project, loc],
    );
    for (const o of open) await this.advance({ project, location: o.location, cluster: o.cluster });
    const rows = await this.db.query<OperationRow>(
      `SELECT * FROM simulator.gke_operations WHERE project = $1 AND ($2 = '-' OR location = $2) ORDER BY start_time, name`,
      [project, loc],
    );
    return rows.map((r) => this.operationResource(r));
  }

  // --- clusters ------------------------------------------------------------------------------

  async createCluster(project: string, locationName: string, input: CreateClusterInput): Promise<OperationResource> {
    const location = requireLocation(locationName);
    const key = { project, location: location.name, cluster: input.name };
    const version = resolveGkeVersion(input.initialClusterVersion, this.options.versions, 'initialClusterVersion');
    const locations = input.locations.length > 0 ? input.locations : [...location.zones];
    assertNodeLocations(location, locations);

    const poolInputs: NodePoolInput[] =
      input.nodePools.length > 0
        ? input.nodePools
        : input.initialNodeCount
          ? [{ name: 'default-pool', config: { ...defaultNodeConfig, ...input.nodeConfig }, initialNodeCount: input.initialNodeCount, locations: [] }]
          : [];
    if (poolInputs.length === 0)
      throw invalidArgument('Cluster.initial_node_count must be greater than zero, or Cluster.node_pools must name at least one node pool.');
    const seen = new Set<string>();
    for (const p of poolInputs) {
      if (seen.has(p.name)) throw invalidArgument(`Node pool "${p.name}" is named twice.`);
      seen.add(p.name);
    }
    const pools = poolInputs.map((p) => this.newPool(key, location, locations, p, version, version));

    const now = new Date();
    const dns = this.options.kube?.endpointOf(input.name);
    const cluster: ClusterResource = {
      name: input.name,
      ...(input.description ? { description: input.description } : {}),
      id: randomBytes(16).toString('hex'),
      selfLink: this.link(key),
      location: location.name,
      zone: location.name,
      locations,
      network: 'default',
      subnetwork: 'default',
      ...(dns
        ? {
            endpoint: dns.endpoint,
            controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: dns.dnsEndpoint, allowExternalTraffic: true } },
            masterAuth: { clusterCaCertificate: Buffer.from(dns.caCertificatePem).toString('base64') },
          }
        : { masterAuth: {} }),
      initialClusterVersion: version,
      currentMasterVersion: version,
      currentNodeVersion: version,
      currentNodeCount: 0,
      createTime: now.toISOString(),
      status: 'PROVISIONING',
      resourceLabels: input.resourceLabels,
      labelFingerprint: fingerprint(input.resourceLabels),
      releaseChannel: { channel: input.releaseChannel?.channel ?? 'REGULAR' },
      ...(input.maintenancePolicy ? { maintenancePolicy: maintenanceResource(input.maintenancePolicy) } : {}),
      addonsConfig: { gkeBackupAgentConfig: { enabled: input.addonsConfig?.gkeBackupAgentConfig?.enabled ?? false } },
      // Without application-layer encryption GKE reports DECRYPTED (its default storage encryption still applies).
      databaseEncryption: input.databaseEncryption ?? { state: 'DECRYPTED' },
      conditions: [],
      etag: etag(),
    };

    return this.db.transaction(async (sql) => {
      const inserted = await sql.query(
        `INSERT INTO simulator.gke_clusters (project, location, name, resource) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING name`,
        [project, location.name, input.name, cluster],
      );
      if (inserted.rowCount === 0) throw alreadyExists(`Already exists: projects/${project}/locations/${location.name}/clusters/${input.name}.`);
      for (const p of pools) {
        await sql.query(`INSERT INTO simulator.gke_node_pools (project, location, cluster, name, resource, node_count) VALUES ($1, $2, $3, $4, $5, $6)`, [
          project,
          location.name,
          input.name,
          p.resource.name,
          { ...p.resource, status: 'PROVISIONING' },
          p.nodeCount,
        ]);
      }
      return this.startOperation(sql, key, null, 'CREATE_CLUSTER', { kind: 'createCluster' }, 2);
    });
  }

  async deleteCluster(key: ClusterKey): Promise<OperationResource> {
    return this.mutate(key, async (sql) => {
      await this.setClusterStatus(sql, key, 'STOPPING');
      return this.startOperation(sql, key, null, 'DELETE_CLUSTER', { kind: 'deleteCluster' });
    });
  }

  async updateMaster(key: ClusterKey, requested: string): Promise<OperationResource> {
    return this.mutate(key, async (sql, cluster) => {
      const version = resolveGkeVersion(requested, this.options.versions, 'masterVersion');
      assertMasterUpgrade(cluster.currentMasterVersion, version);
      await this.setClusterStatus(sql, key, 'RECONCILING');
      return this.startOperation(sql, key, null, 'UPGRADE_MASTER', { kind: 'upgradeMaster', version });
    });
  }

  async updateCluster(key: ClusterKey, update: ClusterUpdateInput): Promise<OperationResource> {
    const given = (['desiredMasterVersion', 'desiredNodeVersion', 'desiredReleaseChannel', 'desiredNodePoolAutoscaling'] as const).filter(
      (f) => update[f] !== undefined,
    );
    if (given.length !== 1) {
      throw invalidArgument(
        `ClusterUpdate must set exactly one of desiredMasterVersion, desiredNodeVersion, desiredReleaseChannel, desiredNodePoolAutoscaling (got ${given.join(', ') || 'none'})`,
      );
    }
    if (update.desiredMasterVersion !== undefined) return this.updateMaster(key, update.desiredMasterVersion);
    if (update.desiredNodeVersion !== undefined || update.desiredNodePoolAutoscaling !== undefined) {
      if (!update.desiredNodePoolId) throw invalidArgument('desiredNodePoolId is required with desiredNodeVersion and desiredNodePoolAutoscaling');
      const poolKey = { ...key, pool: update.desiredNodePoolId };
      if (update.desiredNodeVersion !== undefined) return this.updateNodePool(poolKey, { nodeVersion: update.desiredNodeVersion });
      return this.setNodePoolAutoscaling(poolKey, update.desiredNodePoolAutoscaling!);
    }
    return this.mutate(key, async (sql) => {
      await this.patchCluster(sql, key, { releaseChannel: { channel: update.desiredReleaseChannel!.channel }, status: 'RECONCILING' });
      return this.startOperation(sql, key, null, 'UPDATE_CLUSTER', { kind: 'reconcileCluster' }, 0.5);
    });
  }

  async setMaintenancePolicy(key: ClusterKey, policy: MaintenancePolicyInput): Promise<OperationResource> {
    return this.mutate(key, async (sql, cluster) => {
      const current = cluster.maintenancePolicy?.resourceVersion;
      // GKE's guard against lost updates: a policy written from a stale read is refused.
      if (policy.resourceVersion && current && policy.resourceVersion !== current) {
        throw failedPrecondition(`maintenancePolicy.resourceVersion "${policy.resourceVersion}" is stale; read the cluster again (current "${current}")`);
      }
      await this.patchCluster(sql, key, { maintenancePolicy: maintenanceResource(policy) });
      return this.startOperation(sql, key, null, 'SET_MAINTENANCE_POLICY', { kind: 'reconcileCluster' }, 0.25);
    });
  }

  /** `setResourceLabels`: the labels replace the cluster's, guarded by the fingerprint of the labels the caller read. */
  async setResourceLabels(key: ClusterKey, labels: Record<string, string>, labelFingerprint: string): Promise<OperationResource> {
    return this.mutate(key, async (sql, cluster) => {
      if (labelFingerprint !== cluster.labelFingerprint) {
        throw failedPrecondition(
          `Labels could not be set due to fingerprint mismatch: "${labelFingerprint}" is not "${cluster.labelFingerprint}"; read the cluster again`,
        );
      }
      await this.patchCluster(sql, key, { resourceLabels: labels, labelFingerprint: fingerprint(labels) });
      return this.startOperation(sql, key, null, 'SET_LABELS', { kind: 'reconcileCluster' }, 0.25);
    });
  }

  // --- node pools ----------------------------------------------------------------------------

  async createNodePool(key: ClusterKey, input: NodePoolInput): Promise<OperationResource> {
    return this.mutate(key, async (sql, cluster, pools) => {
      if (pools.some((p) => p.name === input.name)) {
        throw alreadyExists(`Already exists: projects/${key.project}/locations/${key.location}/clusters/${key.cluster}/nodePools/${input.name}.`);
      }
      const location = requireLocation(key.location);
      const pool = this.newPool(key, location, cluster.locations, input, cluster.currentMasterVersion, cluster.currentMasterVersion);
      await sql.query(`INSERT INTO simulator.gke_node_pools (project, location, cluster, name, resource, node_count) VALUES ($1, $2, $3, $4, $5, $6)`, [
        key.project,
        key.location,
        key.cluster,
        input.name,
        { ...pool.resource, status: 'PROVISIONING' },
        pool.nodeCount,
      ]);
      await this.setClusterStatus(sql, key, 'RECONCILING');
      return this.startOperation(sql, key, input.name, 'CREATE_NODE_POOL', { kind: 'createNodePool', pool: input.name });
    });
  }

  async deleteNodePool(key: PoolKey): Promise<OperationResource> {
    return this.mutatePool(key, async (sql) => {
      await this.patchPool(sql, key, { status: 'STOPPING' });
      await this.setClusterStatus(sql, key, 'RECONCILING');
      return this.startOperation(sql, key, key.pool, 'DELETE_NODE_POOL', { kind: 'deleteNodePool', pool: key.pool });
    });
  }

  async updateNodePool(key: PoolKey, update: UpdateNodePoolInput): Promise<OperationResource> {
    return this.mutatePool(key, async (sql, cluster, pool) => {
      const change: Partial<NodePoolResource> = {};
      if (update.labels) change.config = { ...(change.config ?? pool.resource.config), labels: update.labels.labels };
      if (update.taints) change.config = { ...(change.config ?? pool.resource.config), taints: update.taints.taints };
      if (update.upgradeSettings) change.upgradeSettings = { ...update.upgradeSettings, strategy: 'SURGE' };
      if (update.locations) {
        assertNodeLocations(requireLocation(key.location), update.locations);
        if (update.locations.length === 0) throw invalidArgument('locations cannot be empty');
        change.locations = update.locations;
      }
      const requested = update.nodeVersion;
      const version =
        requested === undefined || requested === ''
          ? undefined
          : requested === '-'
            ? cluster.currentMasterVersion
            : resolveGkeVersion(requested, this.options.versions, 'nodeVersion');
      if (version !== undefined && version !== pool.resource.version) {
        assertNodeVersion(version, cluster.currentMasterVersion);
        await this.patchPool(sql, key, { ...change, status: 'RECONCILING' });
        await this.setClusterStatus(sql, key, 'RECONCILING');
        const nodes = pool.node_count * pool.resource.locations.length;
        return this.startOperation(sql, key, key.pool, 'UPGRADE_NODES', { kind: 'upgradeNodes', pool: key.pool, version, nodes });
      }
      if (Object.keys(change).length === 0 && version === undefined) {
        throw invalidArgument('UpdateNodePoolRequest changes nothing: set nodeVersion, labels, taints, upgradeSettings or locations');
      }
      await this.patchPool(sql, key, { ...change, status: 'RECONCILING' });
      await this.setClusterStatus(sql, key, 'RECONCILING');
      return this.startOperation(sql, key, key.pool, 'UPDATE_CLUSTER', { kind: 'reconcileNodePool', pool: key.pool }, 0.5);
    });
  }

  /**
   * `nodePools.rollback`: rolls back a node upgrade that failed or was aborted, to the version the
   * pool ran before it (GKE keeps it as the pool's version until an upgrade completes). After an
   * upgrade that completed it changes nothing, as GKE documents. Runs as an UPGRADE_NODES operation.
   */
  async rollbackNodePool(key: PoolKey): Promise<OperationResource> {
    return this.mutatePool(key, async (sql, _cluster, pool) => {
      await this.patchPool(sql, key, { status: 'RECONCILING' });
      await this.setClusterStatus(sql, key, 'RECONCILING');
      const nodes = pool.node_count * pool.resource.locations.length;
      return this.startOperation(sql, key, key.pool, 'UPGRADE_NODES', { kind: 'rollbackNodes', pool: key.pool, nodes });
    });
  }

  async setNodePoolSize(key: PoolKey, nodeCount: number): Promise<OperationResource> {
    return this.mutatePool(key, async (sql) => {
      await this.patchPool(sql, key, { status: 'RECONCILING' });
      await this.setClusterStatus(sql, key, 'RECONCILING');
      return this.startOperation(sql, key, key.pool, 'SET_NODE_POOL_SIZE', { kind: 'resizeNodePool', pool: key.pool, nodeCount });
    });
  }

  async setNodePoolAutoscaling(key: PoolKey, autoscaling: { enabled: boolean; minNodeCount: number; maxNodeCount: number }): Promise<OperationResource> {
    return this.mutatePool(key, async (sql, _cluster, pool) => {
      await this.patchPool(sql, key, { autoscaling, status: 'RECONCILING' });
      await this.setClusterStatus(sql, key, 'RECONCILING');
      // The autoscaler keeps the pool within its bounds: resize to the nearest one on completion.
      const nodeCount = autoscaling.enabled ? Math.min(Math.max(pool.node_count, autoscaling.minNodeCount), autoscaling.maxNodeCount) : pool.node_count;
      return this.startOperation(sql, key, key.pool, 'UPDATE_CLUSTER', { kind: 'resizeNodePool', pool: key.pool, nodeCount }, 0.5);
    });
  }

  // --- operations ----------------------------------------------------------------------------

  async cancelOperation(project: string, location: string, name: string): Promise<void> {
    const operation = await this.getOperation(project, location, name);
    if (operation.status === 'DONE') throw failedPrecondition(`Operation ${name} is already done.`);
    await this.db.transaction(async (sql) => {
      await sql.query(`SELECT 1 FROM simulator.gke_clusters WHERE project = $1 AND location = $2 AND name = $3 FOR UPDATE`, [
        project,
        location,
        (await sql.query<{ cluster: string }>(`SELECT cluster FROM simulator.gke_operations WHERE name = $1`, [name])).rows[0]!.cluster,
      ]);
      await sql.query(
        `UPDATE simulator.gke_operations SET status = 'ABORTING', effect = effect || '{"aborted": true}'::jsonb,
                settles_at = least(settles_at, now() + $2::integer * interval '1 millisecond')
          WHERE name = $1 AND status IN ('PENDING', 'RUNNING')`,
        [name, Math.min(Math.round(this.options.stepDelayMs / 10), PENDING_MAX_MS)],
      );
    });
  }

  /** Completes what is due on a cluster. Public for the simulator's own tick and for tests. */
  async advance(key: ClusterKey): Promise<void> {
    const due = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM simulator.gke_operations
        WHERE project = $1 AND location = $2 AND cluster = $3 AND status <> 'DONE' AND (settles_at <= now() OR (status = 'PENDING' AND running_at <= now()))`,
      [key.project, key.location, key.cluster],
    );
    if (due[0]!.n === 0) return;
    await this.db.transaction(async (sql) => {
      await sql.query(`SELECT 1 FROM simulator.gke_clusters WHERE project = $1 AND location = $2 AND name = $3 FOR UPDATE`, [
        key.project,
        key.location,
        key.cluster,
      ]);
      await sql.query(
        `UPDATE simulator.gke_operations SET status = 'RUNNING'
          WHERE project = $1 AND location = $2 AND cluster = $3 AND status = 'PENDING' AND running_at <= now() AND settles_at > now()`,
        [key.project, key.location, key.cluster],
      );
      const { rows } = await sql.query<OperationRow>(
        `SELECT * FROM simulator.gke_operations
          WHERE project = $1 AND location = $2 AND cluster = $3 AND status <> 'DONE' AND settles_at <= now() ORDER BY start_time FOR UPDATE`,
        [key.project, key.location, key.cluster],
      );
      for (const op of rows) await this.complete(sql, key, op);
    });
  }

  // --- internals -----------------------------------------------------------------------------

  private async findCluster(key: ClusterKey): Promise<ClusterResource | null> {
    requireLocation(key.location);
    await this.advance(key);
    const [row] = await this.db.query<{ resource: ClusterResource }>(
      `SELECT resource FROM simulator.gke_clusters WHERE project = $1 AND location = $2 AND name = $3`,
      [key.project, key.location, key.cluster],
    );
    if (!row) return null;
    const pools = await this.db.query<PoolRow>(
      `SELECT name, resource, node_count FROM simulator.gke_node_pools WHERE project = $1 AND location = $2 AND cluster = $3 ORDER BY seq`,
      [key.project, key.location, key.cluster],
    );
    return withPools(row.resource, pools);
  }

  /**
   * A mutation of a cluster: locked, settled, refused while another operation runs on it (GKE
   * runs one at a time per cluster), then `work` in the same transaction.
   */
  private async mutate<T>(key: ClusterKey, work: (sql: Sql, cluster: ClusterResource, pools: PoolRow[]) => Promise<T>): Promise<T> {
    requireLocation(key.location);
    await this.advance(key);
    return this.db.transaction(async (sql) => {
      const { rows } = await sql.query<{ resource: ClusterResource }>(
        `SELECT resource FROM simulator.gke_clusters WHERE project = $1 AND location = $2 AND name = $3 FOR UPDATE`,
        [key.project, key.location, key.cluster],
      );
      if (!rows[0]) throw clusterNotFound(key);
      const { rows: open } = await sql.query<{ name: string }>(
        `SELECT name FROM simulator.gke_operations WHERE project = $1 AND location = $2 AND cluster = $3 AND status <> 'DONE' ORDER BY start_time LIMIT 1`,
        [key.project, key.location, key.cluster],
      );
      if (open[0]) throw failedPrecondition(`Cluster is running incompatible operation ${open[0].name}.`);
      const cluster = rows[0].resource;
      if (cluster.status === 'ERROR') throw failedPrecondition(`Cluster ${key.cluster} is in status ERROR; only delete is possible.`);
      const { rows: pools } = await sql.query<PoolRow>(
        `SELECT name, resource, node_count FROM simulator.gke_node_pools WHERE project = $1 AND location = $2 AND cluster = $3 ORDER BY seq`,
        [key.project, key.location, key.cluster],
      );
      return work(sql, cluster, pools);
    });
  }

  private mutatePool<T>(key: PoolKey, work: (sql: Sql, cluster: ClusterResource, pool: PoolRow) => Promise<T>): Promise<T> {
    return this.mutate(key, (sql, cluster, pools) => {
      const pool = pools.find((p) => p.name === key.pool);
      if (!pool) throw poolNotFound(key);
      return work(sql, cluster, pool);
    });
  }

  private newPool(
    key: ClusterKey,
    location: GkeLocation,
    clusterLocations: readonly string[],
    input: NodePoolInput,
    defaultVersion: string,
    master: string,
  ): PoolState {
    const version = input.version ? resolveGkeVersion(input.version, this.options.versions, 'nodePool.version') : defaultVersion;
    assertNodeVersion(version, master);
    const locations = input.locations.length > 0 ? input.locations : [...clusterLocations];
    assertNodeLocations(location, locations);
    let nodeCount = input.initialNodeCount;
    if (input.autoscaling?.enabled) nodeCount = Math.min(Math.max(nodeCount, input.autoscaling.minNodeCount), input.autoscaling.maxNodeCount);
    if (nodeCount < 1 && !input.autoscaling?.enabled) throw invalidArgument(`nodePool "${input.name}": initialNodeCount must be greater than zero`);
    return {
      nodeCount,
      resource: {
        name: input.name,
        config: { ...defaultNodeConfig, ...input.config },
        initialNodeCount: input.initialNodeCount,
        locations,
        selfLink: `${this.link(key)}/nodePools/${input.name}`,
        version,
        status: 'RUNNING',
        ...(input.autoscaling ? { autoscaling: input.autoscaling } : {}),
        upgradeSettings: { ...(input.upgradeSettings ?? { maxSurge: 1, maxUnavailable: 0 }), strategy: 'SURGE' },
        management: input.management ?? { autoUpgrade: true, autoRepair: true },
        etag: etag(),
      },
    };
  }

  private async startOperation(sql: Sql, key: ClusterKey, pool: string | null, type: OperationType, effect: Effect, steps = 1): Promise<OperationResource> {
    const duration = Math.round(this.options.stepDelayMs * steps);
    const name = `operation-${Date.now()}-${randomBytes(4).toString('hex')}`;
    const target = pool === null ? this.link(key) : `${this.link(key)}/nodePools/${pool}`;
    const { rows } = await sql.query<OperationRow>(
      `INSERT INTO simulator.gke_operations (name, project, location, cluster, node_pool, operation_type, status, target_link, effect, running_at, settles_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, now() + $9::integer * interval '1 millisecond', now() + $10::integer * interval '1 millisecond')
       RETURNING *`,
      [name, key.project, key.location, key.cluster, pool, type, target, effect, Math.min(Math.round(duration / 10), PENDING_MAX_MS), duration],
    );
    return this.operationResource(rows[0]!);
  }

  private async complete(sql: Sql, key: ClusterKey, op: OperationRow): Promise<void> {
    const effect = op.effect;
    let error: { code: number; message: string } | null = null;
    const nodesFailed = !effect.aborted && (effect.kind === 'upgradeNodes' || effect.kind === 'createNodePool') ? await this.newNodesFail(key) : null;
    if (effect.aborted) {
      error = { code: GRPC_CODE.CANCELLED, message: `Operation ${op.name} was cancelled.` };
      await this.abort(sql, key, effect);
    } else if (nodesFailed && 'pool' in effect) {
      error = { code: GRPC_CODE.FAILED_PRECONDITION, message: `Node pool ${effect.pool}: new nodes did not become ready (${nodesFailed}).` };
      const status = effect.kind === 'createNodePool' ? 'ERROR' : 'RUNNING_WITH_ERROR';
      await this.patchPool(sql, { ...key, pool: effect.pool }, { status, statusMessage: error.message });
      await this.refreshCluster(sql, key, 'RUNNING');
    } else {
      await this.apply(sql, key, effect);
    }
    await sql.query(`UPDATE simulator.gke_operations SET status = 'DONE', end_time = now(), error = $2, status_message = $3 WHERE name = $1`, [
      op.name,
      error,
      error?.message ?? null,
    ]);
    if (effect.kind === 'deleteCluster' && !effect.aborted) {
      await this.options.kube?.remove(key.cluster);
      return;
    }
    const state = await this.state(sql, key);
    if (state && this.options.kube && state.cluster.status !== 'ERROR') await this.options.kube.sync(state.cluster, state.pools);
  }

  /**
   * Whether the nodes an operation brings up fail to join (a failed bootstrap, a stockout): the
   * chaos hook `gke.nodes.create`, a fault as every other, checked when the operation completes.
   */
  private async newNodesFail(key: ClusterKey): Promise<string | null> {
    if (!this.options.faults) return null;
    try {
      await this.options.faults.intercept('gke.nodes.create', key.cluster, 'request');
      return null;
    } catch (error) {
      if (error instanceof SimulatorError) return error.message;
      throw error;
    }
  }

  private async apply(sql: Sql, key: ClusterKey, effect: Effect): Promise<void> {
    switch (effect.kind) {
      case 'deleteCluster':
        await sql.query(`DELETE FROM simulator.gke_clusters WHERE project = $1 AND location = $2 AND name = $3`, [key.project, key.location, key.cluster]);
        return;
      case 'createCluster':
        await sql.query(
          `UPDATE simulator.gke_node_pools SET resource = resource || '{"status": "RUNNING"}'::jsonb WHERE project = $1 AND location = $2 AND cluster = $3`,
          [key.project, key.location, key.cluster],
        );
        break;
      case 'upgradeMaster':
        await this.patchCluster(sql, key, { currentMasterVersion: effect.version });
        break;
      case 'deleteNodePool':
        await sql.query(`DELETE FROM simulator.gke_node_pools WHERE project = $1 AND location = $2 AND cluster = $3 AND name = $4`, [
          key.project,
          key.location,
          key.cluster,
          effect.pool,
        ]);
        break;
      case 'upgradeNodes':
        await this.patchPool(sql, { ...key, pool: effect.pool }, { version: effect.version, status: 'RUNNING' });
        break;
      case 'rollbackNodes':
        await this.patchPool(sql, { ...key, pool: effect.pool }, { status: 'RUNNING', statusMessage: undefined });
        break;
      case 'resizeNodePool':
        await sql.query(`UPDATE simulator.gke_node_pools SET node_count = $5 WHERE project = $1 AND location = $2 AND cluster = $3 AND name = $4`, [
          key.project,
          key.location,
          key.cluster,
          effect.pool,
          effect.nodeCount,
        ]);
        await this.patchPool(sql, { ...key, pool: effect.pool }, { status: 'RUNNING' });
        break;
      case 'createNodePool':
      case 'reconcileNodePool':
        await this.patchPool(sql, { ...key, pool: effect.pool }, { status: 'RUNNING' });
        break;
      case 'reconcileCluster':
        break;
    }
    await this.refreshCluster(sql, key, 'RUNNING');
  }

  /** A cancelled operation: what it changed stays as far as it got; a cancelled create leaves a cluster in ERROR. */
  private async abort(sql: Sql, key: ClusterKey, effect: Effect): Promise<void> {
    if (effect.kind === 'createCluster') {
      await this.patchCluster(sql, key, { status: 'ERROR', statusMessage: 'Cluster creation was cancelled.' });
      return;
    }
    if ('pool' in effect) {
      const status = effect.kind === 'createNodePool' ? 'ERROR' : 'RUNNING';
      await sql.query(
        `UPDATE simulator.gke_node_pools SET resource = resource || $5::jsonb WHERE project = $1 AND location = $2 AND cluster = $3 AND name = $4`,
        [key.project, key.location, key.cluster, effect.pool, { status }],
      );
    }
    await this.refreshCluster(sql, key, 'RUNNING');
  }

  /** Recomputes the cluster's derived fields (node version and count) from its pools. */
  private async refreshCluster(sql: Sql, key: ClusterKey, status: ClusterResource['status']): Promise<void> {
    const state = await this.state(sql, key);
    if (!state) return;
    const versions = state.pools.map((p) => p.resource.version).sort();
    const nodes = state.pools.reduce((sum, p) => sum + p.nodeCount * p.resource.locations.length, 0);
    await this.patchCluster(sql, key, {
      status,
      currentNodeVersion: versions[0] ?? state.cluster.currentMasterVersion,
      currentNodeCount: nodes,
      statusMessage: undefined,
    });
  }

  private async state(sql: Sql, key: ClusterKey): Promise<{ cluster: ClusterResource; pools: PoolState[] } | null> {
    const { rows } = await sql.query<{ resource: ClusterResource }>(
      `SELECT resource FROM simulator.gke_clusters WHERE project = $1 AND location = $2 AND name = $3`,
      [key.project, key.location, key.cluster],
    );
    if (!rows[0]) return null;
    const { rows: pools } = await sql.query<PoolRow>(
      `SELECT name, resource, node_count FROM simulator.gke_node_pools WHERE project = $1 AND location = $2 AND cluster = $3 ORDER BY seq`,
      [key.project, key.location, key.cluster],
    );
    return { cluster: rows[0].resource, pools: pools.map((p) => ({ resource: p.resource, nodeCount: p.node_count })) };
  }

  private async setClusterStatus(sql: Sql, key: ClusterKey, status: ClusterResource['status']): Promise<void> {
    await this.patchCluster(sql, key, { status });
  }

  private async patchCluster(sql: Sql, key: ClusterKey, change: Partial<ClusterResource>): Promise<void> {
    // JSON drops undefined members: a field set to undefined is removed from the resource.
    const removed = Object.entries(change)
      .filter(([, v]) => v === undefined)
      .map(([k]) => k);
    await sql.query(
      `UPDATE simulator.gke_clusters SET resource = (resource - $5::text[]) || $4::jsonb || jsonb_build_object('etag', $6::text)
        WHERE project = $1 AND location = $2 AND name = $3`,
      [key.project, key.location, key.cluster, JSON.stringify(change), removed, etag()],
    );
  }

  private async patchPool(sql: Sql, key: PoolKey, change: Partial<NodePoolResource>): Promise<void> {
    // A pool back to RUNNING drops the message of an earlier failure.
    const removed = change.status === 'RUNNING' ? ['statusMessage'] : [];
    await sql.query(
      `UPDATE simulator.gke_node_pools SET resource = (resource - $7::text[]) || $5::jsonb || jsonb_build_object('etag', $6::text)
        WHERE project = $1 AND location = $2 AND cluster = $3 AND name = $4`,
      [key.project, key.location, key.cluster, key.pool, JSON.stringify(change), etag(), removed],
    );
  }

  private link(key: ClusterKey): string {
    return `${this.options.baseUrl()}/v1/projects/${key.project}/locations/${key.location}/clusters/${key.cluster}`;
  }

  private operationResource(row: OperationRow): OperationResource {
    return {
      name: row.name,
      zone: row.location,
      location: row.location,
      operationType: row.operation_type,
      status: row.status,
      ...(row.status_message ? { statusMessage: row.status_message } : {}),
      ...(row.detail ? { detail: row.detail } : {}),
      selfLink: `${this.options.baseUrl()}/v1/projects/${row.project}/locations/${row.location}/operations/${row.name}`,
      targetLink: row.target_link,
      startTime: row.start_time.toISOString(),
      ...(row.end_time ? { endTime: row.end_time.toISOString() } : {}),
      ...(row.error ? { error: row.error } : {}),
      ...nodeProgress(row),
    };
  }
}

/**
 * A node upgrade's progress as GKE reports it (`progress.metrics`: NODES_TOTAL, NODES_DONE,
 * NODES_COMPLETE, NODES_FAILED, NODE_PDB_DELAY_SECONDS). The emulator moves the nodes' kubelets at
 * the operation's end, so while it runs the nodes done are counted from the time it has run.
 */
function nodeProgress(row: OperationRow): Pick<OperationResource, 'progress'> {
  const effect = row.effect;
  if ((effect.kind !== 'upgradeNodes' && effect.kind !== 'rollbackNodes') || effect.nodes === undefined) return {};
  const total = effect.nodes;
  const span = row.settles_at.getTime() - row.running_at.getTime();
  const ran = row.status === 'RUNNING' && span > 0 ? (Date.now() - row.running_at.getTime()) / span : 0;
  const failed = row.status === 'DONE' && row.error !== null;
  const done = row.status === 'DONE' ? (failed ? 0 : total) : Math.min(total - 1, Math.max(0, Math.floor(total * ran)));
  const metric = (name: string, value: number) => ({ name, intValue: String(value) });
  return {
    progress: {
      status: row.status,
      metrics: [
        metric('NODES_TOTAL', total),
        metric('NODES_FAILED', failed ? total : 0),
        metric('NODES_COMPLETE', done),
        metric('NODES_DONE', done + (failed ? total : 0)),
        metric('NODE_PDB_DELAY_SECONDS', 0),
      ],
    },
  };
}

/** How long an operation stays PENDING (and ABORTING) at most: GKE picks work up within moments. */
const PENDING_MAX_MS = 500;

const defaultNodeConfig = { machineType: 'e2-medium', diskSizeGb: 100, imageType: 'COS_CONTAINERD', labels: {}, taints: [] };

function withPools(cluster: ClusterResource, pools: readonly PoolRow[]): ClusterResource {
  return { ...cluster, nodePools: pools.map((p) => p.resource) };
}

function maintenanceResource(policy: MaintenancePolicyInput): MaintenancePolicyResource {
  const window = policy.window;
  return {
    ...(window
      ? {
          window: {
            ...(window.recurringWindow ? { recurringWindow: window.recurringWindow } : {}),
            ...(window.dailyMaintenanceWindow ? { dailyMaintenanceWindow: { ...window.dailyMaintenanceWindow, duration: 'PT4H' } } : {}),
            maintenanceExclusions: Object.fromEntries(
              Object.entries(window.maintenanceExclusions).map(([name, w]) => [
                name,
                { ...w, maintenanceExclusionOptions: { scope: w.maintenanceExclusionOptions?.scope ?? 'NO_UPGRADES' } },
              ]),
            ),
          },
        }
      : {}),
    resourceVersion: createHash('sha256')
      .update(JSON.stringify(window ?? {}))
      .digest('hex')
      .slice(0, 8),
  };
}

function fingerprint(labels: Record<string, string>): string {
  return createHash('sha256')
    .update(JSON.stringify(Object.entries(labels).sort()))
    .digest('hex')
    .slice(0, 8);
}

const etag = () => randomBytes(8).toString('hex');

const clusterNotFound = (key: ClusterKey) => notFound(`Not found: projects/${key.project}/locations/${key.location}/clusters/${key.cluster}.`);
const poolNotFound = (key: PoolKey) => notFound(`Not found: projects/${key.project}/locations/${key.location}/clusters/${key.cluster}/nodePools/${key.pool}.`);
