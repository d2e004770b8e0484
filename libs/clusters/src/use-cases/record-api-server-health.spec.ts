import { EventsService } from '@capstan/events';
import { Database, DatabaseConfig, DatabasePool, ManualClock, newId, RequestContext } from '@capstan/platform';
import { clusterStatusColumnsAfter } from '@capstan/operations';
import { AuditLog } from '@capstan/tenancy';
import { createTestDatabase, seedOrganization, type TestDatabase } from '@capstan/testing';
import { ClsService } from 'nestjs-cls';
import { AsyncLocalStorage } from 'node:async_hooks';
import { RecordApiServerHealth } from './record-api-server-health';

const NOW = new Date('2026-12-06T05:23:00Z');
const REASON = 'API server unreachable since 2026-12-06T05:20Z (down 3 consecutive minutes)';

/** The status changes the SLA monitor asks for, against Postgres: guarded, one event each, never twice. */
describe('RecordApiServerHealth', () => {
  let database: TestDatabase;
  let pool: DatabasePool;
  let db: Database;
  let health: RecordApiServerHealth;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new DatabasePool(new DatabaseConfig(database.url, 4));
    db = new Database(pool);
    const clock = new ManualClock(NOW);
    health = new RecordApiServerHealth(db, new EventsService(db, clock), new AuditLog(db, new RequestContext(new ClsService(new AsyncLocalStorage()))), clock);
  }, 60_000);

  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  async function cluster(status: 'running' | 'upgrading' | 'degraded', statusReason: string | null = null): Promise<string> {
    const org = await seedOrganization(db);
    const id = newId('cl');
    await db
      .insertInto('clusters')
      .values({
        id,
        organization_id: org.organizationId,
        name: id.slice(-12),
        live_name: id.slice(-12),
        provider: 'rke2',
        region: 'nine-cz41',
        current_version: '1.35.2',
        desired_version: '1.35.2',
        status,
        status_reason: statusReason,
        updated_at: NOW,
      })
      .execute();
    return id;
  }
  const row = (id: string) => db.selectFrom('clusters').select(['status', 'status_reason', 'resource_version']).where('id', '=', id).executeTakeFirstOrThrow();
  const events = (id: string) =>
    db.selectFrom('events').select(['type', 'data']).where('subject', '=', `/v1/clusters/${id}`).orderBy('time').orderBy('id').execute();

  const SINCE = new Date('2026-12-06T05:20:00Z');
  const DOWN = { state: 'down' as const, since: SINCE, reason: REASON };
  const UP = { state: 'up' as const };
  /** An operation's end as the worker writes it: decided by the row's view as it is written. */
  const operationEnds = (id: string, type: 'update_cluster' | 'scale_node_pool', outcome: 'succeeded' | 'failed' = 'succeeded') =>
    db
      .updateTable('clusters')
      .set({ ...clusterStatusColumnsAfter({ type, outcome, failure: 'quota' })! })
      .where('id', '=', id)
      .execute();
  const setStatus = (id: string, status: 'updating') => db.updateTable('clusters').set({ status }).where('id', '=', id).execute();

  it('degrades a running cluster once however many replicas observe it down at the same moment, and brings it back once', async () => {
    const id = await cluster('running');
    const answers = await Promise.all([1, 2, 3, 4].map(() => health.observe(id, DOWN)));
    expect(answers.filter(Boolean)).toEqual(['degraded']);
    expect(await row(id)).toEqual({ status: 'degraded', status_reason: REASON, resource_version: 2 });
    expect(await health.watched()).toContainEqual({ clusterId: id, status: 'degraded', heldDown: true, unannounced: false });

    const back = await Promise.all([1, 2, 3].map(() => health.observe(id, UP)));
    expect(back.filter(Boolean)).toEqual(['running']);
    expect(await row(id)).toEqual({ status: 'running', status_reason: null, resource_version: 3 });
    expect((await health.watched()).map((w) => w.clusterId)).not.toContain(id);
    expect((await events(id)).map((e) => e.type)).toEqual(['dev.capstan.cluster.degraded', 'dev.capstan.cluster.recovered']);
    expect((await events(id))[0]!.data).toMatchObject({ cluster_id: id, status: 'degraded', reason: REASON, unreachable_since: '2026-12-06T05:20:00.000Z' });
    const audit = await db.selectFrom('audit_events').select(['action', 'actor_id']).where('target_id', '=', id).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'cluster.degraded', actor_id: 'sla-monitor' },
      { action: 'cluster.recovered', actor_id: 'sla-monitor' },
    ]);
  });

  it('holds the API server of a cluster in an operation-owned status down without touching its status', async () => {
    const id = await cluster('upgrading');
    expect(await health.observe(id, DOWN)).toBeNull();
    expect(await row(id)).toEqual({ status: 'upgrading', status_reason: null, resource_version: 1 });
    expect(await health.watched()).toContainEqual({ clusterId: id, status: 'upgrading', heldDown: true, unannounced: false });
    expect(await events(id)).toEqual([]);
  });

  it('an operation that ends on a cluster held down leaves it degraded, announced once at the next look', async () => {
    const id = await cluster('running');
    await setStatus(id, 'updating');
    expect(await health.observe(id, DOWN)).toBeNull();
    await operationEnds(id, 'scale_node_pool');
    expect(await row(id)).toMatchObject({ status: 'degraded', status_reason: REASON });
    expect(await health.watched()).toContainEqual({ clusterId: id, status: 'degraded', heldDown: true, unannounced: true });
    const told = await Promise.all([1, 2].map(() => health.observe(id, { state: 'undecided' })));
    expect(told.filter(Boolean)).toEqual(['degraded']);
    expect((await events(id)).map((e) => e.data)).toEqual([
      expect.objectContaining({ status: 'degraded', reason: REASON, unreachable_since: SINCE.toISOString() }),
    ]);
  });

  it('an operation through a degraded cluster still down leaves it degraded and announces nothing', async () => {
    const id = await cluster('running');
    expect(await health.observe(id, DOWN)).toBe('degraded');
    await setStatus(id, 'updating');
    await operationEnds(id, 'update_cluster', 'failed');
    expect(await row(id)).toMatchObject({ status: 'degraded', status_reason: REASON });
    expect(await health.observe(id, DOWN)).toBeNull();
    expect((await events(id)).map((e) => e.type)).toEqual(['dev.capstan.cluster.degraded']);
  });

  it('a degraded cluster that came back during an operation ends running, its recovery announced once', async () => {
    const id = await cluster('running');
    expect(await health.observe(id, DOWN)).toBe('degraded');
    await setStatus(id, 'updating');
    // Up while the operation holds the status: the view is cleared, the status is the operation's.
    expect(await health.observe(id, UP)).toBeNull();
    expect(await row(id)).toMatchObject({ status: 'updating' });
    await operationEnds(id, 'update_cluster');
    expect(await row(id)).toMatchObject({ status: 'running', status_reason: null });
    expect(await health.observe(id, UP)).toBe('running');
    expect(await health.observe(id, UP)).toBeNull();
    expect((await events(id)).map((e) => e.type)).toEqual(['dev.capstan.cluster.degraded', 'dev.capstan.cluster.recovered']);
  });

  it('brings back only a cluster it degraded itself', async () => {
    const id = await cluster('degraded', 'control plane repair needed');
    await db.updateTable('clusters').set({ degraded_announced: true }).where('id', '=', id).execute();
    expect(await health.observe(id, UP)).toBeNull();
    expect(await row(id)).toEqual({ status: 'degraded', status_reason: 'control plane repair needed', resource_version: 1 });
  });
});
