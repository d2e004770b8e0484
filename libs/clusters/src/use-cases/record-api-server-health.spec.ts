import { EventsService } from '@capstan/events';
import { Database, DatabaseConfig, DatabasePool, ManualClock, newId, RequestContext } from '@capstan/platform';
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

  it('degrades a running cluster once however many replicas ask at the same moment, and brings it back once', async () => {
    const id = await cluster('running');
    const answers = await Promise.all([1, 2, 3, 4].map(() => health.degraded(id, REASON, new Date('2026-12-06T05:20:00Z'))));
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await row(id)).toEqual({ status: 'degraded', status_reason: REASON, resource_version: 2 });
    expect(await health.markedDegraded()).toContain(id);

    const back = await Promise.all([1, 2, 3].map(() => health.recovered(id)));
    expect(back.filter(Boolean)).toHaveLength(1);
    expect(await row(id)).toEqual({ status: 'running', status_reason: null, resource_version: 3 });
    expect((await events(id)).map((e) => e.type)).toEqual(['dev.capstan.cluster.degraded', 'dev.capstan.cluster.recovered']);
    expect((await events(id))[0]!.data).toMatchObject({ cluster_id: id, status: 'degraded', reason: REASON, unreachable_since: '2026-12-06T05:20:00.000Z' });
    const audit = await db.selectFrom('audit_events').select(['action', 'actor_id']).where('target_id', '=', id).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'cluster.degraded', actor_id: 'sla-monitor' },
      { action: 'cluster.recovered', actor_id: 'sla-monitor' },
    ]);
  });

  it('leaves a cluster in an operation-owned status alone', async () => {
    const id = await cluster('upgrading');
    expect(await health.degraded(id, REASON, NOW)).toBe(false);
    expect(await health.recovered(id)).toBe(false);
    expect(await row(id)).toEqual({ status: 'upgrading', status_reason: null, resource_version: 1 });
    expect(await events(id)).toEqual([]);
  });

  it('brings back only a cluster it degraded itself', async () => {
    const id = await cluster('degraded', 'control plane repair needed');
    expect(await health.recovered(id)).toBe(false);
    expect(await health.markedDegraded()).not.toContain(id);
    expect(await row(id)).toEqual({ status: 'degraded', status_reason: 'control plane repair needed', resource_version: 1 });
  });

  it('refuses a reason it would not recognise as its own later', async () => {
    const id = await cluster('running');
    await expect(health.degraded(id, 'something else', NOW)).rejects.toThrow(/API server unreachable/);
    expect((await row(id)).status).toBe('running');
  });
});
