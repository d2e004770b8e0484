import { type LabelRequirement, NotFoundError } from '@capstan/domain';
import { type db, Prisma, type PrismaTx, PrismaService } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { clusterRelations, type ClusterWithRelations } from './cluster-view';

export interface ClusterFilter {
  organizationId?: string;
  status?: db.ClusterStatus;
  provider?: db.Provider;
  labels?: LabelRequirement[];
  nameContains?: string;
  after?: string;
}

/**
 * Cluster reads, always scoped by organisation when a customer asks (staff pass none). A cluster
 * of another organisation is simply not found: the caller learns nothing of its existence.
 */
@Injectable()
export class ClustersRepository {
  constructor(private readonly prisma: PrismaService) {}

  async get(tx: PrismaTx, organizationId: string | undefined, id: string): Promise<ClusterWithRelations> {
    const cluster = await tx.cluster.findFirst({ where: { id, organizationId, deletedAt: null }, include: clusterRelations });
    if (!cluster) throw new NotFoundError('cluster', id);
    return cluster;
  }

  /** Locks the cluster row for the rest of the transaction, then reads it. */
  async getForUpdate(tx: PrismaTx, organizationId: string, id: string): Promise<ClusterWithRelations> {
    await tx.$queryRaw`SELECT id FROM clusters WHERE id = ${id} AND organization_id = ${organizationId} FOR UPDATE`;
    return this.get(tx, organizationId, id);
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
    }
    return this.prisma.cluster.findMany({ where, include: clusterRelations, orderBy: { id: 'asc' }, take: limit + 1 });
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
