import { Database, DatabaseConfig, EngineConfig, DatabasePool, PrismaService } from '@capstan/platform';
import { createTestDatabase, type TestDatabase, testConfig, TEST_REDIS_URL } from '@capstan/testing';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import IORedis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { OUTBOX_CHANNEL } from '../operations.repository';
import { OutboxRelay, parseNotice } from './outbox-relay';
import type { OperationJob } from './operations-queue';

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

describe('parseNotice', () => {
  it('reads the message a notification carries, and nothing from one that carries none', () => {
    expect(parseNotice('{"id":"42","operationId":"op_1","requestId":"req_1"}')).toEqual({ id: '42', operationId: 'op_1', requestId: 'req_1' });
    expect(parseNotice('{"id":"42","operationId":"op_1","requestId":null}')).toEqual({ id: '42', operationId: 'op_1', requestId: null });
    for (const payload of [undefined, '', 'garbage', '{"id":42,"operationId":"op_1"}', '{"id":"4 2","operationId":"op_1"}', '{"id":"42"}'])
      expect(parseNotice(payload)).toBeUndefined();
  });
});

describe('OutboxRelay, woken by notifications', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  let database: Database;
  let prisma: PrismaService;
  let queue: Queue<OperationJob>;
  let connection: IORedis;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new DatabasePool(new DatabaseConfig(db.url, 4));
    prisma = new PrismaService(pool);
    database = new Database(pool);
    connection = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue<OperationJob>('operations', { connection, prefix: `relay-spec-${randomBytes(4).toString('hex')}` });
  });

  afterAll(async () => {
    for (const relay of relays) await relay.onModuleDestroy();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    connection?.disconnect();
    await prisma.$disconnect();
    await pool.end();
    await db.drop();
  });

  const newRelay = () => {
    const relay = new OutboxRelay(database, new DatabaseConfig(db.url, 4), testConfig(db.url).engine as EngineConfig, queue);
    relays.push(relay);
    return relay;
  };

  async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** As OperationsRepository.publish writes it, with a notification that carries the message or nothing. */
  async function publish(operationId: string, notice: boolean): Promise<string> {
    const { rows } = await sql<{ id: string }>`
      WITH message AS (
        INSERT INTO outbox_messages (topic, dedupe_key, payload) VALUES ('operations', ${operationId}, ${JSON.stringify({ operationId, requestId: 'req_spec' })}::jsonb) RETURNING id)
      SELECT id::text, pg_notify(${OUTBOX_CHANNEL}, CASE WHEN ${notice} THEN json_build_object('id', id::text, 'operationId', ${operationId}::text, 'requestId', 'req_spec')::text ELSE '' END)
        FROM message`.execute(database);
    return rows[0]!.id;
  }

  const dispatched = (id: string) =>
    until(async () => (await prisma.outboxMessage.findUniqueOrThrow({ where: { id: BigInt(id) } })).dispatchedAt ?? undefined, `message ${id} dispatched`);

  it('puts the job of a notified message in BullMQ without reading the outbox, then marks it dispatched', async () => {
    // Not started: no sweep and no listener, so only the notification can relay the message.
    const relay = newRelay();
    const id = await publish('op_notified', false);
    relay.onNotification(JSON.stringify({ id, operationId: 'op_notified', requestId: 'req_spec' }));

    const job = await until(async () => (await queue.getJob('op_notified')) ?? undefined, 'the job');
    expect(job.data).toEqual({ operationId: 'op_notified', requestId: 'req_spec' });
    await dispatched(id);
    expect((await prisma.outboxMessage.findUniqueOrThrow({ where: { id: BigInt(id) } })).attempts).toBe(1);
  });

  it('relays what a notification carrying nothing announces by reading the outbox', async () => {
    const relay = newRelay();
    relay.onApplicationBootstrap();
    const id = await publish('op_bare', false);
    await dispatched(id);
    expect((await queue.getJob('op_bare'))?.data).toEqual({ operationId: 'op_bare', requestId: 'req_spec' });
  });
});
