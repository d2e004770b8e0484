import { Database, DatabaseConfig, firstIdAt, ManualClock, newId, DatabasePool, PrismaService, WebhookConfig } from '@capstan/platform';
import { createTestDatabase, seedOrganization, type TestDatabase } from '@capstan/testing';
import { EventRetention } from './event-retention';

const DAY = 24 * 3600 * 1000;

describe('EventRetention', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  const now = new Date('2026-11-25T12:00:00.000Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 4)));
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  /** An id as one made `daysAgo` days before `now` looks (ids are time-ordered). */
  const idFrom = (prefix: 'evt' | 'whd', daysAgo: number, n: number) =>
    `${firstIdAt(prefix, new Date(now.getTime() - daysAgo * DAY)).slice(0, -4)}${String(n).padStart(4, '0')}`;

  it('deletes events and finished deliveries older than the retention, and keeps the rest', async () => {
    const org = await seedOrganization(prisma);
    const webhook = await prisma.webhook.create({
      data: {
        id: newId('wh'),
        organizationId: org.organizationId,
        url: 'https://hooks.example.com/a',
        eventTypes: [],
        secretKeyId: 'k',
        secretSealed: new Uint8Array([1]),
      },
    });
    const event = (daysAgo: number, n: number) => ({
      id: idFrom('evt', daysAgo, n),
      organizationId: org.organizationId,
      type: 'dev.capstan.operation.succeeded',
      source: '/v1/operations/op_1',
      data: {},
      time: new Date(now.getTime() - daysAgo * DAY),
    });
    const delivery = (daysAgo: number, n: number, eventId: string, status: 'pending' | 'succeeded' | 'failed') => ({
      id: idFrom('whd', daysAgo, n),
      webhookId: webhook.id,
      organizationId: org.organizationId,
      eventId,
      eventType: 'dev.capstan.operation.succeeded',
      status,
    });
    const old = [event(120, 1), event(91, 2), event(91, 5)];
    const recent = [event(89, 3), event(1, 4)];
    await prisma.event.createMany({ data: [...old, ...recent] });
    await prisma.webhookDelivery.createMany({
      data: [
        delivery(120, 1, old[0]!.id, 'succeeded'),
        delivery(91, 2, old[1]!.id, 'failed'),
        // Cannot happen (retries stop after 24 h), but a pending delivery is never deleted.
        delivery(91, 3, old[2]!.id, 'pending'),
        delivery(89, 4, recent[0]!.id, 'succeeded'),
      ],
    });

    const pruned = await new EventRetention(new Database(prisma.databasePool), new ManualClock(now), new WebhookConfig(false, false, 90)).prune();

    expect(pruned).toEqual({ events: 3, deliveries: 2 });
    expect((await prisma.event.findMany({ orderBy: { id: 'asc' } })).map((e) => e.id)).toEqual(recent.map((e) => e.id));
    expect((await prisma.webhookDelivery.findMany({ orderBy: { id: 'asc' } })).map((d) => d.status)).toEqual(['pending', 'succeeded']);
    // Nothing left to do: a second run deletes nothing.
    expect(await new EventRetention(new Database(prisma.databasePool), new ManualClock(now), new WebhookConfig(false, false, 90)).prune()).toEqual({
      events: 0,
      deliveries: 0,
    });
  });
});
