import type { ClusterSettingDrift } from '@capstan/domain';
import { type protos, v1 } from '@google-cloud/container';
import {
  type ExternalClusterSpec,
  type ExternalNodePoolSpec,
  type ProviderCluster,
  ProviderError,
  type ProviderClusterSettings,
  type ProviderNodePool,
  type ProviderMaintenancePolicy,
} from '../cluster-provider';
import { type ClusterAccess, InfrastructureDriver, type ProviderOperation, type ProviderOperationStatus } from '../infrastructure-driver';
import { listPoolNodes } from './cluster-nodes';
import { BearerAuthClient, GkeTokenSource } from './gke-auth';
import {
  channelOf,
  clusterLabelsOf,
  gkeClusterSettingsOf,
  maintenancePolicyOf,
  nodePoolOf,
  nodePoolStatus,
  RPC,
  rpcCode,
  sameRecord,
  settingsDrift,
  taintsOf,
  toProviderCluster,
  toProviderError,
} from './gke-mapping';
import { type GkeDriverSettings, locationOf, nodeZoneOf } from './gke-settings';

type Cluster = protos.google.container.v1.ICluster;
type NodePool = protos.google.container.v1.INodePool;
type Operation = protos.google.container.v1.IOperation;
type ClientOptions = NonNullable<ConstructorParameters<typeof v1.ClusterManagerClient>[0]>;
/** The slice of google-gax's CallOptions the driver sets. */
interface CallOptions {
  timeout: number;
  retry: null;
}

export const GKE_OPERATION_KIND = 'gke-operation';

/** google.rpc.Code values of a finished operation's error that may pass when the change is asked for again. */
const RETRYABLE_OPERATION_CODES = new Set<number>([
  RPC.CANCELLED,
  RPC.UNKNOWN,
  RPC.DEADLINE_EXCEEDED,
  RPC.RESOURCE_EXHAUSTED,
  RPC.ABORTED,
  RPC.INTERNAL,
  RPC.UNAVAILABLE,
]);

/**
 * Managed GKE through the Container API v1 (`@google-cloud/container`, REST transport).
 *
 * Names: a Capstan cluster `capstan-<id>` is `projects/{project}/locations/{location}/clusters/capstan-<id>`,
 * its location the region's (a regional cluster, whose replicated control plane carries GKE's
 * 99.95% SLA). The driver knows a cluster by its name alone, so it finds the location by listing
 * the project's clusters across locations (`locations/-`) when it has not seen the cluster yet.
 *
 * GKE runs one operation per cluster at a time and drains and surges nodes itself: upgrades return
 * the operation's resource name as a ProviderOperation, which a restarted worker follows by name.
 */
export class GkeDriver extends InfrastructureDriver {
  readonly provider = 'gke' as const;
  get systemNodePool(): string {
    return this.settings.systemPool.name;
  }
  private readonly client: v1.ClusterManagerClient;
  private readonly tokens: GkeTokenSource;
  /** Cluster name -> location, learnt from creates and lists; a cache only, GKE is the truth. */
  private readonly locations = new Map<string, string>();

  constructor(private readonly settings: GkeDriverSettings) {
    super();
    const endpoint = new URL(settings.apiEndpoint);
    this.tokens = new GkeTokenSource(settings.credentials, settings.timeoutMs);
    const auth = new BearerAuthClient(this.tokens, endpoint.origin);
    this.client = new v1.ClusterManagerClient({
      fallback: true,
      apiEndpoint: endpoint.hostname,
      port: Number(endpoint.port) || (endpoint.protocol === 'http:' ? 80 : 443),
      protocol: endpoint.protocol.replace(/:$/, ''),
      authClient: auth as unknown as ClientOptions['authClient'],
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  // --- clusters ------------------------------------------------------------------------------

  async ensureCluster(spec: ExternalClusterSpec): Promise<ProviderCluster> {
    const location = locationOf(this.settings, spec.region);
    const name = `${this.parent(location)}/clusters/${spec.name}`;
    const existing = await this.readCluster(name, 'reading a cluster');
    if (existing) return toProviderCluster(existing, this.settings);
    const zone = nodeZoneOf(this.settings, spec.region);
    const { systemPool } = this.settings;
    try {
      await this.client.createCluster(
        {
          parent: this.parent(location),
          cluster: {
            name: spec.name,
            description: 'Managed by Capstan',
            initialClusterVersion: spec.version,
            resourceLabels: clusterLabelsOf(spec.labels),
            releaseChannel: { channel: channelOf(spec.releaseChannel, this.settings.releaseChannel) },
            ...(spec.maintenance ? { maintenancePolicy: maintenancePolicyOf(spec.maintenance, new Date()) } : {}),
            // Backup for GKE, Capstan's GKE backups, needs its agent in the cluster (docs/gke-driver.md, "Backups").
            addonsConfig: { gkeBackupAgentConfig: { enabled: true } },
            // Application-layer Secrets encryption with the installation's Cloud KMS key (docs/addons.md, "Security baseline").
            ...(this.settings.databaseEncryptionKey ? { databaseEncryption: { state: 'ENCRYPTED', keyName: this.settings.databaseEncryptionKey } } : {}),
            // GKE starts no cluster without nodes: a small system pool, Capstan's pools come after.
            nodePools: [
              {
                name: systemPool.name,
                initialNodeCount: systemPool.nodeCount,
                locations: [zone],
                config: { machineType: systemPool.machineType },
                management: { autoUpgrade: true, autoRepair: true },
                upgradeSettings: { maxSurge: 1, maxUnavailable: 0 },
              },
            ],
          },
        },
        this.callOptions(),
      );
    } catch (error) {
      // A create whose answer was lost, retried: the first one made it, and it is what we return.
      if (rpcCode(error) !== RPC.ALREADY_EXISTS) throw toProviderError(error, `creating cluster ${spec.name}`);
    }
    this.locations.set(spec.name, location);
    const created = await this.readCluster(name, 'reading a cluster');
    if (!created) throw new ProviderError(`GKE accepted cluster ${spec.name} but does not list it yet`, true, 'gke_not_yet_visible');
    return toProviderCluster(created, this.settings);
  }

  async getCluster(name: string): Promise<ProviderCluster | null> {
    const cluster = await this.findCluster(name);
    return cluster && toProviderCluster(cluster, this.settings);
  }

  /**
   * The cluster's GKE resource name, location and control-plane version, or null: what other
   * Google APIs about the cluster (Backup for GKE) name it by.
   */
  async locateCluster(name: string): Promise<{ resourceName: string; location: string; version: string; status: string } | null> {
    const cluster = await this.findCluster(name);
    if (!cluster) return null;
    return {
      resourceName: this.clusterName(cluster),
      location: cluster.location ?? '',
      version: cluster.currentMasterVersion ?? '',
      status: String(cluster.status ?? ''),
    };
  }

  async deleteCluster(name: string): Promise<void> {
    const cluster = await this.findCluster(name);
    if (!cluster || cluster.status === 'STOPPING') return;
    await this.ignoringAbsence(() => this.client.deleteCluster({ name: this.clusterName(cluster) }, this.callOptions()), `deleting cluster ${name}`);
  }

  /** Writes the cluster's maintenance window and exclusions (GKE applies them to its own upgrades). */
  async setMaintenancePolicy(name: string, policy: ProviderMaintenancePolicy): Promise<ProviderOperation> {
    return this.sendMaintenancePolicy(await this.requireCluster(name), maintenancePolicyOf(policy, new Date()));
  }

  /**
   * One change per call, in this order: the release channel (`clusters.update` with
   * `desiredReleaseChannel`), the maintenance policy (`setMaintenancePolicy`, read-modify-write
   * with the `resourceVersion` just read, as GKE requires), the resource labels (`setResourceLabels`
   * with the `labelFingerprint` just read). GKE runs one operation per cluster at a time, so an
   * open settings operation on the cluster (the first call's, when its answer was lost) is followed
   * rather than another sent; what GKE already holds is not sent again.
   */
  async applyClusterSettings(name: string, settings: ProviderClusterSettings): Promise<ProviderOperation | null> {
    const cluster = await this.requireCluster(name);
    const target = this.clusterName(cluster);
    const open = (await this.operations(cluster)).find((o) => SETTINGS_OPERATIONS.has(o.operationType as string) && o.status !== 'DONE' && targets(o, target));
    if (open) return this.handle(open, name);

    const desired = gkeClusterSettingsOf(settings, this.settings.releaseChannel, new Date());
    const first = settingsDrift(cluster, desired)[0];
    if (!first) return null;
    switch (first.setting) {
      case 'release_channel': {
        const [operation] = await this.call(
          () => this.client.updateCluster({ name: target, update: { desiredReleaseChannel: { channel: desired.channel } } }, this.callOptions()),
          `moving ${name} to the ${desired.channel} release channel`,
        );
        return this.handle(operation, name);
      }
      case 'maintenance_policy':
        return this.sendMaintenancePolicy(cluster, desired.policy);
      case 'labels': {
        const [operation] = await this.call(
          () => this.client.setLabels({ name: target, resourceLabels: desired.labels, labelFingerprint: cluster.labelFingerprint ?? '' }, this.callOptions()),
          `setting the labels of ${name}`,
        );
        return this.handle(operation, name);
      }
    }
  }

  /**
   * Read only: the settings GKE holds differently from Capstan's (one GET of the cluster), by the
   * comparison `applyClusterSettings` makes (`settingsDrift`). Someone's change still running
   * at GKE is compared as GKE holds the cluster now; the correction then follows it first.
   */
  async clusterSettingsDrift(name: string, settings: ProviderClusterSettings): Promise<ClusterSettingDrift[]> {
    const cluster = await this.requireCluster(name);
    return settingsDrift(cluster, gkeClusterSettingsOf(settings, this.settings.releaseChannel, new Date()));
  }

  private async sendMaintenancePolicy(cluster: Cluster, policy: protos.google.container.v1.IMaintenancePolicy): Promise<ProviderOperation> {
    // The resourceVersion of the policy just read: GKE refuses the write if another changed it since.
    const maintenancePolicy = { ...policy, resourceVersion: cluster.maintenancePolicy?.resourceVersion ?? '' };
    const [operation] = await this.call(
      () => this.client.setMaintenancePolicy({ name: this.clusterName(cluster), maintenancePolicy }, this.callOptions()),
      `setting the maintenance policy of ${cluster.name}`,
    );
    return this.handle(operation, cluster.name ?? '');
  }

  // --- node pools ----------------------------------------------------------------------------

  async ensureNodePool(clusterName: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    const cluster = await this.requireCluster(clusterName);
    const existing = poolOf(cluster, spec.name);
    if (existing) return this.presentPool(cluster, existing);
    const region = regionOf(cluster);
    try {
      await this.client.createNodePool(
        { parent: this.clusterName(cluster), nodePool: nodePoolOf(spec, nodeZoneOf(this.settings, region)) },
        this.callOptions(),
      );
    } catch (error) {
      if (rpcCode(error) !== RPC.ALREADY_EXISTS) throw toProviderError(error, `creating node pool ${spec.name} in ${clusterName}`);
    }
    const pool = await this.readPool(cluster, spec.name);
    if (!pool) throw new ProviderError(`GKE accepted node pool ${spec.name} but does not list it yet`, true, 'gke_not_yet_visible');
    return this.presentPool(cluster, pool);
  }

  async getNodePool(clusterName: string, poolName: string): Promise<ProviderNodePool | null> {
    const cluster = await this.findCluster(clusterName);
    const pool = cluster && poolOf(cluster, poolName);
    return pool ? this.presentPool(cluster, pool) : null;
  }

  /**
   * GKE takes one change per operation and one operation per cluster at a time, so the changes
   * go one after another: settings (labels, taints, surge), autoscaling, then the size, each
   * awaited before the next is sent except the last. A retry after a failure recomputes what is
   * still different, so nothing is sent twice.
   */
  async updateNodePool(clusterName: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    const cluster = await this.requireCluster(clusterName);
    const pool = poolOf(cluster, spec.name);
    if (!pool) throw new ProviderError(`node pool ${spec.name} of cluster ${clusterName} does not exist`, false, 'gke_not_found');
    const name = `${this.clusterName(cluster)}/nodePools/${spec.name}`;
    const changes: { doing: string; send: () => Promise<Operation> }[] = [];

    const taints = taintsOf(spec);
    const settingsDiffer =
      !sameRecord(pool.config?.labels ?? {}, spec.labels) ||
      JSON.stringify(normalTaints(pool.config?.taints ?? [])) !== JSON.stringify(normalTaints(taints)) ||
      (pool.upgradeSettings?.maxSurge ?? 1) !== spec.maxSurge ||
      (pool.upgradeSettings?.maxUnavailable ?? 0) !== spec.maxUnavailable;
    if (settingsDiffer) {
      changes.push({
        doing: `updating node pool ${spec.name}`,
        send: async () =>
          (
            await this.client.updateNodePool(
              {
                name,
                nodeVersion: '',
                imageType: pool.config?.imageType ?? '',
                labels: { labels: { ...spec.labels } },
                taints: { taints },
                upgradeSettings: { maxSurge: spec.maxSurge, maxUnavailable: spec.maxUnavailable },
              },
              this.callOptions(),
            )
          )[0],
      });
    }
    const autoscaling = spec.autoscaling
      ? { enabled: true, minNodeCount: spec.autoscaling.min, maxNodeCount: spec.autoscaling.max }
      : { enabled: false, minNodeCount: 0, maxNodeCount: 0 };
    const current = pool.autoscaling?.enabled
      ? { enabled: true, minNodeCount: pool.autoscaling.minNodeCount ?? 0, maxNodeCount: pool.autoscaling.maxNodeCount ?? 0 }
      : { enabled: false, minNodeCount: 0, maxNodeCount: 0 };
    if (JSON.stringify(autoscaling) !== JSON.stringify(current)) {
      changes.push({
        doing: `setting the autoscaling of node pool ${spec.name}`,
        send: async () => (await this.client.setNodePoolAutoscaling({ name, autoscaling }, this.callOptions()))[0],
      });
    }
    if (!spec.autoscaling) {
      const nodes = await this.nodesOf(cluster, spec.name);
      if (nodes.length !== spec.count) {
        changes.push({
          doing: `resizing node pool ${spec.name} to ${spec.count}`,
          send: async () => (await this.client.setNodePoolSize({ name, nodeCount: spec.count }, this.callOptions()))[0],
        });
      }
    }

    for (const [index, change] of changes.entries()) {
      const operation = await this.call(change.send, change.doing);
      if (index < changes.length - 1) await this.awaitOperation(this.operationName(cluster, operation), change.doing);
    }
    const updated = await this.readPool(cluster, spec.name);
    if (!updated) throw new ProviderError(`node pool ${spec.name} of cluster ${clusterName} disappeared`, true, 'gke_not_found');
    // GKE's pool shows no target size: while a resize runs, the size is the one just asked for.
    return this.presentPool(cluster, updated, !spec.autoscaling && updated.status !== 'RUNNING' ? spec.count : undefined);
  }

  async deleteNodePool(clusterName: string, poolName: string): Promise<void> {
    const cluster = await this.findCluster(clusterName);
    const pool = cluster && poolOf(cluster, poolName);
    if (!cluster || !pool || pool.status === 'STOPPING') return;
    await this.ignoringAbsence(
      () => this.client.deleteNodePool({ name: `${this.clusterName(cluster)}/nodePools/${poolName}` }, this.callOptions()),
      `deleting node pool ${poolName}`,
    );
  }

  // --- access --------------------------------------------------------------------------------

  async adminAccess(clusterName: string): Promise<ClusterAccess> {
    const cluster = await this.requireCluster(clusterName);
    const ca = cluster.masterAuth?.clusterCaCertificate;
    if (!cluster.endpoint || !ca) throw new ProviderError(`cluster ${clusterName} has no API server endpoint yet`, true, 'gke_not_ready');
    const dns = cluster.controlPlaneEndpointsConfig?.dnsEndpointConfig?.endpoint;
    const token = await this.tokens.clusterToken(this.clusterName(cluster));
    return {
      server: `https://${cluster.endpoint}`,
      ...(this.settings.serverNameFromDnsEndpoint && dns ? { tlsServerName: dns } : {}),
      caCertificate: Buffer.from(ca, 'base64').toString('utf8'),
      token: token.token,
      expiresAt: token.expiresAt,
    };
  }

  // --- upgrades ------------------------------------------------------------------------------

  async upgradeControlPlane(clusterName: string, version: string): Promise<ProviderOperation> {
    const cluster = await this.requireCluster(clusterName);
    const target = this.clusterName(cluster);
    // A repeated call (the first answer lost, a worker restarted) follows what the first one started.
    const running = await this.openOperation(cluster, 'UPGRADE_MASTER', target);
    if (running) return this.handle(running, clusterName, version);
    // Read again: listing the operations may have seen the first upgrade finish meanwhile.
    if ((await this.requireCluster(clusterName)).currentMasterVersion === version) {
      const done = await this.latestOperation(cluster, 'UPGRADE_MASTER', target);
      if (done) return this.handle(done, clusterName, version);
    }
    const [operation] = await this.call(
      () => this.client.updateMaster({ name: target, masterVersion: version }, this.callOptions()),
      `upgrading the control plane of ${clusterName} to ${version}`,
    );
    return this.handle(operation, clusterName, version);
  }

  async upgradeNodePool(clusterName: string, poolName: string, version: string): Promise<ProviderOperation> {
    const cluster = await this.requireCluster(clusterName);
    const pool = poolOf(cluster, poolName);
    if (!pool) throw new ProviderError(`node pool ${poolName} of cluster ${clusterName} does not exist`, false, 'gke_not_found');
    const target = `${this.clusterName(cluster)}/nodePools/${poolName}`;
    const running = await this.openOperation(cluster, 'UPGRADE_NODES', target);
    if (running) return this.handle(running, poolName, version);
    if (poolOf(await this.requireCluster(clusterName), poolName)?.version === version) {
      const done = await this.latestOperation(cluster, 'UPGRADE_NODES', target);
      if (done) return this.handle(done, poolName, version);
    }
    const [operation] = await this.call(
      () => this.client.updateNodePool({ name: target, nodeVersion: version, imageType: pool.config?.imageType ?? '' }, this.callOptions()),
      `upgrading node pool ${poolName} of ${clusterName} to ${version}`,
    );
    return this.handle(operation, poolName, version);
  }

  /**
   * `nodePools.rollback` (respecting PodDisruptionBudgets): GKE moves back the nodes of an upgrade
   * that failed or was aborted, to the version the pool still records; after an upgrade that
   * completed it changes nothing. A repeated call follows the rollback already running.
   */
  async rollbackNodePool(clusterName: string, poolName: string, version: string): Promise<ProviderOperation> {
    const cluster = await this.requireCluster(clusterName);
    const pool = poolOf(cluster, poolName);
    if (!pool) throw new ProviderError(`node pool ${poolName} of cluster ${clusterName} does not exist`, false, 'gke_not_found');
    if (pool.version && pool.version !== version)
      throw new ProviderError(`node pool ${poolName} records version ${pool.version}; GKE rolls back to that version, not to ${version}`, false, 'gke_invalid');
    const target = `${this.clusterName(cluster)}/nodePools/${poolName}`;
    const running = await this.openOperation(cluster, 'UPGRADE_NODES', target);
    if (running) return this.handle(running, poolName, version);
    const [operation] = await this.call(
      () => this.client.rollbackNodePoolUpgrade({ name: target, respectPdb: true }, this.callOptions()),
      `rolling node pool ${poolName} of ${clusterName} back to ${version}`,
    );
    return this.handle(operation, poolName, version);
  }

  async getOperation(handle: ProviderOperation): Promise<ProviderOperationStatus> {
    if (handle.kind !== GKE_OPERATION_KIND) throw new ProviderError(`the GKE driver cannot follow a ${handle.kind} operation`, false, 'gke_invalid');
    let operation: Operation;
    try {
      [operation] = await this.client.getOperation({ name: handle.name }, this.callOptions());
    } catch (error) {
      if (rpcCode(error) === RPC.NOT_FOUND)
        return { done: true, error: { message: `GKE no longer knows operation ${handle.name}`, retryable: false, code: 'gke_not_found' } };
      throw toProviderError(error, `reading operation ${handle.name}`);
    }
    return operationStatus(operation);
  }

  // --- internals -----------------------------------------------------------------------------

  private parent(location: string): string {
    return `projects/${this.settings.project}/locations/${location}`;
  }

  private clusterName(cluster: Cluster): string {
    return `${this.parent(cluster.location ?? '')}/clusters/${cluster.name}`;
  }

  private operationName(cluster: Cluster, operation: Operation): string {
    return `${this.parent(operation.location || cluster.location || '')}/operations/${operation.name}`;
  }

  private handle(operation: Operation, target: string, version?: string): ProviderOperation {
    const location = operation.location || (operation.selfLink ?? '').match(/\/locations\/([^/]+)\//)?.[1] || '';
    return {
      provider: 'gke',
      kind: GKE_OPERATION_KIND,
      name: `${this.parent(location)}/operations/${operation.name}`,
      target,
      ...(version ? { version } : {}),
    };
  }

  /** Per-call options: bounded, and without google-gax's own retries (10 minutes by default): steps retry with backoff. */
  private callOptions(): CallOptions {
    return { timeout: this.settings.timeoutMs, retry: null };
  }

  private async call<T>(work: () => Promise<T>, doing: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toProviderError(error, doing);
    }
  }

  private async ignoringAbsence(work: () => Promise<unknown>, doing: string): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (rpcCode(error) === RPC.NOT_FOUND) return;
      throw toProviderError(error, doing);
    }
  }

  private async readCluster(name: string, doing: string): Promise<Cluster | null> {
    try {
      const [cluster] = await this.client.getCluster({ name }, this.callOptions());
      if (cluster.name && cluster.location) this.locations.set(cluster.name, cluster.location);
      return cluster;
    } catch (error) {
      if (rpcCode(error) === RPC.NOT_FOUND) return null;
      throw toProviderError(error, doing);
    }
  }

  private async findCluster(name: string): Promise<Cluster | null> {
    const known = this.locations.get(name);
    if (known) {
      const cluster = await this.readCluster(`${this.parent(known)}/clusters/${name}`, `reading cluster ${name}`);
      if (cluster) return cluster;
    }
    const [list] = await this.call(() => this.client.listClusters({ parent: this.parent('-') }, this.callOptions()), `listing clusters to find ${name}`);
    const found = (list.clusters ?? []).find((c) => c.name === name) ?? null;
    if (found?.location) this.locations.set(name, found.location);
    return found;
  }

  private async requireCluster(name: string): Promise<Cluster> {
    const cluster = await this.findCluster(name);
    if (!cluster) throw new ProviderError(`cluster ${name} does not exist in GKE project ${this.settings.project}`, false, 'gke_not_found');
    return cluster;
  }

  private async readPool(cluster: Cluster, pool: string): Promise<NodePool | null> {
    try {
      const [found] = await this.client.getNodePool({ name: `${this.clusterName(cluster)}/nodePools/${pool}` }, this.callOptions());
      return found;
    } catch (error) {
      if (rpcCode(error) === RPC.NOT_FOUND) return null;
      throw toProviderError(error, `reading node pool ${pool}`);
    }
  }

  private async nodesOf(cluster: Cluster, pool: string) {
    try {
      return await listPoolNodes(await this.adminAccess(cluster.name ?? ''), pool, this.settings.timeoutMs);
    } catch (error) {
      if (!(error instanceof ProviderError && error.code === 'gke_api_server_unauthorized')) throw error;
      // A cached token of a cluster since deleted and made again under the same name: ask anew, once.
      this.tokens.forgetClusterToken(this.clusterName(cluster));
      return listPoolNodes(await this.adminAccess(cluster.name ?? ''), pool, this.settings.timeoutMs);
    }
  }

  /**
   * The pool as the port reports it. Its nodes are the Nodes its cluster lists for it; GKE's
   * pool resource has no size of its own, and once GKE calls the pool RUNNING (its operation is
   * done) the nodes listed are its size.
   */
  private async presentPool(cluster: Cluster, pool: NodePool, requestedCount?: number): Promise<ProviderNodePool> {
    const status = nodePoolStatus(pool.status);
    const clusterServes = cluster.status === 'RUNNING' || cluster.status === 'RECONCILING';
    const nodes = clusterServes && status !== 'provisioning' ? await this.nodesOf(cluster, pool.name ?? '') : [];
    return {
      name: pool.name ?? '',
      status,
      count: requestedCount ?? (status === 'provisioning' ? initialSize(pool) : nodes.length),
      version: pool.version ?? '',
      nodes,
    };
  }

  private async operations(cluster: Cluster): Promise<Operation[]> {
    const [list] = await this.call(
      () => this.client.listOperations({ parent: this.parent(cluster.location ?? '') }, this.callOptions()),
      `listing the operations of ${cluster.name}`,
    );
    return list.operations ?? [];
  }

  private async openOperation(cluster: Cluster, type: string, target: string): Promise<Operation | null> {
    return (await this.operations(cluster)).find((o) => o.operationType === type && o.status !== 'DONE' && targets(o, target)) ?? null;
  }

  private async latestOperation(cluster: Cluster, type: string, target: string): Promise<Operation | null> {
    const matching = (await this.operations(cluster)).filter((o) => o.operationType === type && targets(o, target));
    return matching.sort((a, b) => String(b.startTime).localeCompare(String(a.startTime)))[0] ?? null;
  }

  /** Waits for an operation between two changes GKE will not take at once, polling with backoff. */
  private async awaitOperation(name: string, doing: string): Promise<void> {
    const deadline = Date.now() + this.settings.changeWaitMs;
    let pause = 100;
    for (;;) {
      const status = await this.getOperation({ provider: 'gke', kind: GKE_OPERATION_KIND, name, target: '' });
      if (status.done) {
        if (status.error) throw new ProviderError(`GKE ${doing}: ${status.error.message}`, status.error.retryable, status.error.code);
        return;
      }
      if (Date.now() > deadline) throw new ProviderError(`GKE ${doing}: still running after ${this.settings.changeWaitMs} ms`, true, 'gke_busy');
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 2_000);
    }
  }
}

/** The operation's state for the port: done or not, and how it failed. */
export function operationStatus(operation: Operation): ProviderOperationStatus {
  if (operation.status !== 'DONE') {
    return {
      done: false,
      progress: surgeProgress(operation) ?? `${operation.operationType ?? 'operation'} ${String(operation.status ?? 'PENDING').toLowerCase()}`,
    };
  }
  const error = operation.error;
  if (error && (error.code ?? 0) !== 0) {
    const code = error.code ?? RPC.UNKNOWN;
    return {
      done: true,
      error: {
        message: error.message || operation.statusMessage || 'the operation failed',
        retryable: RETRYABLE_OPERATION_CODES.has(code),
        code: `gke_rpc_${code}`,
      },
    };
  }
  const progress = surgeProgress(operation);
  return { done: true, ...(progress ? { progress } : {}) };
}

/**
 * A node upgrade's surge progress from the operation's `progress.metrics` (NODES_TOTAL,
 * NODES_DONE, NODES_FAILED, NODE_PDB_DELAY_SECONDS), as GKE reports it for UPGRADE_NODES.
 */
export function surgeProgress(operation: Operation): string | null {
  const metrics = new Map((operation.progress?.metrics ?? []).map((m) => [m.name ?? '', Number(String(m.intValue ?? m.doubleValue ?? Number.NaN))]));
  const total = metrics.get('NODES_TOTAL');
  if (total === undefined || Number.isNaN(total)) return null;
  const done = metrics.get('NODES_COMPLETE') ?? metrics.get('NODES_DONE') ?? 0;
  const failed = metrics.get('NODES_FAILED') ?? 0;
  const pdbDelay = metrics.get('NODE_PDB_DELAY_SECONDS') ?? 0;
  return [
    `${done} of ${total} nodes upgraded by surge`,
    failed > 0 ? `${failed} failed` : null,
    pdbDelay > 0 ? `${pdbDelay} s waiting on PodDisruptionBudgets` : null,
  ]
    .filter(Boolean)
    .join('; ');
}

/** GKE operation types of the changes `applyClusterSettings` sends. */
const SETTINGS_OPERATIONS = new Set(['UPDATE_CLUSTER', 'SET_MAINTENANCE_POLICY', 'SET_LABELS']);

/** The size GKE brings a new pool up to: its initial count in each of its zones, within its autoscaling bounds. */
function initialSize(pool: NodePool): number {
  let perZone = pool.initialNodeCount ?? 0;
  if (pool.autoscaling?.enabled) perZone = Math.min(Math.max(perZone, pool.autoscaling.minNodeCount ?? 0), pool.autoscaling.maxNodeCount ?? perZone);
  return perZone * Math.max(pool.locations?.length ?? 1, 1);
}

function poolOf(cluster: Cluster, name: string): NodePool | null {
  return (cluster.nodePools ?? []).find((p) => p.name === name) ?? null;
}

function regionOf(cluster: Cluster): string {
  const location = cluster.location ?? '';
  // A zonal location (europe-west6-b) belongs to the region before its last dash.
  return /-[a-z]$/.test(location) ? location.replace(/-[a-z]$/, '') : location;
}

function targets(operation: Operation, target: string): boolean {
  return (operation.targetLink ?? '').endsWith(`/${target}`);
}

function normalTaints(taints: protos.google.container.v1.INodeTaint[]): string[] {
  return taints.map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).sort();
}
