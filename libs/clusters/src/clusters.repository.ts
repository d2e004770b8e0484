import { type LabelRequirement, NotFoundError } from '@capstan/domain';
import { CompiledOnce, Database, type db, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type Expression, type SqlBool, sql } from 'kysely';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import { CLUSTER_COLUMNS, type ClusterWithRelations, type FetchedNodePool, NODE_POOL_COLUMNS, type NodePoolRow, WINDOW_COLUMNS } from './cluster-view';

export interface ClusterFilter {
  organizationId?: string;
  status?: db.ClusterStatus;
  provider?: db.Provider;
  labels?: LabelRequirement[];
  nameContains?: string;
  /** A minor (`1.31`: any of its patches) or an exact version (`1.31.4`) the control plane runs. */
  version?: string;
  /** Only clusters whose control plane runs one of these minors of its provider (any patch); none matches nothing. */
  minors?: readonly { provider: db.Provider; minor: string }[];
  after?: string;
}

/**
 * A cluster with its live node pools and maintenance window in ONE statement, for the read paths
 * customers hit most (get and list): the relations come back as JSON built in the same query.
 */
function clustersWithRelations(db: UnitOfWork) {
  return db
    .selectFrom('clusters as c')
    .select(CLUSTER_COLUMNS.map((column) => `c.${column}` as const))
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('node_pools as p')
          .select(NODE_POOL_COLUMNS.map((column) => `p.${column}` as const))
          .whereRef('p.cluster_id', '=', 'c.id')
          .where('p.deleted_at', 'is', null)
          .orderBy('p.id'),
      ).as('node_pools'),
      jsonObjectFrom(
        eb
          .selectFrom('maintenance_windows as w')
          .select(WINDOW_COLUMNS.map((column) => `w.${column}` as const))
          .whereRef('w.cluster_id', '=', 'c.id'),
      ).as('maintenance_window'),
    ]);
}

type Fetched = Awaited<ReturnType<ReturnType<typeof clustersWithRelations>['execute']>>[number];

/**
 * JSON carries timestamps as strings: the relations get their Dates back here, once. In place:
 * the row and its relations are objects this query's driver just made and nothing else holds, and
 * copying every cluster of a page and its pools was a visible share of a page's allocations.
 */
function revived(row: Fetched): ClusterWithRelations {
  for (const fetched of row.node_pools) {
    const { created_at, updated_at } = fetched;
    const pool = fetched as unknown as FetchedNodePool;
    pool.created_at = new Date(created_at);
    pool.updated_at = new Date(updated_at);
  }
  return row as unknown as ClusterWithRelations;
}

/**
 * A label selector requirement as a condition on the jsonb column (`@>` for equality, `?` for
 * existence), so it is part of the same WHERE as every other filter: a page is a page of matches.
 */
function labelCondition(req: LabelRequirement): Expression<SqlBool> {
  const pair = JSON.stringify({ [req.key]: req.value ?? '' });
  switch (req.op) {
    case '=':
      return sql<SqlBool>`c.labels @> ${pair}::jsonb`;
    case '!=':
      return sql<SqlBool>`NOT (c.labels @> ${pair}::jsonb)`;
    case 'exists':
      return sql<SqlBool>`c.labels ? ${req.key}`;
    case '!exists':
      return sql<SqlBool>`NOT (c.labels ? ${req.key})`;
  }
}

/** One live cluster with its relations; `organizationId` undefined for staff. */
export function clusterQuery(db: UnitOfWork, organizationId: string | undefined, id: string) {
  const query = clustersWithRelations(db).where('c.id', '=', id).where('c.deleted_at', 'is', null);
  return organizationId === undefined ? query : query.where('c.organization_id', '=', organizationId);
}

/**
 * A page of live clusters, oldest first, `limit + 1` rows so the caller can tell whether another
 * page exists. Every filter, the label selector included, is one WHERE of one statement.
 */
export function clusterPageQuery(db: UnitOfWork, filter: ClusterFilter, limit: number) {
  return pageOf(db, filter, limit + 1);
}

function pageOf(db: UnitOfWork, filter: ClusterFilter, rows: number) {
  let query = clustersWithRelations(db).where('c.deleted_at', 'is', null);
  if (filter.organizationId) query = query.where('c.organization_id', '=', filter.organizationId);
  if (filter.status) query = query.where('c.status', '=', filter.status);
  if (filter.provider) query = query.where('c.provider', '=', filter.provider);
  if (filter.nameContains) query = query.where('c.name', 'like', `%${filter.nameContains.replace(/[\\%_]/g, '\\$&')}%`);
  if (filter.version) {
    const version = filter.version;
    // A minor matches its patches by prefix: '1.3' must not match 1.31.x, hence the dot.
    query = /^\d+\.\d+$/.test(version)
      ? query.where((eb) => eb.or([eb('c.current_version', '=', version), eb('c.current_version', 'like', `${version}.%`)]))
      : query.where('c.current_version', '=', version);
  }
  if (filter.minors) {
    const minors = filter.minors;
    query = query.where((eb) =>
      eb.or(
        minors.map(({ provider, minor }) =>
          eb.and([eb('c.provider', '=', provider), eb.or([eb('c.current_version', '=', minor), eb('c.current_version', 'like', `${minor}.%`)])]),
        ),
      ),
    );
  }
  if (filter.after) query = query.where('c.id', '>', filter.after);
  for (const requirement of filter.labels ?? []) query = query.where(labelCondition(requirement));
  return query.orderBy('c.id').limit(rows);
}

/*
 * The reads customers hit most, compiled once (CompiledOnce): one statement per shape. A page's
 * shape is which of its plain filters are set; a page with a label selector or a name search
 * (whose conditions vary with their input) is built per call.
 */
const customerCluster = new CompiledOnce((db, p: { organizationId: string; id: string }) => clusterQuery(db, p.organizationId, p.id));
const anyCluster = new CompiledOnce((db, p: { id: string }) => clusterQuery(db, undefined, p.id));
type PageParameters = Pick<ClusterFilter, 'organizationId' | 'status' | 'provider' | 'after'> & { rows: number };
const clusterIdByName = new CompiledOnce((db, p: { organizationId: string; name: string }) =>
  db.selectFrom('clusters').select('id').where('organization_id', '=', p.organizationId).where('live_name', '=', p.name),
);
const pages = new Map<string, CompiledOnce<PageParameters, Fetched>>();

function pageStatement(filter: ClusterFilter): { statement: CompiledOnce<PageParameters, Fetched>; parameters: PageParameters } | undefined {
  if (filter.nameContains || filter.version || filter.minors || (filter.labels && filter.labels.length > 0)) return undefined;
  const parameters: Record<string, unknown> = {};
  for (const key of ['organizationId', 'status', 'provider', 'after'] as const) if (filter[key]) parameters[key] = filter[key];
  const shape = Object.keys(parameters).join(',');
  let statement = pages.get(shape);
  if (!statement) {
    statement = new CompiledOnce((db, p: PageParameters) => pageOf(db, p, p.rows));
    pages.set(shape, statement);
  }
  return { statement, parameters: parameters as PageParameters };
}

/**
 * Cluster reads, always scoped by organisation when a customer asks (staff pass none). A cluster
 * of another organisation is simply not found: the caller learns nothing of its existence.
 * Every method takes the unit of work to read in (the pool, or a use case's transaction, whose
 * own changes it then sees).
 */
@Injectable()
export class ClustersRepository {
  constructor(private readonly db: Database) {}

  async get(organizationId: string | undefined, id: string, uow: UnitOfWork = this.db): Promise<ClusterWithRelations> {
    const row =
      organizationId === undefined ? await anyCluster.executeTakeFirst(uow, { id }) : await customerCluster.executeTakeFirst(uow, { organizationId, id });
    if (!row) throw new NotFoundError('cluster', id);
    return revived(row);
  }

  /** The cluster's maintenance exclusions, oldest start first; only when the cluster is the organisation's. */
  async maintenanceExclusions(organizationId: string, clusterId: string, uow: UnitOfWork = this.db) {
    return uow
      .selectFrom('maintenance_exclusions as e')
      .innerJoin('clusters as c', 'c.id', 'e.cluster_id')
      .select(['e.id', 'e.cluster_id', 'e.name', 'e.scope', 'e.starts_at', 'e.ends_at', 'e.created_at'])
      .where('e.cluster_id', '=', clusterId)
      .where('c.organization_id', '=', organizationId)
      .orderBy('e.starts_at')
      .orderBy('e.id')
      .execute();
  }

  /** One exclusion of the organisation's cluster; anything else is `NotFoundError`. */
  async maintenanceExclusion(organizationId: string, clusterId: string, id: string, uow: UnitOfWork = this.db) {
    const row = await uow
      .selectFrom('maintenance_exclusions as e')
      .innerJoin('clusters as c', 'c.id', 'e.cluster_id')
      .select(['e.id', 'e.cluster_id', 'e.name', 'e.scope', 'e.starts_at', 'e.ends_at', 'e.created_at'])
      .where('e.id', '=', id)
      .where('e.cluster_id', '=', clusterId)
      .where('c.organization_id', '=', organizationId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('maintenance exclusion', id);
    return row;
  }

  /** Locks the live cluster row for the rest of the transaction `trx`, then reads it. */
  async getForUpdate(trx: UnitOfWork, organizationId: string, id: string): Promise<ClusterWithRelations> {
    await trx.selectFrom('clusters').select('id').where('id', '=', id).where('organization_id', '=', organizationId).forUpdate().execute();
    return this.get(organizationId, id, trx);
  }

  /** A page of live clusters (see clusterPageQuery). */
  async list(filter: ClusterFilter, limit: number): Promise<ClusterWithRelations[]> {
    const cached = pageStatement(filter);
    const rows = cached
      ? await cached.statement.execute(this.db, { ...cached.parameters, rows: limit + 1 })
      : await clusterPageQuery(this.db, filter, limit).execute();
    return rows.map(revived);
  }

  /** The live cluster of that name in the organisation, if any (names are unique while alive). */
  async idByName(uow: UnitOfWork, organizationId: string, name: string): Promise<string | undefined> {
    return (await clusterIdByName.executeTakeFirst(uow, { organizationId, name }))?.id;
  }

  /** Any live cluster by id, across organisations (staff tools), with its organisation. */
  async findLive(id: string): Promise<{ id: string; organization_id: string } | undefined> {
    return this.db.selectFrom('clusters').select(['id', 'organization_id']).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  }

  /**
   * A page of the live clusters of every organisation on `provider` in one of `statuses`, by id
   * after `after` (the GKE drift check walks the fleet with it).
   */
  async liveOnProvider(
    provider: db.Provider,
    statuses: readonly db.ClusterStatus[],
    after: string | null,
    limit: number,
  ): Promise<{ id: string; organization_id: string; status: db.ClusterStatus }[]> {
    let query = this.db
      .selectFrom('clusters')
      .select(['id', 'organization_id', 'status'])
      .where('provider', '=', provider)
      .where('status', 'in', [...statuses])
      .where('deleted_at', 'is', null);
    if (after) query = query.where('id', '>', after);
    return query.orderBy('id').limit(limit).execute();
  }

  /** A page of a cluster's live node pools, oldest first, `limit + 1` rows. */
  async nodePools(organizationId: string, clusterId: string, limit: number, after?: string): Promise<NodePoolRow[]> {
    let query = this.db
      .selectFrom('node_pools')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null);
    if (after) query = query.where('id', '>', after);
    return query
      .orderBy('id')
      .limit(limit + 1)
      .execute();
  }

  async nodePool(organizationId: string, clusterId: string, poolId: string): Promise<NodePoolRow> {
    const pool = await this.db
      .selectFrom('node_pools')
      .selectAll()
      .where('id', '=', poolId)
      .where('cluster_id', '=', clusterId)
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!pool) throw new NotFoundError('node pool', poolId);
    return pool;
  }
}
