import { type db, jsonb, newId, type UnitOfWork } from '@capstan/platform';
import { sql } from 'kysely';
import type { NodePoolRow } from './cluster-view';
import type { CreateClusterInput } from './use-cases/create-cluster';
import { type MaintenanceWindowSpec, type NodePoolSpec, toPoolCounts } from './use-cases/change-rows';
import type { NodePoolChange } from './use-cases/update-node-pool';

/*
 * Every write of the clusters library's tables (clusters, node_pools, maintenance_windows,
 * maintenance_exclusions), each
 * inside the unit of work of the use case that calls it (docs/architecture.md, Table owners).
 * Reads are ClustersRepository's. Statements Prisma filled `updated_at` in by itself set it here.
 */

/**
 * The cluster, its node pools and its maintenance window in one statement (data-modifying CTEs;
 * the foreign keys are checked at the end of the statement). Creates run under the organisation's
 * row lock, so every statement saved here is throughput for that organisation.
 */
export async function insertCluster(trx: UnitOfWork, clusterId: string, organizationId: string, input: CreateClusterInput, version: string): Promise<void> {
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
    .with('pools', (q) =>
      q
        .insertInto('node_pools')
        .values(input.node_pools.map((pool) => ({ ...poolRow(organizationId, pool, version), cluster_id: clusterId, updated_at: now }))),
    )
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

export async function setClusterStatus(trx: UnitOfWork, id: string, status: db.ClusterStatus, options: { bumpVersion?: boolean } = {}): Promise<void> {
  await trx
    .updateTable('clusters')
    .set((eb) => ({ status, updated_at: new Date(), ...(options.bumpVersion ? { resource_version: eb('resource_version', '+', 1) } : {}) }))
    .where('id', '=', id)
    .execute();
}

/** A cluster's settings (labels, flags, channel) and its maintenance window (null removes it). */
export async function updateClusterSettings(
  trx: UnitOfWork,
  id: string,
  input: {
    labels?: Record<string, string>;
    auto_upgrade?: boolean;
    deletion_protection?: boolean;
    release_channel?: db.ReleaseChannel;
    maintenance_window?: MaintenanceWindowSpec | null;
  },
): Promise<void> {
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
}

export async function insertNodePool(trx: UnitOfWork, organizationId: string, clusterId: string, spec: NodePoolSpec, version: string): Promise<NodePoolRow> {
  return trx
    .insertInto('node_pools')
    .values({ ...poolRow(organizationId, spec, version), cluster_id: clusterId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A pool's new size and settings, marked updating until the operation has applied them. */
export async function updateNodePool(
  trx: UnitOfWork,
  poolId: string,
  next: { nodeCount: number; autoscaleMin: number | null; autoscaleMax: number | null; maxSurge: number; maxUnavailable: number },
  change: Pick<NodePoolChange, 'labels' | 'taints'>,
): Promise<NodePoolRow> {
  return trx
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
}

export async function markNodePoolDeleting(trx: UnitOfWork, poolId: string): Promise<void> {
  await trx
    .updateTable('node_pools')
    .set((eb) => ({ status: 'deleting', resource_version: eb('resource_version', '+', 1), updated_at: new Date() }))
    .where('id', '=', poolId)
    .execute();
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

/** A new maintenance exclusion of the cluster. */
export async function insertMaintenanceExclusion(
  trx: UnitOfWork,
  clusterId: string,
  exclusion: { name: string; scope: db.ExclusionScope; startsAt: Date; endsAt: Date },
  now: Date,
): Promise<string> {
  const id = newId('mx');
  await trx
    .insertInto('maintenance_exclusions')
    .values({
      id,
      cluster_id: clusterId,
      name: exclusion.name,
      scope: exclusion.scope,
      starts_at: exclusion.startsAt,
      ends_at: exclusion.endsAt,
      created_at: now,
    })
    .execute();
  return id;
}

export async function deleteMaintenanceExclusion(trx: UnitOfWork, clusterId: string, id: string): Promise<void> {
  await trx.deleteFrom('maintenance_exclusions').where('id', '=', id).where('cluster_id', '=', clusterId).execute();
}
