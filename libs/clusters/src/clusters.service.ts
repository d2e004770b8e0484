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
import { clusterRoutes, type RouteInput, type z } from '@capstan/contracts';
import { presentOperation } from '@capstan/operations';
import { ClusterProvider, externalClusterName } from '@capstan/providers';
import { Clock, Database, type db, decodeCursor, jsonb, matchesEtag, etagOf, newId, type Page, toPage, type UnitOfWork } from '@capstan/platform';
import { AuditLog, changesBetween, OrganizationsService } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { ClusterUnitOfWork, type Requester } from './cluster-change';
import { type ClusterWithRelations, type NodePoolRow, presentCluster, presentMaintenanceWindow, presentNodePool } from './cluster-view';
import { ClustersRepository } from './clusters.repository';
import { renderKubeconfig } from './kubeconfig';

/** Request bodies as the route contracts parse them. */
export type NodePoolSpec = z.infer<typeof clusterRoutes.nodePoolSpec>;
export type MaintenanceWindowSpec = z.infer<typeof clusterRoutes.maintenanceWindow>;
export type CreateClusterInput = z.infer<typeof clusterRoutes.createClusterBody>;
export type UpdateClusterInput = z.infer<typeof clusterRoutes.updateClusterBody>;
export type NodePoolChange = RouteInput<typeof clusterRoutes.updateNodePool>['body'];
export type { Requester };

/**
 * Cluster use cases. Every change runs in one transaction with the cluster row locked, so the
 * checks (state, one operation at a time, quota, etag) and the change, its operation, its outbox
 * message and its audit event commit together or not at all.
 */
@Injectable()
export class ClustersService {
  constructor(
    private readonly db: Database,
    private readonly clusters: ClustersRepository,
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly provider: ClusterProvider,
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
    await this.audit.record(this.db, {
      organizationId: requester.organizationId,
      actor: requester.actor,
      action: 'cluster.kubeconfig',
      target: { type: 'cluster', id },
      changes: { credential_expires_at: { after: credentials.expiresAt.toISOString() } },
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
    return toPage(await this.rows(filter, limit, cursor), limit, (row) => ({ ...presentCluster(row), organization_id: row.organization_id }));
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

    // Creates of one organisation queue on its row, so two cannot both squeeze under the quota.
    const { cluster, operation } = await this.unitOfWork.run(requester, { organization: true }, async ({ trx, organization, enqueue, audit }) => {
      assertRegionAllowed(input.region, input.provider, organization!.residency);
      const usage = await this.organizations.usage(requester.organizationId, trx);
      assertWithinQuota({ maxClusters: organization!.max_clusters, maxNodes: organization!.max_nodes }, usage, {
        clusters: 1,
        nodes: input.node_pools.reduce((sum, pool) => sum + nodeCountOf(toPoolCounts(pool)), 0),
      });
      const existing = await this.clusters.idByName(trx, requester.organizationId, input.name);
      if (existing) throw new ConflictError('name-taken', `a cluster named ${input.name} already exists (${existing})`, { cluster_id: existing });

      const clusterId = newId('cl');
      await insertCluster(trx, clusterId, requester.organizationId, input, version.patch);
      const op = await enqueue({ clusterId, type: 'create_cluster', target: { type: 'cluster', id: clusterId }, params: { version: version.patch } });
      const created = await this.clusters.get(requester.organizationId, clusterId, trx);
      await audit({
        action: 'cluster.create',
        target: { type: 'cluster', id: clusterId },
        changes: changesBetween(null, audited(created), ['name', 'provider', 'region', 'currentVersion', 'labels', 'deletionProtection', 'nodePools']),
      });
      return { cluster: created, operation: op };
    });
    return { cluster: presentCluster(cluster, version.warnings), operation: presentOperation(operation) };
  }

  async update(requester: Requester, id: string, ifMatch: string | undefined, input: UpdateClusterInput) {
    const updated = await this.unitOfWork.run(requester, { clusterId: id }, async ({ trx, cluster, audit }) => {
      const before = cluster!;
      assertEtag('cluster', before.id, before.resource_version, ifMatch);
      if (before.status === 'deleting') throw new ConflictError('cluster-state-conflict', `cluster ${id} is being deleted; it can no longer be changed`);
      await trx
        .updateTable('clusters')
        .set((eb) => ({
          labels: input.labels === undefined ? undefined : jsonb(input.labels),
          auto_upgrade: input.auto_upgrade,
          deletion_protection: input.deletion_protection,
          release_channel: input.release_channel,
          resource_version: eb('resource_version', '+', 1),
          updated_at: new Date(),
        }))
        .where('id', '=', id)
        .execute();
      if (input.maintenance_window === null) await trx.deleteFrom('maintenance_windows').where('cluster_id', '=', id).execute();
      if (input.maintenance_window) {
        const window = windowRow(input.maintenance_window);
        await trx
          .insertInto('maintenance_windows')
          .values({ cluster_id: id, ...window })
          .onConflict((conflict) => conflict.column('cluster_id').doUpdateSet(window))
          .execute();
      }
      const after = await this.clusters.get(requester.organizationId, id, trx);
      await audit({
        action: 'cluster.update',
        target: { type: 'cluster', id },
        changes: changesBetween(audited(before), audited(after), ['labels', 'autoUpgrade', 'deletionProtection', 'releaseChannel', 'maintenanceWindow']),
      });
      return after;
    });
    return presentCluster(updated);
  }

  async delete(requester: Requester, id: string) {
    const operation = await this.unitOfWork.run(requester, { clusterId: id }, async ({ trx, cluster, active, enqueue, audit }) => {
      const before = cluster!;
      if (before.deletion_protection) {
        throw new ConflictError('deletion-protected', `cluster ${id} has deletion protection; set deletion_protection to false first`);
      }
      assertClusterAccepts(before, 'delete_cluster', active);
      await setClusterStatus(trx, id, clusterStatusDuring('delete_cluster'), { bumpVersion: true });
      const op = await enqueue({ clusterId: id, type: 'delete_cluster', target: { type: 'cluster', id }, params: { previousClusterStatus: before.status } });
      await audit({ action: 'cluster.delete', target: { type: 'cluster', id }, changes: { status: { before: before.status, after: 'deleting' } } });
      return op;
    });
    return { operation: presentOperation(operation) };
  }

  // ---------------------------------------------------------------- node pools

  async listNodePools(organizationId: string, clusterId: string, limit: number, cursor?: string) {
    await this.clusters.get(organizationId, clusterId);
    const rows = await this.clusters.nodePools(organizationId, clusterId, limit, decodeCursor(cursor));
    return toPage(rows, limit, presentNodePool);
  }

  async getNodePool(organizationId: string, clusterId: string, poolId: string) {
    return presentNodePool(await this.clusters.nodePool(organizationId, clusterId, poolId));
  }

  async createNodePool(requester: Requester, clusterId: string, spec: NodePoolSpec) {
    return this.unitOfWork.run(requester, { organization: true, clusterId }, async ({ trx, organization, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      assertClusterAccepts(owner, 'create_node_pool', active);
      assertMachineType(spec.machine_type, owner.provider);
      await this.assertNodeQuota(trx, requester.organizationId, organization!, nodeCountOf(toPoolCounts(spec)));
      if (owner.node_pools.some((p) => p.name === spec.name)) {
        throw new ConflictError('name-taken', `cluster ${clusterId} already has a node pool named ${spec.name}`);
      }
      const pool = await trx
        .insertInto('node_pools')
        .values({ ...poolRow(requester.organizationId, spec, owner.current_version), cluster_id: clusterId })
        .returningAll()
        .executeTakeFirstOrThrow();
      await setClusterStatus(trx, clusterId, clusterStatusDuring('create_node_pool'));
      const op = await enqueue({ clusterId, type: 'create_node_pool', target: { type: 'node_pool', id: pool.id }, params: { previousClusterStatus: owner.status } });
      await audit({
        action: 'node_pool.create',
        target: { type: 'node_pool', id: pool.id },
        changes: changesBetween(null, auditedPool(pool), ['name', 'machineType', 'nodeCount', 'autoscaleMin', 'autoscaleMax', 'labels', 'taints']),
      });
      return { node_pool: presentNodePool(pool), operation: presentOperation(op) };
    });
  }

  async updateNodePool(requester: Requester, clusterId: string, poolId: string, ifMatch: string | undefined, change: NodePoolChange) {
    // Growth is known only after the pool is read, so the organisation is locked up front, first.
    return this.unitOfWork.run(requester, { organization: true, clusterId }, async ({ trx, organization, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      const pool = owner.node_pools.find((p) => p.id === poolId);
      if (!pool) throw new NotFoundError('node pool', poolId);
      assertEtag('node pool', pool.id, pool.resource_version, ifMatch);
      const onlyScaling = Object.keys(change).every((k) => k === 'count' || k === 'autoscaling');
      const type = onlyScaling ? 'scale_node_pool' : 'update_node_pool';
      assertClusterAccepts(owner, type, active);

      const autoscaling = change.autoscaling === undefined ? (pool.autoscale_min !== null ? { min: pool.autoscale_min, max: pool.autoscale_max! } : null) : change.autoscaling;
      const next = {
        nodeCount: change.count ?? (autoscaling ? Math.min(Math.max(pool.node_count, autoscaling.min), autoscaling.max) : pool.node_count),
        autoscaleMin: autoscaling?.min ?? null,
        autoscaleMax: autoscaling?.max ?? null,
        maxSurge: change.max_surge ?? pool.max_surge,
        maxUnavailable: change.max_unavailable ?? pool.max_unavailable,
      };
      if (autoscaling && autoscaling.min > autoscaling.max) {
        throw new ConflictError('invalid-autoscaling', `autoscaling.min ${autoscaling.min} exceeds autoscaling.max ${autoscaling.max}`);
      }
      if (next.maxSurge === 0 && next.maxUnavailable === 0) {
        throw new ConflictError('invalid-surge', 'max_surge and max_unavailable cannot both be 0: an upgrade could never replace a node');
      }
      const growth = nodeCountOf(next) - nodeCountOf(auditedPool(pool));
      if (growth > 0) await this.assertNodeQuota(trx, requester.organizationId, organization!, growth);

      const updated = await trx
        .updateTable('node_pools')
        .set((eb) => ({
          node_count: next.nodeCount,
          autoscale_min: next.autoscaleMin,
          autoscale_max: next.autoscaleMax,
          max_surge: next.maxSurge,
          max_unavailable: next.maxUnavailable,
          labels: change.labels === undefined ? undefined : jsonb(change.labels),
          taints: change.taints === undefined ? undefined : jsonb(change.taints),
          status: 'updating',
          resource_version: eb('resource_version', '+', 1),
          updated_at: new Date(),
        }))
        .where('id', '=', poolId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await setClusterStatus(trx, clusterId, clusterStatusDuring(type));
      const op = await enqueue({
        clusterId,
        type,
        target: { type: 'node_pool', id: poolId },
        params: { change, previousClusterStatus: owner.status, previousPool: previousPoolOf(pool) },
      });
      await audit({
        action: onlyScaling ? 'node_pool.scale' : 'node_pool.update',
        target: { type: 'node_pool', id: poolId },
        changes: changesBetween(auditedPool(pool), auditedPool(updated), ['nodeCount', 'autoscaleMin', 'autoscaleMax', 'labels', 'taints', 'maxSurge', 'maxUnavailable']),
      });
      return { node_pool: presentNodePool(updated), operation: presentOperation(op) };
    });
  }

  async deleteNodePool(requester: Requester, clusterId: string, poolId: string) {
    return this.unitOfWork.run(requester, { clusterId }, async ({ trx, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      const pool = owner.node_pools.find((p) => p.id === poolId);
      if (!pool) throw new NotFoundError('node pool', poolId);
      assertClusterAccepts(owner, 'delete_node_pool', active);
      if (owner.node_pools.length === 1) {
        throw new ConflictError('last-node-pool', `node pool ${poolId} is the last one of cluster ${clusterId}; delete the cluster instead`);
      }
      await trx
        .updateTable('node_pools')
        .set((eb) => ({ status: 'deleting', resource_version: eb('resource_version', '+', 1), updated_at: new Date() }))
        .where('id', '=', poolId)
        .execute();
      await setClusterStatus(trx, clusterId, clusterStatusDuring('delete_node_pool'));
      const op = await enqueue({
        clusterId,
        type: 'delete_node_pool',
        target: { type: 'node_pool', id: poolId },
        params: { previousClusterStatus: owner.status, previousPool: previousPoolOf(pool) },
      });
      await audit({ action: 'node_pool.delete', target: { type: 'node_pool', id: poolId }, changes: { status: { before: pool.status, after: 'deleting' } } });
      return { operation: presentOperation(op) };
    });
  }

  private async assertNodeQuota(trx: UnitOfWork, organizationId: string, organization: { max_clusters: number; max_nodes: number }, addingNodes: number): Promise<void> {
    const usage = await this.organizations.usage(organizationId, trx);
    assertWithinQuota({ maxClusters: organization.max_clusters, maxNodes: organization.max_nodes }, usage, { nodes: addingNodes });
  }
}

function assertEtag(resource: string, id: string, resourceVersion: number, ifMatch: string | undefined): void {
  if (ifMatch !== undefined && !matchesEtag(ifMatch, resourceVersion)) {
    throw new PreconditionFailedError(`${resource} ${id} has changed since you read it; its etag is now ${etagOf(resourceVersion)}`, { etag: etagOf(resourceVersion) });
  }
}

async function setClusterStatus(trx: UnitOfWork, id: string, status: db.ClusterStatus, options: { bumpVersion?: boolean } = {}): Promise<void> {
  await trx
    .updateTable('clusters')
    .set((eb) => ({ status, updated_at: new Date(), ...(options.bumpVersion ? { resource_version: eb('resource_version', '+', 1) } : {}) }))
    .where('id', '=', id)
    .execute();
}

/**
 * The cluster, its node pools and its maintenance window in one statement (data-modifying CTEs;
 * the foreign keys are checked at the end of the statement). Creates run under the organisation's
 * row lock, so every statement saved here is throughput for that organisation.
 */
async function insertCluster(trx: UnitOfWork, clusterId: string, organizationId: string, input: CreateClusterInput, version: string): Promise<void> {
  const now = new Date();
  const window = input.maintenance_window ? windowRow(input.maintenance_window) : null;
  await trx
    .with('cluster', (q) =>
      q.insertInto('clusters').values({
        id: clusterId,
        organization_id: organizationId,
        name: input.name,
        live_name: input.name,
        provider: input.provider,
        region: input.region,
        release_channel: input.release_channel,
        current_version: version,
        desired_version: version,
        status: 'provisioning',
        auto_upgrade: input.auto_upgrade,
        deletion_protection: input.deletion_protection,
        labels: jsonb(input.labels),
        updated_at: now,
      }),
    )
    .with('pools', (q) => q.insertInto('node_pools').values(input.node_pools.map((pool) => ({ ...poolRow(organizationId, pool, version), cluster_id: clusterId, updated_at: now }))))
    .with('maintenance', (q) =>
      q
        .insertInto('maintenance_windows')
        .columns(['cluster_id', 'time_zone', 'days', 'start_time', 'duration_minutes', 'updated_at'])
        .expression(
          trx
            .selectNoFrom([
              sql<string>`${clusterId}::text`.as('cluster_id'),
              sql<string>`${window?.time_zone ?? ''}::text`.as('time_zone'),
              sql<string[]>`${window?.days ?? []}::text[]`.as('days'),
              sql<string>`${window?.start_time ?? ''}::text`.as('start_time'),
              sql<number>`${window?.duration_minutes ?? 0}::int`.as('duration_minutes'),
              sql<Date>`${now}::timestamptz`.as('updated_at'),
            ])
            .where(sql<boolean>`${window !== null}`),
        ),
    )
    .selectNoFrom(sql<number>`1`.as('done'))
    .execute();
}

/** The audit log keeps the field names it has always had (camelCase), whatever the row's. */
function audited(cluster: ClusterWithRelations) {
  return {
    name: cluster.name,
    provider: cluster.provider,
    region: cluster.region,
    currentVersion: cluster.current_version,
    labels: cluster.labels,
    autoUpgrade: cluster.auto_upgrade,
    deletionProtection: cluster.deletion_protection,
    releaseChannel: cluster.release_channel,
    maintenanceWindow: presentMaintenanceWindow(cluster.maintenance_window),
    nodePools: cluster.node_pools.map((p) => p.name),
  };
}

function auditedPool(pool: NodePoolRow) {
  return {
    name: pool.name,
    machineType: pool.machine_type,
    nodeCount: pool.node_count,
    autoscaleMin: pool.autoscale_min,
    autoscaleMax: pool.autoscale_max,
    labels: pool.labels,
    taints: pool.taints,
    maxSurge: pool.max_surge,
    maxUnavailable: pool.max_unavailable,
  };
}

/** Kept in the operation's params (camelCase, as the operations library reads them) so a cancel can put it back. */
function previousPoolOf(pool: NodePoolRow) {
  return {
    nodeCount: pool.node_count,
    autoscaleMin: pool.autoscale_min,
    autoscaleMax: pool.autoscale_max,
    labels: pool.labels,
    taints: pool.taints,
    maxSurge: pool.max_surge,
    maxUnavailable: pool.max_unavailable,
    status: pool.status,
  };
}

function toPoolCounts(pool: Pick<NodePoolSpec, 'count' | 'autoscaling'>) {
  return { nodeCount: pool.count ?? pool.autoscaling?.min ?? 0, autoscaleMin: pool.autoscaling?.min ?? null, autoscaleMax: pool.autoscaling?.max ?? null };
}

function poolRow(organizationId: string, pool: NodePoolSpec, version: string) {
  const counts = toPoolCounts(pool);
  return {
    id: newId('np'),
    organization_id: organizationId,
    name: pool.name,
    live_name: pool.name,
    machine_type: pool.machine_type,
    node_count: counts.nodeCount,
    autoscale_min: counts.autoscaleMin,
    autoscale_max: counts.autoscaleMax,
    version,
    labels: jsonb(pool.labels ?? {}),
    taints: jsonb(pool.taints ?? []),
    max_surge: pool.max_surge,
    max_unavailable: pool.max_unavailable,
    status: 'provisioning' as const,
    updated_at: new Date(),
  };
}

function windowRow(window: MaintenanceWindowSpec) {
  return { time_zone: window.time_zone, days: window.days, start_time: window.start_time, duration_minutes: window.duration_minutes, updated_at: new Date() };
}

export type ClusterView = ReturnType<typeof presentCluster>;
export type { ClusterWithRelations };
