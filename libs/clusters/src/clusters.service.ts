import {
  assertClusterAccepts,
  assertMachineType,
  assertRegionAllowed,
  assertWithinQuota,
  clusterStatusDuring,
  ConflictError,
  NotFoundError,
  nodeCountOf,
  parseLabelSelector,
  PreconditionFailedError,
  resolveVersionForCreate,
} from '@capstan/domain';
import { OperationsRepository, presentOperation } from '@capstan/operations';
import { ClusterProvider, externalClusterName } from '@capstan/providers';
import { Clock, type db, decodeCursor, matchesEtag, etagOf, newId, type Page, type PrismaTx, PrismaService, type RawTx, Sql, toPage } from '@capstan/platform';
import { type Actor, AuditLog, changesBetween, OrganizationsService } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { presentCluster, presentNodePool, type ClusterWithRelations } from './cluster-view';
import { ClustersRepository } from './clusters.repository';
import { renderKubeconfig } from './kubeconfig';

export interface NodePoolSpec {
  name: string;
  machine_type: string;
  count?: number;
  autoscaling?: { min: number; max: number };
  labels?: Record<string, string>;
  taints?: { key: string; value: string; effect: string }[];
  max_surge: number;
  max_unavailable: number;
}

export interface MaintenanceWindowSpec {
  time_zone: string;
  days: string[];
  start_time: string;
  duration_minutes: number;
}

export interface CreateClusterInput {
  name: string;
  provider: db.Provider;
  region: string;
  version?: string;
  release_channel: db.ReleaseChannel;
  auto_upgrade: boolean;
  deletion_protection: boolean;
  labels: Record<string, string>;
  maintenance_window?: MaintenanceWindowSpec;
  node_pools: NodePoolSpec[];
}

export interface UpdateClusterInput {
  labels?: Record<string, string>;
  auto_upgrade?: boolean;
  deletion_protection?: boolean;
  release_channel?: db.ReleaseChannel;
  maintenance_window?: MaintenanceWindowSpec | null;
}

export interface Requester {
  organizationId: string;
  actor: Actor;
  idempotencyKey?: string;
}

/**
 * Cluster use cases. Every change runs in one transaction with the cluster row locked, so the
 * checks (state, one operation at a time, quota, etag) and the change, its operation, its outbox
 * message and its audit event commit together or not at all.
 */
@Injectable()
export class ClustersService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly clusters: ClustersRepository,
    private readonly operations: OperationsRepository,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly provider: ClusterProvider,
    private readonly sql: Sql,
  ) {}

  /**
   * A kubeconfig with a fresh short-lived credential from the provider. Nothing is stored; the
   * download itself is audited (who, when, how long it is valid), never the token.
   */
  async kubeconfig(requester: Requester, id: string, expirySeconds: number): Promise<string> {
    const cluster = await this.clusters.get(requester.organizationId, id);
    if (!cluster.endpoint || !['running', 'updating', 'upgrading', 'degraded'].includes(cluster.status)) {
      throw new ConflictError('cluster-not-ready', `cluster ${id} is ${cluster.status}; a kubeconfig is available once its API server runs`);
    }
    const credentials = await this.provider.issueCredentials(externalClusterName(id), expirySeconds);
    await this.prisma.$transaction(async (tx) => {
      await this.audit.record(tx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'cluster.kubeconfig',
        target: { type: 'cluster', id },
        changes: { credential_expires_at: { after: credentials.expiresAt.toISOString() } },
      });
    });
    return renderKubeconfig(cluster.name, credentials);
  }

  async get(organizationId: string | undefined, id: string) {
    return presentCluster(await this.clusters.get(organizationId, id));
  }

  /** A customer's page of its own clusters. */
  async list(
    filter: { organizationId: string; status?: db.ClusterStatus; provider?: db.Provider; labelSelector?: string },
    limit: number,
    cursor?: string,
  ): Promise<Page<ReturnType<typeof presentCluster>>> {
    return toPage(await this.rows(filter, limit, cursor), limit, (row) => presentCluster(row));
  }

  /** Staff's page across organisations, each cluster naming its organisation. */
  async listForStaff(
    filter: { organizationId?: string; status?: db.ClusterStatus; provider?: db.Provider; q?: string },
    limit: number,
    cursor?: string,
  ): Promise<Page<ReturnType<typeof presentCluster> & { organization_id: string }>> {
    return toPage(await this.rows(filter, limit, cursor), limit, (row) => ({ ...presentCluster(row), organization_id: row.organizationId }));
  }

  private rows(
    filter: { organizationId?: string; status?: db.ClusterStatus; provider?: db.Provider; labelSelector?: string; q?: string },
    limit: number,
    cursor: string | undefined,
  ): Promise<ClusterWithRelations[]> {
    return this.clusters.list(
      {
        organizationId: filter.organizationId,
        status: filter.status,
        provider: filter.provider,
        labels: filter.labelSelector ? parseLabelSelector(filter.labelSelector) : undefined,
        nameContains: filter.q,
        after: decodeCursor(cursor),
      },
      limit,
    );
  }

  async create(requester: Requester, input: CreateClusterInput) {
    const now = this.clock.now();
    for (const pool of input.node_pools) assertMachineType(pool.machine_type, input.provider);
    const version = resolveVersionForCreate(input.provider, input.version, now);

    // Plain pg (Sql.transaction): every statement here is raw, and the organisation's row lock is
    // held from the first to the commit, so each one's cost is paid by every create queued behind.
    const { cluster, operation } = await this.sql.transaction(async (tx) => {
      // Creates of one organisation queue here, so two cannot both squeeze under the quota.
      const [org] = await tx.$queryRaw<{ residency: string; max_clusters: number; max_nodes: number }[]>`
        SELECT residency, max_clusters, max_nodes FROM organizations WHERE id = ${requester.organizationId} FOR UPDATE`;
      if (!org) throw new NotFoundError('organization', requester.organizationId);
      assertRegionAllowed(input.region, input.provider, org.residency);
      const usage = await this.organizations.usage(requester.organizationId, tx);
      assertWithinQuota({ maxClusters: org.max_clusters, maxNodes: org.max_nodes }, usage, {
        clusters: 1,
        nodes: input.node_pools.reduce((sum, pool) => sum + nodeCountOf(toPoolCounts(pool)), 0),
      });
      await assertNameFree(tx, requester.organizationId, input.name);

      const clusterId = newId('cl');
      await insertCluster(tx, clusterId, requester.organizationId, input, version.patch);
      const op = await this.operations.enqueue(tx, {
        organizationId: requester.organizationId,
        clusterId,
        type: 'create_cluster',
        target: { type: 'cluster', id: clusterId },
        params: { version: version.patch },
        requestedBy: requester.actor,
        idempotencyKey: requester.idempotencyKey,
      });
      const created = await this.clusters.getIn(tx, requester.organizationId, clusterId);
      await this.audit.record(tx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'cluster.create',
        target: { type: 'cluster', id: clusterId },
        changes: changesBetween(null, { ...created, nodePools: created.nodePools.map((p) => p.name) }, ['name', 'provider', 'region', 'currentVersion', 'labels', 'deletionProtection', 'nodePools']),
      });
      return { cluster: created, operation: op };
    });
    return { cluster: presentCluster(cluster, version.warnings), operation: presentOperation(operation) };
  }

  async update(requester: Requester, id: string, ifMatch: string | undefined, input: UpdateClusterInput) {
    const updated = await this.prisma.$transaction(async (tx) => {
      const cluster = await this.clusters.getForUpdate(tx, requester.organizationId, id);
      assertEtag('cluster', cluster.id, cluster.resourceVersion, ifMatch);
      if (cluster.status === 'deleting') throw new ConflictError('cluster-state-conflict', `cluster ${id} is being deleted; it can no longer be changed`);
      await tx.cluster.update({
        where: { id },
        data: {
          labels: input.labels,
          autoUpgrade: input.auto_upgrade,
          deletionProtection: input.deletion_protection,
          releaseChannel: input.release_channel,
          resourceVersion: { increment: 1 },
        },
      });
      if (input.maintenance_window === null) await tx.maintenanceWindow.deleteMany({ where: { clusterId: id } });
      if (input.maintenance_window) {
        const data = windowData(input.maintenance_window);
        await tx.maintenanceWindow.upsert({ where: { clusterId: id }, create: { clusterId: id, ...data }, update: data });
      }
      const after = await this.clusters.getIn(tx, requester.organizationId, id);
      await this.audit.record(tx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'cluster.update',
        target: { type: 'cluster', id },
        changes: changesBetween(cluster, after, ['labels', 'autoUpgrade', 'deletionProtection', 'releaseChannel', 'maintenanceWindow']),
      });
      return after;
    });
    return presentCluster(updated);
  }

  async delete(requester: Requester, id: string) {
    const operation = await this.prisma.$transaction(async (tx) => {
      const cluster = await this.clusters.getForUpdate(tx, requester.organizationId, id);
      if (cluster.deletionProtection) {
        throw new ConflictError('deletion-protected', `cluster ${id} has deletion protection; set deletion_protection to false first`);
      }
      assertClusterAccepts(cluster, 'delete_cluster', await this.operations.activeOnCluster(tx, id));
      await tx.cluster.update({ where: { id }, data: { status: clusterStatusDuring('delete_cluster'), resourceVersion: { increment: 1 } } });
      const op = await this.operations.enqueue(tx, {
        organizationId: requester.organizationId,
        clusterId: id,
        type: 'delete_cluster',
        target: { type: 'cluster', id },
        params: { previousClusterStatus: cluster.status },
        requestedBy: requester.actor,
        idempotencyKey: requester.idempotencyKey,
      });
      await this.audit.record(tx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'cluster.delete',
        target: { type: 'cluster', id },
        changes: { status: { before: cluster.status, after: 'deleting' } },
      });
      return op;
    });
    return { operation: presentOperation(operation) };
  }

  // ---------------------------------------------------------------- node pools

  async listNodePools(organizationId: string, clusterId: string, limit: number, cursor?: string) {
    await this.clusters.get(organizationId, clusterId);
    const after = decodeCursor(cursor);
    const rows = await this.prisma.nodePool.findMany({
      where: { clusterId, organizationId, deletedAt: null, ...(after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    return toPage(rows, limit, presentNodePool);
  }

  async getNodePool(organizationId: string, clusterId: string, poolId: string) {
    const pool = await this.prisma.nodePool.findFirst({ where: { id: poolId, clusterId, organizationId, deletedAt: null } });
    if (!pool) throw new NotFoundError('node pool', poolId);
    return presentNodePool(pool);
  }

  async createNodePool(requester: Requester, clusterId: string, spec: NodePoolSpec) {
    return this.prisma.$transaction(async (tx) => {
      const cluster = await this.clusters.getForUpdate(tx, requester.organizationId, clusterId);
      assertClusterAccepts(cluster, 'create_node_pool', await this.operations.activeOnCluster(tx, clusterId));
      assertMachineType(spec.machine_type, cluster.provider);
      await this.assertNodeQuota(tx, requester.organizationId, nodeCountOf(toPoolCounts(spec)));
      if (cluster.nodePools.some((p) => p.name === spec.name)) {
        throw new ConflictError('name-taken', `cluster ${clusterId} already has a node pool named ${spec.name}`);
      }
      const pool = await tx.nodePool.create({ data: { ...poolData(requester.organizationId, spec, cluster.currentVersion), clusterId } });
      await tx.cluster.update({ where: { id: clusterId }, data: { status: clusterStatusDuring('create_node_pool') } });
      const op = await this.operations.enqueue(tx, {
        organizationId: requester.organizationId,
        clusterId,
        type: 'create_node_pool',
        target: { type: 'node_pool', id: pool.id },
        params: { previousClusterStatus: cluster.status },
        requestedBy: requester.actor,
        idempotencyKey: requester.idempotencyKey,
      });
      await this.audit.record(tx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'node_pool.create',
        target: { type: 'node_pool', id: pool.id },
        changes: changesBetween(null, pool, ['name', 'machineType', 'nodeCount', 'autoscaleMin', 'autoscaleMax', 'labels', 'taints']),
      });
      return { node_pool: presentNodePool(pool), operation: presentOperation(op) };
    });
  }

  async updateNodePool(
    requester: Requester,
    clusterId: string,
    poolId: string,
    ifMatch: string | undefined,
    change: { count?: number; autoscaling?: { min: number; max: number } | null; labels?: Record<string, string>; taints?: NodePoolSpec['taints']; max_surge?: number; max_unavailable?: number },
  ) {
    return this.prisma.$transaction(async (tx) => {
      const cluster = await this.clusters.getForUpdate(tx, requester.organizationId, clusterId);
      const pool = cluster.nodePools.find((p) => p.id === poolId);
      if (!pool) throw new NotFoundError('node pool', poolId);
      assertEtag('node pool', pool.id, pool.resourceVersion, ifMatch);
      const onlyScaling = Object.keys(change).every((k) => k === 'count' || k === 'autoscaling');
      const type = onlyScaling ? 'scale_node_pool' : 'update_node_pool';
      assertClusterAccepts(cluster, type, await this.operations.activeOnCluster(tx, clusterId));

      const autoscaling = change.autoscaling === undefined ? (pool.autoscaleMin !== null ? { min: pool.autoscaleMin, max: pool.autoscaleMax! } : null) : change.autoscaling;
      const next = {
        nodeCount: change.count ?? (autoscaling ? Math.min(Math.max(pool.nodeCount, autoscaling.min), autoscaling.max) : pool.nodeCount),
        autoscaleMin: autoscaling?.min ?? null,
        autoscaleMax: autoscaling?.max ?? null,
        maxSurge: change.max_surge ?? pool.maxSurge,
        maxUnavailable: change.max_unavailable ?? pool.maxUnavailable,
      };
      if (autoscaling && autoscaling.min > autoscaling.max) {
        throw new ConflictError('invalid-autoscaling', `autoscaling.min ${autoscaling.min} exceeds autoscaling.max ${autoscaling.max}`);
      }
      if (next.maxSurge === 0 && next.maxUnavailable === 0) {
        throw new ConflictError('invalid-surge', 'max_surge and max_unavailable cannot both be 0: an upgrade could never replace a node');
      }
      const growth = nodeCountOf(next) - nodeCountOf(pool);
      if (growth > 0) await this.assertNodeQuota(tx, requester.organizationId, growth);

      const updated = await tx.nodePool.update({
        where: { id: poolId },
        data: { ...next, labels: change.labels, taints: change.taints, status: 'updating', resourceVersion: { increment: 1 } },
      });
      await tx.cluster.update({ where: { id: clusterId }, data: { status: clusterStatusDuring(type) } });
      const op = await this.operations.enqueue(tx, {
        organizationId: requester.organizationId,
        clusterId,
        type,
        target: { type: 'node_pool', id: poolId },
        params: { change, previousClusterStatus: cluster.status, previousPool: previousPoolOf(pool) },
        requestedBy: requester.actor,
        idempotencyKey: requester.idempotencyKey,
      });
      await this.audit.record(tx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: onlyScaling ? 'node_pool.scale' : 'node_pool.update',
        target: { type: 'node_pool', id: poolId },
        changes: changesBetween(pool, updated, ['nodeCount', 'autoscaleMin', 'autoscaleMax', 'labels', 'taints', 'maxSurge', 'maxUnavailable']),
      });
      return { node_pool: presentNodePool(updated), operation: presentOperation(op) };
    });
  }

  async deleteNodePool(requester: Requester, clusterId: string, poolId: string) {
    return this.prisma.$transaction(async (tx) => {
      const cluster = await this.clusters.getForUpdate(tx, requester.organizationId, clusterId);
      const pool = cluster.nodePools.find((p) => p.id === poolId);
      if (!pool) throw new NotFoundError('node pool', poolId);
      assertClusterAccepts(cluster, 'delete_node_pool', await this.operations.activeOnCluster(tx, clusterId));
      if (cluster.nodePools.length === 1) {
        throw new ConflictError('last-node-pool', `node pool ${poolId} is the last one of cluster ${clusterId}; delete the cluster instead`);
      }
      await tx.nodePool.update({ where: { id: poolId }, data: { status: 'deleting', resourceVersion: { increment: 1 } } });
      await tx.cluster.update({ where: { id: clusterId }, data: { status: clusterStatusDuring('delete_node_pool') } });
      const op = await this.operations.enqueue(tx, {
        organizationId: requester.organizationId,
        clusterId,
        type: 'delete_node_pool',
        target: { type: 'node_pool', id: poolId },
        params: { previousClusterStatus: cluster.status, previousPool: previousPoolOf(pool) },
        requestedBy: requester.actor,
        idempotencyKey: requester.idempotencyKey,
      });
      await this.audit.record(tx, {
        organizationId: requester.organizationId,
        actor: requester.actor,
        action: 'node_pool.delete',
        target: { type: 'node_pool', id: poolId },
        changes: { status: { before: pool.status, after: 'deleting' } },
      });
      return { operation: presentOperation(op) };
    });
  }

  private async assertNodeQuota(tx: PrismaTx, organizationId: string, addingNodes: number): Promise<void> {
    const [org] = await tx.$queryRaw<{ max_clusters: number; max_nodes: number }[]>`
      SELECT max_clusters, max_nodes FROM organizations WHERE id = ${organizationId} FOR UPDATE`;
    if (!org) throw new NotFoundError('organization', organizationId);
    const usage = await this.organizations.usage(organizationId, tx);
    assertWithinQuota({ maxClusters: org.max_clusters, maxNodes: org.max_nodes }, usage, { nodes: addingNodes });
  }
}

function assertEtag(resource: string, id: string, resourceVersion: number, ifMatch: string | undefined): void {
  if (ifMatch !== undefined && !matchesEtag(ifMatch, resourceVersion)) {
    throw new PreconditionFailedError(`${resource} ${id} has changed since you read it; its etag is now ${etagOf(resourceVersion)}`, { etag: etagOf(resourceVersion) });
  }
}

async function assertNameFree(tx: RawTx, organizationId: string, name: string): Promise<void> {
  const [existing] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM clusters WHERE organization_id = ${organizationId} AND live_name = ${name}`;
  if (existing) throw new ConflictError('name-taken', `a cluster named ${name} already exists (${existing.id})`, { cluster_id: existing.id });
}

/**
 * The cluster, its node pools and its maintenance window in one statement (data-modifying CTEs;
 * the foreign keys are checked at the end of the statement). Creates run under the organisation's
 * row lock, so every statement saved here is throughput for that organisation.
 */
async function insertCluster(tx: RawTx, clusterId: string, organizationId: string, input: CreateClusterInput, version: string): Promise<void> {
  const pools = input.node_pools.map((pool) => poolData(organizationId, pool, version));
  const window = input.maintenance_window ? windowData(input.maintenance_window) : null;
  await tx.$executeRaw`
    WITH cluster AS (
      INSERT INTO clusters (id, organization_id, name, live_name, provider, region, release_channel, current_version, desired_version,
                            status, auto_upgrade, deletion_protection, labels, updated_at)
      VALUES (${clusterId}, ${organizationId}, ${input.name}, ${input.name}, ${input.provider}::"Provider", ${input.region},
              ${input.release_channel}::"ReleaseChannel", ${version}, ${version}, 'provisioning', ${input.auto_upgrade},
              ${input.deletion_protection}, ${JSON.stringify(input.labels)}::jsonb, now())
    ), pools AS (
      INSERT INTO node_pools (id, cluster_id, organization_id, name, live_name, machine_type, node_count, autoscale_min, autoscale_max,
                              version, labels, taints, max_surge, max_unavailable, status, updated_at)
      SELECT p.id, ${clusterId}, ${organizationId}, p.name, p.name, p.machine_type, p.node_count, p.autoscale_min, p.autoscale_max,
             ${version}, p.labels, p.taints, p.max_surge, p.max_unavailable, 'provisioning', now()
      FROM unnest(${pools.map((p) => p.id)}::text[], ${pools.map((p) => p.name)}::text[], ${pools.map((p) => p.machineType)}::text[],
                  ${pools.map((p) => p.nodeCount)}::int[], ${pools.map((p) => p.autoscaleMin)}::int[], ${pools.map((p) => p.autoscaleMax)}::int[],
                  ${pools.map((p) => JSON.stringify(p.labels))}::jsonb[], ${pools.map((p) => JSON.stringify(p.taints))}::jsonb[],
                  ${pools.map((p) => p.maxSurge)}::int[], ${pools.map((p) => p.maxUnavailable)}::int[])
        AS p(id, name, machine_type, node_count, autoscale_min, autoscale_max, labels, taints, max_surge, max_unavailable)
    ), maintenance AS (
      INSERT INTO maintenance_windows (cluster_id, time_zone, days, start_time, duration_minutes, updated_at)
      SELECT ${clusterId}, ${window?.timeZone ?? ''}, ${window?.days ?? []}::text[], ${window?.startTime ?? ''}, ${window?.durationMinutes ?? 0}, now()
      WHERE ${window !== null}
    )
    SELECT 1`;
}

function previousPoolOf(pool: ClusterWithRelations['nodePools'][number]) {
  return {
    nodeCount: pool.nodeCount,
    autoscaleMin: pool.autoscaleMin,
    autoscaleMax: pool.autoscaleMax,
    labels: pool.labels,
    taints: pool.taints,
    maxSurge: pool.maxSurge,
    maxUnavailable: pool.maxUnavailable,
    status: pool.status,
  };
}

function toPoolCounts(pool: Pick<NodePoolSpec, 'count' | 'autoscaling'>) {
  return { nodeCount: pool.count ?? pool.autoscaling?.min ?? 0, autoscaleMin: pool.autoscaling?.min ?? null, autoscaleMax: pool.autoscaling?.max ?? null };
}

function poolData(organizationId: string, pool: NodePoolSpec, version: string) {
  const counts = toPoolCounts(pool);
  return {
    id: newId('np'),
    organizationId,
    name: pool.name,
    liveName: pool.name,
    machineType: pool.machine_type,
    ...counts,
    version,
    labels: pool.labels ?? {},
    taints: pool.taints ?? [],
    maxSurge: pool.max_surge,
    maxUnavailable: pool.max_unavailable,
    status: 'provisioning' as const,
  };
}

function windowData(window: MaintenanceWindowSpec) {
  return { timeZone: window.time_zone, days: window.days, startTime: window.start_time, durationMinutes: window.duration_minutes };
}

export type ClusterView = ReturnType<typeof presentCluster>;
export type { ClusterWithRelations };
