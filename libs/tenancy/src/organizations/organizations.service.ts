import { ConflictError, NotFoundError, PreconditionFailedError } from '@capstan/domain';
import { CompiledOnce, Database, decodeCursor, etagOf, matchesEtag, newId, type Page, toPage, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { DB } from '@capstan/platform';
import { type Actor } from '../auth/caller';
import { AuditLog, changesBetween } from '../audit/audit-log';

type OrganizationRow = Selectable<DB['organizations']>;

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

/**
 * What an organisation uses of its quota: clusters that exist and the nodes their pools may run.
 * Tenancy owns the quota but not the clusters, so the library that owns them provides this
 * (`ClusterUsage` in libs/clusters; docs/architecture.md, Table owners): a port, not a query here.
 */
export abstract class OrganizationUsage {
  /** Inside a transaction (`uow`, after the organisation's row is locked) it sees that transaction's rows. */
  abstract usage(organizationId: string, uow?: UnitOfWork): Promise<Usage>;
}

/** Organisations: what a customer sees of its own, and what staff do to any. */
@Injectable()
export class OrganizationsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly usages: OrganizationUsage,
  ) {}

  async get(organizationId: string): Promise<OrganizationView> {
    const org = await this.db.selectFrom('organizations').selectAll().where('id', '=', organizationId).executeTakeFirst();
    if (!org) throw new NotFoundError('organization', organizationId);
    return present(org, await this.usage(organizationId));
  }

  /** See OrganizationUsage. */
  usage(organizationId: string, uow?: UnitOfWork): Promise<Usage> {
    return this.usages.usage(organizationId, uow);
  }

  async list(filter: { q?: string; status?: 'active' | 'suspended' }, limit: number, cursor?: string): Promise<Page<OrganizationView>> {
    const after = decodeCursor(cursor, 'org');
    let query = this.db.selectFrom('organizations').selectAll();
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.q) {
      const pattern = `%${filter.q.replace(/[\\%_]/g, '\\$&')}%`;
      query = query.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('display_name', 'ilike', pattern)]));
    }
    if (after) query = query.where('id', '>', after);
    const rows = await query
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    const usages = await Promise.all(rows.slice(0, limit).map((row) => this.usage(row.id)));
    const byId = new Map(rows.slice(0, limit).map((row, i) => [row.id, usages[i]!]));
    return toPage(rows, limit, (row) => present(row, byId.get(row.id)!));
  }

  async create(
    actor: Actor,
    input: { name: string; displayName: string; residency: string; plan: string; maxClusters: number; maxNodes: number },
  ): Promise<OrganizationView> {
    const org = await this.db.transaction().execute(async (trx) => {
      if (await trx.selectFrom('organizations').select('id').where('name', '=', input.name).executeTakeFirst()) {
        throw new ConflictError('name-taken', `an organisation named ${input.name} already exists`);
      }
      const created = await trx
        .insertInto('organizations')
        .values({
          id: newId('org'),
          name: input.name,
          display_name: input.displayName,
          residency: input.residency,
          plan: input.plan,
          max_clusters: input.maxClusters,
          max_nodes: input.maxNodes,
          updated_at: new Date(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.audit.record(trx, {
        organizationId: created.id,
        actor,
        action: 'organization.create',
        target: { type: 'organization', id: created.id },
        changes: changesBetween(null, audited(created), ['name', 'displayName', 'residency', 'plan', 'maxClusters', 'maxNodes']),
      });
      return created;
    });
    return present(org, { clusters: 0, nodes: 0 });
  }

  async updateQuota(actor: Actor, organizationId: string, ifMatch: string | undefined, quota: { maxClusters?: number; maxNodes?: number }, reason: string) {
    return this.change(actor, organizationId, 'organization.update_quota', reason, ifMatch, () => ({
      max_clusters: quota.maxClusters,
      max_nodes: quota.maxNodes,
    }));
  }

  async suspend(actor: Actor, organizationId: string, reason: string) {
    return this.change(actor, organizationId, 'organization.suspend', reason, undefined, (org) => {
      if (org.status === 'suspended') throw new ConflictError('already-suspended', `organisation ${org.id} is already suspended`);
      return { status: 'suspended' as const, suspended_reason: reason };
    });
  }

  async resume(actor: Actor, organizationId: string, reason: string) {
    return this.change(actor, organizationId, 'organization.resume', reason, undefined, (org) => {
      if (org.status === 'active') throw new ConflictError('not-suspended', `organisation ${org.id} is not suspended`);
      return { status: 'active' as const, suspended_reason: null };
    });
  }

  private async change(
    actor: Actor,
    organizationId: string,
    action: string,
    reason: string,
    ifMatch: string | undefined,
    next: (org: OrganizationRow) => Partial<Pick<OrganizationRow, 'status' | 'suspended_reason' | 'max_clusters' | 'max_nodes'>>,
  ): Promise<OrganizationView> {
    const updated = await this.db.transaction().execute(async (trx) => {
      const org = await trx.selectFrom('organizations').selectAll().where('id', '=', organizationId).executeTakeFirst();
      if (!org) throw new NotFoundError('organization', organizationId);
      if (ifMatch !== undefined && !matchesEtag(ifMatch, org.resource_version)) {
        throw new PreconditionFailedError(`organisation ${org.id} has changed since you read it (its etag is now ${etagOf(org.resource_version)})`);
      }
      const data = next(org);
      // The version in the WHERE makes a concurrent change lose cleanly instead of overwriting.
      const after = await trx
        .updateTable('organizations')
        .set((eb) => ({ ...data, resource_version: eb('resource_version', '+', 1), updated_at: new Date() }))
        .where('id', '=', org.id)
        .where('resource_version', '=', org.resource_version)
        .returningAll()
        .executeTakeFirst();
      if (!after) throw new PreconditionFailedError(`organisation ${org.id} was changed concurrently; read it again`);
      await this.audit.record(trx, {
        organizationId: org.id,
        actor,
        action,
        target: { type: 'organization', id: org.id },
        changes: changesBetween(audited(org), audited(after), ['status', 'suspendedReason', 'maxClusters', 'maxNodes']),
        reason,
      });
      return after;
    });
    return present(updated, await this.usage(updated.id));
  }
}

const organizationLock = new CompiledOnce((db, p: { organizationId: string }) =>
  db.selectFrom('organizations').select(['id', 'residency', 'max_clusters', 'max_nodes']).where('id', '=', p.organizationId).forNoKeyUpdate(),
);

/**
 * Locks the organisation's row for the rest of the transaction `trx` and reads what a change under
 * its quota needs. Every library that serialises per-organisation changes (cluster creates, node
 * quota, webhook limits) takes this lock through here (docs/architecture.md, Locks and units of
 * work): first, except a cluster create, which takes it last.
 *
 * FOR NO KEY UPDATE, not FOR UPDATE: it serialises these changes just the same (it conflicts with
 * itself), but not with the FOR KEY SHARE lock that every insert referencing the organisation
 * (a cluster, an operation, an audit event) takes on it. Under FOR UPDATE, two creates that
 * each inserted their rows and then asked for the lock would wait on each other's key-share
 * lock: a deadlock.
 */
export async function lockOrganization(
  trx: UnitOfWork,
  organizationId: string,
): Promise<Pick<OrganizationRow, 'id' | 'residency' | 'max_clusters' | 'max_nodes'>> {
  const org = await organizationLock.executeTakeFirst(trx, { organizationId });
  if (!org) throw new NotFoundError('organization', organizationId);
  return org;
}

/** The audit log keeps the field names it has always had (camelCase), whatever the row's. */
function audited(org: OrganizationRow) {
  return {
    name: org.name,
    displayName: org.display_name,
    residency: org.residency,
    plan: org.plan,
    status: org.status,
    suspendedReason: org.suspended_reason,
    maxClusters: org.max_clusters,
    maxNodes: org.max_nodes,
  };
}

function present(org: OrganizationRow, usage: Usage): OrganizationView {
  return {
    id: org.id,
    name: org.name,
    display_name: org.display_name,
    residency: org.residency,
    plan: org.plan,
    status: org.status,
    suspended_reason: org.suspended_reason,
    quota: { max_clusters: org.max_clusters, max_nodes: org.max_nodes },
    usage,
    etag: etagOf(org.resource_version),
    created_at: org.created_at.toISOString(),
  };
}
