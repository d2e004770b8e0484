import { ConflictError, NotFoundError, PreconditionFailedError } from '@capstan/domain';
import { decodeCursor, etagOf, matchesEtag, newId, type Page, Prisma, type RawTx, PrismaService, Sql, toPage } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type Actor } from '../auth/caller';
import { AuditLog, changesBetween } from '../audit/audit-log';


type OrganizationRow = Awaited<ReturnType<PrismaService['organization']['findFirstOrThrow']>>;

export interface OrganizationView {
  id: string;
  name: string;
  display_name: string;
  residency: string;
  plan: string;
  status: 'active' | 'suspended';
  suspended_reason: string | null;
  quota: { max_clusters: number; max_nodes: number };
  usage: { clusters: number; nodes: number };
  etag: string;
  created_at: string;
}

export interface Usage {
  clusters: number;
  nodes: number;
}

/** Organisations: what a customer sees of its own, and what staff do to any. */
@Injectable()
export class OrganizationsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sql: Sql,
    private readonly audit: AuditLog,
  ) {}

  async get(organizationId: string): Promise<OrganizationView> {
    const org = await this.prisma.organization.findUnique({ where: { id: organizationId } });
    if (!org) throw new NotFoundError('organization', organizationId);
    return present(org, await this.usage(organizationId));
  }

  /**
   * Clusters that exist and the nodes their pools may run (the autoscaling maximum where set),
   * which is what quotas limit. Inside a transaction (`tx`: quota checks, after the organisation
   * row is locked) on that transaction's client; otherwise on `Sql`.
   */
  async usage(organizationId: string, tx?: RawTx): Promise<Usage> {
    const query = usageQuery(organizationId);
    const [row] = tx ? await tx.$queryRaw<{ clusters: bigint; nodes: bigint | null }[]>(query) : await this.sql.rows<{ clusters: string; nodes: string | null }>(query);
    return { clusters: Number(row?.clusters ?? 0), nodes: Number(row?.nodes ?? 0) };
  }

  async list(filter: { q?: string; status?: 'active' | 'suspended' }, limit: number, cursor?: string): Promise<Page<OrganizationView>> {
    const after = decodeCursor(cursor);
    const rows = await this.prisma.organization.findMany({
      where: {
        status: filter.status,
        ...(filter.q ? { OR: [{ name: { contains: filter.q, mode: 'insensitive' } }, { displayName: { contains: filter.q, mode: 'insensitive' } }] } : {}),
        ...(after ? { id: { gt: after } } : {}),
      },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    const usages = await Promise.all(rows.slice(0, limit).map((row) => this.usage(row.id)));
    const byId = new Map(rows.slice(0, limit).map((row, i) => [row.id, usages[i]!]));
    return toPage(rows, limit, (row) => present(row, byId.get(row.id)!));
  }

  async create(
    actor: Actor,
    input: { name: string; displayName: string; residency: string; plan: string; maxClusters: number; maxNodes: number },
  ): Promise<OrganizationView> {
    const org = await this.prisma.$transaction(async (tx) => {
      if (await tx.organization.findUnique({ where: { name: input.name } })) {
        throw new ConflictError('name-taken', `an organisation named ${input.name} already exists`);
      }
      const created = await tx.organization.create({ data: { id: newId('org'), ...input } });
      await this.audit.record(tx, {
        organizationId: created.id,
        actor,
        action: 'organization.create',
        target: { type: 'organization', id: created.id },
        changes: changesBetween(null, created, ['name', 'displayName', 'residency', 'plan', 'maxClusters', 'maxNodes']),
      });
      return created;
    });
    return present(org, { clusters: 0, nodes: 0 });
  }

  async updateQuota(actor: Actor, organizationId: string, ifMatch: string | undefined, quota: { maxClusters?: number; maxNodes?: number }, reason: string) {
    return this.change(actor, organizationId, 'organization.update_quota', reason, ifMatch, () => quota);
  }

  async suspend(actor: Actor, organizationId: string, reason: string) {
    return this.change(actor, organizationId, 'organization.suspend', reason, undefined, (org) => {
      if (org.status === 'suspended') throw new ConflictError('already-suspended', `organisation ${org.id} is already suspended`);
      return { status: 'suspended' as const, suspendedReason: reason };
    });
  }

  async resume(actor: Actor, organizationId: string, reason: string) {
    return this.change(actor, organizationId, 'organization.resume', reason, undefined, (org) => {
      if (org.status === 'active') throw new ConflictError('not-suspended', `organisation ${org.id} is not suspended`);
      return { status: 'active' as const, suspendedReason: null };
    });
  }

  private async change(
    actor: Actor,
    organizationId: string,
    action: string,
    reason: string,
    ifMatch: string | undefined,
    next: (org: OrganizationRow) => Partial<Pick<OrganizationRow, 'status' | 'suspendedReason' | 'maxClusters' | 'maxNodes'>>,
  ): Promise<OrganizationView> {
    const updated = await this.prisma.$transaction(async (tx) => {
      const org = await tx.organization.findUnique({ where: { id: organizationId } });
      if (!org) throw new NotFoundError('organization', organizationId);
      if (ifMatch !== undefined && !matchesEtag(ifMatch, org.resourceVersion)) {
        throw new PreconditionFailedError(`organisation ${org.id} has changed since you read it (its etag is now ${etagOf(org.resourceVersion)})`);
      }
      const data = next(org);
      // The version in the WHERE makes a concurrent change lose cleanly instead of overwriting.
      const result = await tx.organization.updateMany({
        where: { id: org.id, resourceVersion: org.resourceVersion },
        data: { ...data, resourceVersion: { increment: 1 } },
      });
      if (result.count === 0) throw new PreconditionFailedError(`organisation ${org.id} was changed concurrently; read it again`);
      const after = await tx.organization.findUniqueOrThrow({ where: { id: org.id } });
      await this.audit.record(tx, {
        organizationId: org.id,
        actor,
        action,
        target: { type: 'organization', id: org.id },
        changes: changesBetween(org, after, ['status', 'suspendedReason', 'maxClusters', 'maxNodes']),
        reason,
      });
      return after;
    });
    return present(updated, await this.usage(updated.id));
  }
}

/** One statement: inside a transaction there is one connection, which runs one query at a time. */
export function usageQuery(organizationId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT (SELECT count(*) FROM clusters WHERE organization_id = ${organizationId} AND deleted_at IS NULL) AS clusters,
           (SELECT SUM(GREATEST(node_count, COALESCE(autoscale_max, node_count))) FROM node_pools
             WHERE organization_id = ${organizationId} AND deleted_at IS NULL) AS nodes`;
}

function present(org: OrganizationRow, usage: Usage): OrganizationView {
  return {
    id: org.id,
    name: org.name,
    display_name: org.displayName,
    residency: org.residency,
    plan: org.plan,
    status: org.status,
    suspended_reason: org.suspendedReason,
    quota: { max_clusters: org.maxClusters, max_nodes: org.maxNodes },
    usage,
    etag: etagOf(org.resourceVersion),
    created_at: org.createdAt.toISOString(),
  };
}
