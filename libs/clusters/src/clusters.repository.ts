import { type LabelRequirement, NotFoundError } from '@capstan/domain';
import { type db, Prisma, type PrismaTx, PrismaService, type RawTx, Sql } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { CLUSTER_WITH_RELATIONS_SQL, clusterFromRow } from './cluster-rows';
import { clusterRelations, type ClusterWithRelations } from './cluster-view';

export interface ClusterFilter {
  organizationId?: string;
  status?: db.ClusterStatus;
  provider?: db.Provider;
  labels?: LabelRequirement[];
  nameContains?: string;
  after?: string;
}

/** One live cluster with its relations; `organizationId` undefined for staff. */
export function clusterQuery(organizationId: string | undefined, id: string): Prisma.Sql {
  return Prisma.sql`${CLUSTER_WITH_RELATIONS_SQL}
    WHERE c.id = ${id} AND c.deleted_at IS NULL ${organizationId === undefined ? Prisma.empty : Prisma.sql`AND c.organization_id = ${organizationId}`}`;
}

/** A page of live clusters, oldest first, `limit + 1` rows (the filter's label selector aside). */
export function clusterPageQuery(filter: Omit<ClusterFilter, 'labels'>, limit: number): Prisma.Sql {
  const conditions = [Prisma.sql`c.deleted_at IS NULL`];
  if (filter.organizationId) conditions.push(Prisma.sql`c.organization_id = ${filter.organizationId}`);
  if (filter.status) conditions.push(Prisma.sql`c.status = ${filter.status}::"ClusterStatus"`);
  if (filter.provider) conditions.push(Prisma.sql`c.provider = ${filter.provider}::"Provider"`);
  if (filter.nameContains) conditions.push(Prisma.sql`c.name LIKE ${`%${filter.nameContains.replace(/[\\%_]/g, '\\$&')}%`}`);
  if (filter.after) conditions.push(Prisma.sql`c.id > ${filter.after}`);
  return Prisma.sql`${CLUSTER_WITH_RELATIONS_SQL}
    WHERE ${Prisma.join(conditions, ' AND ')} ORDER BY c.id LIMIT ${limit + 1}`;
}

/**
 * Cluster reads, always scoped by organisation when a customer asks (staff pass none). A cluster
 * of another organisation is simply not found: the caller learns nothing of its existence.
 * Reads outside a transaction (GET, list) run on `Sql`; inside one, on the transaction's client.
 */
@Injectable()
export class ClustersRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sql: Sql,
  ) {}

  /** Outside any transaction (what a GET sees). */
  async get(organizationId: string | undefined, id: string): Promise<ClusterWithRelations> {
    const [row] = await this.sql.rows(clusterQuery(organizationId, id));
    if (!row) throw new NotFoundError('cluster', id);
    return clusterFromRow(row);
  }

  /** Inside the transaction `tx`, so it sees that transaction's own changes. */
  async getIn(tx: RawTx, organizationId: string | undefined, id: string): Promise<ClusterWithRelations> {
    const [row] = await tx.$queryRaw<Record<string, unknown>[]>(clusterQuery(organizationId, id));
    if (!row) throw new NotFoundError('cluster', id);
    return clusterFromRow(row);
  }

  /** Locks the cluster row for the rest of the transaction, then reads it. */
  async getForUpdate(tx: PrismaTx, organizationId: string, id: string): Promise<ClusterWithRelations> {
    await tx.$queryRaw`SELECT id FROM clusters WHERE id = ${id} AND organization_id = ${organizationId} FOR UPDATE`;
    return this.getIn(tx, organizationId, id);
  }

  /** Oldest first, `limit + 1` rows so the caller can tell whether another page exists. */
  async list(filter: ClusterFilter, limit: number): Promise<ClusterWithRelations[]> {
    const where: Prisma.ClusterWhereInput = {
      organizationId: filter.organizationId,
      deletedAt: null,
      status: filter.status,
      provider: filter.provider,
      ...(filter.nameContains ? { name: { contains: filter.nameContains } } : {}),
      ...(filter.after ? { id: { gt: filter.after } } : {}),
    };
    if (filter.labels && filter.labels.length > 0) {
      where.id = { in: await this.idsMatching(filter, limit), ...(filter.after ? { gt: filter.after } : {}) };
      return this.prisma.cluster.findMany({ where, include: clusterRelations, orderBy: { id: 'asc' }, take: limit + 1 });
    }
    // The common page (no label selector) in one statement.
    const rows = await this.sql.rows(clusterPageQuery(filter, limit));
    return rows.map(clusterFromRow);
  }

  /** Label selectors run in SQL on the jsonb column (`@>` for equality, `?` for existence). */
  private async idsMatching(filter: ClusterFilter, limit: number): Promise<string[]> {
    const conditions = [Prisma.sql`deleted_at IS NULL`];
    if (filter.organizationId) conditions.push(Prisma.sql`organization_id = ${filter.organizationId}`);
    if (filter.after) conditions.push(Prisma.sql`id > ${filter.after}`);
    for (const req of filter.labels ?? []) {
      const pair = JSON.stringify({ [req.key]: req.value ?? '' });
      if (req.op === '=') conditions.push(Prisma.sql`labels @> ${pair}::jsonb`);
      if (req.op === '!=') conditions.push(Prisma.sql`NOT (labels @> ${pair}::jsonb)`);
      if (req.op === 'exists') conditions.push(Prisma.sql`labels ? ${req.key}`);
      if (req.op === '!exists') conditions.push(Prisma.sql`NOT (labels ? ${req.key})`);
    }
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id FROM clusters WHERE ${Prisma.join(conditions, ' AND ')} ORDER BY id LIMIT ${limit + 1}`;
    return rows.map((r) => r.id);
  }
}
