import { Database, type IdPrefix, newId, type PrismaService, type UnitOfWork } from '@capstan/platform';
import { sql } from 'kysely';
import { issueSecret, type StaffRole, type TokenScope } from '@capstan/tenancy';

export interface SeededOrganization {
  organizationId: string;
  /** A customer API token secret for this organisation. */
  token: string;
  tokenId: string;
}

/** What fixtures write through: a test's Kysely unit of work, or a Prisma client (its pool is shared). */
export type FixtureDatabase = UnitOfWork | PrismaService;

/** Kysely over the same pool as `database`. */
export function kyselyOf(database: FixtureDatabase): UnitOfWork {
  // Duck-typed: a stack's client may come from another copy of the platform module.
  return 'databasePool' in database ? new Database(database.databasePool) : database;
}

/**
 * A new id of the given prefix (`cl`, `np`, `op`), as the application makes them, for fixtures
 * written by suites that cannot import libs/platform themselves (the CLI's: layer rule).
 */
export function fixtureId(prefix: IdPrefix): string {
  return newId(prefix);
}

/** An organisation with one API token, written straight to the database (test setup only). */
export async function seedOrganization(
  database: FixtureDatabase,
  options: { name?: string; residency?: string; maxClusters?: number; maxNodes?: number; scopes?: TokenScope[]; expiresAt?: Date } = {},
): Promise<SeededOrganization> {
  const organizationId = newId('org');
  await kyselyOf(database)
    .insertInto('organizations')
    .values({
      id: organizationId,
      name: options.name ?? `org-${organizationId.slice(-8)}`,
      display_name: 'Test AG',
      residency: options.residency ?? 'CH',
      plan: 'standard',
      max_clusters: options.maxClusters ?? 10,
      max_nodes: options.maxNodes ?? 50,
      updated_at: new Date(),
    })
    .execute();
  const { token, tokenId } = await seedToken(database, organizationId, options.scopes ?? ['read', 'write'], options.expiresAt);
  return { organizationId, token, tokenId };
}

export async function seedToken(database: FixtureDatabase, organizationId: string, scopes: TokenScope[], expiresAt?: Date) {
  const issued = issueSecret('customer');
  const tokenId = newId('tok');
  await kyselyOf(database)
    .insertInto('api_tokens')
    .values({
      id: tokenId,
      organization_id: organizationId,
      name: 'test',
      display_prefix: issued.displayPrefix,
      secret_hash: issued.secretHash,
      scopes: sql<TokenScope[]>`${scopes}::"TokenScope"[]`,
      expires_at: expiresAt ?? null,
      created_by: 'test',
    })
    .execute();
  return { token: issued.secret, tokenId };
}

export interface SeededStaff {
  staffUserId: string;
  token: string;
}

/** A staff user with a staff API token. */
export async function seedStaff(database: FixtureDatabase, role: StaffRole = 'admin'): Promise<SeededStaff> {
  const staffUserId = newId('stf');
  const issued = issueSecret('staff');
  const db = kyselyOf(database);
  await db
    .insertInto('staff_users')
    .values({ id: staffUserId, email: `${staffUserId}@staff.test`, display_name: 'Test staff', role })
    .execute();
  await db
    .insertInto('staff_api_tokens')
    .values({ id: newId('stok'), staff_user_id: staffUserId, name: 'test', display_prefix: issued.displayPrefix, secret_hash: issued.secretHash })
    .execute();
  return { staffUserId, token: issued.secret };
}

/** A valid create-cluster body for the simulated catalogue (Swiss region, one small pool). */
export function clusterRequest(overrides: Record<string, unknown> = {}) {
  return {
    name: 'prod-zrh',
    provider: 'rke2',
    region: 'nine-cz41',
    node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 3 }],
    ...overrides,
  };
}

/**
 * A backup schedule and a finished on-demand etcd snapshot of a cluster, written straight to the
 * tables (as the scheduler and a create_backup operation would leave them), for suites that need
 * ids for every route's path.
 */
export async function seedBackups(
  database: FixtureDatabase,
  owner: { organizationId: string; clusterId: string; region?: string; version?: string },
): Promise<{ scheduleId: string; backupId: string }> {
  const db = kyselyOf(database);
  const now = new Date();
  const scheduleId = newId('bks');
  const backupId = newId('bk');
  await db
    .insertInto('backup_schedules')
    .values({
      id: scheduleId,
      cluster_id: owner.clusterId,
      organization_id: owner.organizationId,
      name: `nightly-${scheduleId.slice(-6)}`,
      kind: 'etcd_snapshot',
      cron: '0 2 * * *',
      time_zone: 'Europe/Zurich',
      retention_count: 5,
      included_namespaces: [],
      excluded_namespaces: [],
      region: owner.region ?? 'nine-cz41',
      last_run_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('backups')
    .values({
      id: backupId,
      cluster_id: owner.clusterId,
      organization_id: owner.organizationId,
      kind: 'etcd_snapshot',
      status: 'succeeded',
      purpose: 'on_demand',
      region: owner.region ?? 'nine-cz41',
      location: `s3://capstan-backups/${owner.clusterId}/${backupId}`,
      size_bytes: 1024n,
      cluster_version: owner.version ?? '1.35.2',
      started_at: now,
      completed_at: now,
      updated_at: now,
    })
    .execute();
  return { scheduleId, backupId };
}
