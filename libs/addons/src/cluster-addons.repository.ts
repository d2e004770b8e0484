import { jsonb, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';

export interface ClusterAddonRow {
  clusterId: string;
  organizationId: string;
  name: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  status: string;
  statusMessage: string | null;
  installedVersion: string | null;
  observedAt: Date | null;
  billedSince: Date | null;
}

/**
 * `cluster_addons` (owned by libs/addons): a customer's choice per add-on and cluster, and what the
 * last operation read back from the cluster. Reads from the API take the caller's organisation;
 * the worker's steps address a cluster the engine already scoped.
 */
@Injectable()
export class ClusterAddonsRepository {
  async list(db: UnitOfWork, scope: { organizationId?: string; clusterId: string }): Promise<ClusterAddonRow[]> {
    let query = db.selectFrom('cluster_addons').selectAll().where('cluster_id', '=', scope.clusterId);
    if (scope.organizationId !== undefined) query = query.where('organization_id', '=', scope.organizationId);
    return (await query.orderBy('name').execute()).map((r) => ({
      clusterId: r.cluster_id,
      organizationId: r.organization_id,
      name: r.name,
      enabled: r.enabled,
      settings: (r.settings ?? {}) as Record<string, unknown>,
      status: r.status,
      statusMessage: r.status_message,
      installedVersion: r.installed_version,
      observedAt: r.observed_at,
      billedSince: r.billed_since,
    }));
  }

  /** Every add-on choice of these clusters, with what was read back from each (fleet advisories). */
  async ofClusters(
    db: UnitOfWork,
    clusterIds: readonly string[],
  ): Promise<{ clusterId: string; name: string; enabled: boolean; installedVersion: string | null }[]> {
    if (clusterIds.length === 0) return [];
    const rows = await db
      .selectFrom('cluster_addons')
      .select(['cluster_id', 'name', 'enabled', 'installed_version'])
      .where('cluster_id', 'in', [...new Set(clusterIds)])
      .execute();
    return rows.map((r) => ({ clusterId: r.cluster_id, name: r.name, enabled: r.enabled, installedVersion: r.installed_version }));
  }

  /** The customer's choice, in the transaction that also writes its operation. */
  async choose(
    db: UnitOfWork,
    row: { organizationId: string; clusterId: string; name: string; enabled: boolean; settings: Record<string, unknown> },
  ): Promise<void> {
    const now = new Date();
    await db
      .insertInto('cluster_addons')
      .values({
        cluster_id: row.clusterId,
        organization_id: row.organizationId,
        name: row.name,
        enabled: row.enabled,
        settings: jsonb(row.settings),
        status: 'pending',
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['cluster_id', 'name']).doUpdateSet({
          enabled: row.enabled,
          settings: jsonb(row.settings),
          status: 'pending',
          status_message: null,
          resource_version: sql<number>`cluster_addons.resource_version + 1`,
          updated_at: now,
        }),
      )
      .execute();
  }

  /** What an operation read back from the cluster; `billedSince` moves only when given. */
  async record(
    db: UnitOfWork,
    clusterId: string,
    name: string,
    result: { status: string; installedVersion: string | null; message: string | null; observedAt: Date; billedSince?: Date | null },
  ): Promise<void> {
    await db
      .updateTable('cluster_addons')
      .set({
        status: result.status,
        installed_version: result.installedVersion,
        status_message: result.message,
        observed_at: result.observedAt,
        ...(result.billedSince !== undefined ? { billed_since: result.billedSince } : {}),
        updated_at: result.observedAt,
      })
      .where('cluster_id', '=', clusterId)
      .where('name', '=', name)
      .execute();
  }
}
