import { Database, DatabaseConfig, EngineConfig, DatabasePool, PrismaService } from '@capstan/platform';
import { createTestDatabase, type TestDatabase, testConfig } from '@capstan/testing';
import { OutboxRelay } from './outbox-relay';

describe('OutboxRelay.pruneDispatched', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let pool: DatabasePool;
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

  it('deletes messages relayed more than a day ago and keeps recent and undelivered ones', async () => {
    const now = new Date('2026-11-25T12:00:00.000Z');
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
    const message = (key: string, dispatchedAt: Date | null, createdAt: Date) => ({
      topic: 'operations',
      dedupeKey: key,
      payload: { operationId: key },
      dispatchedAt,
      createdAt,
    });
    await prisma.outboxMessage.createMany({
      data: [
        message('op_old_1', hoursAgo(48), hoursAgo(48)),
        message('op_old_2', hoursAgo(25), hoursAgo(25)),
        message('op_recent', hoursAgo(1), hoursAgo(1)),
        // Never relayed (Redis was away): kept whatever its age, the sweep still owes it.
        message('op_waiting', null, hoursAgo(72)),
      ],
    });
    // The queue is not touched by pruning.
    const relay = new OutboxRelay(database, new DatabaseConfig(db.url, 2), testConfig(db.url).engine as EngineConfig, undefined as never);

    expect(await relay.pruneDispatched(now)).toBe(2);
    expect((await prisma.outboxMessage.findMany({ orderBy: { id: 'asc' } })).map((m) => m.dedupeKey)).toEqual(['op_recent', 'op_waiting']);
    expect(await relay.pruneDispatched(now)).toBe(0);
  });
});
