import { Database, DatabaseConfig, DatabasePool, newId, PrismaService } from '@capstan/platform';
import { createTestDatabase, seedOrganization, type TestDatabase } from '@capstan/testing';
import { operationEvent } from '../operation-events';
import { claim } from './run-statements';

/**
 * A pending operation created with a not-before time (`start: next_window`, docs/upgrades.md):
 * the claim leaves it alone until then, and its first claim afterwards is a first attempt.
 */
describe('claim of an operation with a not-before time', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  let prisma: PrismaService;
  let database: Database;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new DatabasePool(new DatabaseConfig(db.url, 2));
    prisma = new PrismaService(pool);
    database = new Database(pool);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await pool.end();
    await db.drop();
  });

  it('is not claimed before its time, then is claimed as a first attempt, not as a resumed wait', async () => {
    const { organizationId } = await seedOrganization(database);
    const clusterId = newId('cl');
    const operationId = newId('op');
    const notBefore = new Date('2026-12-12T21:00:00.000Z');
    await database
      .insertInto('clusters')
      .values({
        id: clusterId,
        organization_id: organizationId,
        name: 'later',
        live_name: 'later',
        provider: 'rke2',
        region: 'nine-cz41',
        current_version: '1.35.1',
        desired_version: '1.35.5',
        status: 'upgrading',
        labels: '{}',
        updated_at: new Date(),
      })
      .execute();
    await database
      .insertInto('operations')
      .values({
        id: operationId,
        organization_id: organizationId,
        cluster_id: clusterId,
        type: 'upgrade_cluster',
        target_type: 'cluster',
        target_id: clusterId,
        requested_by_type: 'api_token',
        requested_by_id: 'tok_x',
        wake_at: notBefore,
        updated_at: new Date(),
      })
      .execute();
    await database.insertInto('operation_steps').values({ operation_id: operationId, position: 0, name: 'mark_upgraded' }).execute();

    // when a worker gets the job early
    const early = await claim(database, operationId, 'w1', 30_000, new Date('2026-12-12T20:59:00.000Z'));
    // then it is told when to come back, and nothing changed
    expect(early).toEqual({ state: 'not_before', at: notBefore });
    const untouched = await database.selectFrom('operations').select(['status', 'attempts']).where('id', '=', operationId).executeTakeFirstOrThrow();
    expect(untouched).toEqual({ status: 'pending', attempts: 0 });
    expect(await database.selectFrom('operation_leases').selectAll().execute()).toEqual([]);

    // when it comes back on time
    const onTime = await claim(database, operationId, 'w2', 30_000, new Date('2026-12-12T21:00:01.000Z'));
    expect(onTime).toMatchObject({ state: 'claimed', resumed: false });
    const running = await database.selectFrom('operations').select(['status', 'attempts', 'wake_at']).where('id', '=', operationId).executeTakeFirstOrThrow();
    expect(running).toEqual({ status: 'running', attempts: 1, wake_at: null });
    // and its `running` event, written from the operation's row inside the claim, is the one
    // operationEvent describes
    const expected = operationEvent(
      { id: operationId, organizationId, clusterId, type: 'upgrade_cluster', targetType: 'cluster', targetId: clusterId },
      'running',
    );
    const recorded = await database
      .selectFrom('events')
      .select(['organization_id', 'type', 'source', 'subject', 'data'])
      .where('source', '=', `/v1/operations/${operationId}`)
      .execute();
    expect(recorded).toEqual([
      { organization_id: organizationId, type: expected.type, source: expected.source, subject: expected.subject, data: expected.data },
    ]);
  });
});
