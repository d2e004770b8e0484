import { Database, DatabaseConfig, ManualClock, newId, DatabasePool, PrismaService, SecretBox, SecretsConfig } from '@capstan/platform';
import { createTestDatabase, seedOrganization, type TestDatabase } from '@capstan/testing';
import { randomBytes } from 'node:crypto';
import { EventsService } from './events.service';
import { WebhookSecrets } from './webhooks/webhook-secrets';

describe('EventsService.record', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let secrets: WebhookSecrets;
  const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
  let events: EventsService;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 4)));
    secrets = new WebhookSecrets(new SecretBox(new SecretsConfig([{ id: 'test', key: randomBytes(32) }])));
    events = new EventsService(new Database(prisma.databasePool), clock);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  async function webhook(organizationId: string, eventTypes: string[], options: { disabled?: boolean } = {}): Promise<string> {
    const id = newId('wh');
    const issued = secrets.issue(id);
    await prisma.webhook.create({
      data: {
        id,
        organizationId,
        url: `https://hooks.example.com/${id}`,
        eventTypes,
        secretKeyId: issued.secretKeyId,
        secretSealed: issued.secretSealed,
        disabledAt: options.disabled ? clock.now() : null,
      },
    });
    return id;
  }

  const operationSucceeded = (organizationId: string | null) => ({
    organizationId,
    type: 'dev.capstan.operation.succeeded',
    source: '/v1/operations/op_01jd3z6q4e5k8w2x9v7b0c1n2m',
    subject: 'cl_01jd3z6q4e5k8w2x9v7b0c1n2m',
    data: { operation: { id: 'op_01jd3z6q4e5k8w2x9v7b0c1n2m', status: 'succeeded' } },
  });

  it('queues a delivery for each enabled webhook of the organisation that subscribes to the type', async () => {
    const org = await seedOrganization(prisma);
    const other = await seedOrganization(prisma);
    const everything = await webhook(org.organizationId, []);
    const operations = await webhook(org.organizationId, ['dev.capstan.operation.failed', 'dev.capstan.operation.succeeded']);
    const clusters = await webhook(org.organizationId, ['dev.capstan.cluster.deleted']);
    await webhook(org.organizationId, [], { disabled: true });
    await webhook(other.organizationId, []);

    const succeeded = await new Database(prisma.databasePool).transaction().execute((tx) => events.record(tx, operationSucceeded(org.organizationId)));
    const deleted = await new Database(prisma.databasePool)
      .transaction()
      .execute((tx) => events.record(tx, { organizationId: org.organizationId, type: 'dev.capstan.cluster.deleted', source: '/v1/clusters/cl_1', data: {} }));

    expect(succeeded).toEqual({ id: expect.stringMatching(/^evt_[0-9a-z]{26}$/), time: clock.now(), deliveries: 2 });
    const forSucceeded = await prisma.webhookDelivery.findMany({ where: { eventId: succeeded.id }, orderBy: { webhookId: 'asc' } });
    expect(forSucceeded.map((d) => d.webhookId)).toEqual([everything, operations].sort());
    for (const delivery of forSucceeded) {
      expect(delivery).toMatchObject({
        id: expect.stringMatching(/^whd_[0-9a-z]{26}$/),
        organizationId: org.organizationId,
        eventType: 'dev.capstan.operation.succeeded',
        status: 'pending',
        attempts: 0,
        nextAttemptAt: null,
        deliveredAt: null,
      });
    }
    expect(deleted.deliveries).toBe(2);
    expect((await prisma.webhookDelivery.findMany({ where: { eventId: deleted.id } })).map((d) => d.webhookId).sort()).toEqual([everything, clusters].sort());
  });

  it('writes a CloudEvents-shaped event stamped by the injected clock', async () => {
    const org = await seedOrganization(prisma);
    clock.set(new Date('2027-01-02T03:04:05.678Z'));
    const { id } = await new Database(prisma.databasePool)
      .transaction()
      .execute((tx) => events.record(tx, { ...operationSucceeded(org.organizationId), subject: undefined }));

    expect(await prisma.event.findUniqueOrThrow({ where: { id } })).toEqual({
      id,
      organizationId: org.organizationId,
      type: 'dev.capstan.operation.succeeded',
      source: '/v1/operations/op_01jd3z6q4e5k8w2x9v7b0c1n2m',
      subject: null,
      data: { operation: { id: 'op_01jd3z6q4e5k8w2x9v7b0c1n2m', status: 'succeeded' } },
      time: new Date('2027-01-02T03:04:05.678Z'),
    });
  });

  it('delivers fleet-wide events to no webhook', async () => {
    const org = await seedOrganization(prisma);
    await webhook(org.organizationId, []);
    const recorded = await new Database(prisma.databasePool).transaction().execute((tx) => events.record(tx, operationSucceeded(null)));
    expect(recorded.deliveries).toBe(0);
    expect(await prisma.webhookDelivery.count({ where: { eventId: recorded.id } })).toBe(0);
    expect(await prisma.event.findUniqueOrThrow({ where: { id: recorded.id } })).toMatchObject({ organizationId: null });
  });

  it('leaves neither event nor deliveries behind when the change it reports rolls back', async () => {
    const org = await seedOrganization(prisma);
    await webhook(org.organizationId, []);
    let recordedId = '';
    await expect(
      new Database(prisma.databasePool).transaction().execute(async (tx) => {
        recordedId = (await events.record(tx, operationSucceeded(org.organizationId))).id;
        throw new Error('the operation update failed');
      }),
    ).rejects.toThrow('the operation update failed');
    expect(recordedId).toMatch(/^evt_/);
    expect(await prisma.event.count({ where: { id: recordedId } })).toBe(0);
    expect(await prisma.webhookDelivery.count({ where: { eventId: recordedId } })).toBe(0);
  });

  it('refuses an event type that is not reverse-DNS, writing nothing', async () => {
    const org = await seedOrganization(prisma);
    const before = await prisma.event.count();
    await expect(
      new Database(prisma.databasePool)
        .transaction()
        .execute((tx) => events.record(tx, { ...operationSucceeded(org.organizationId), type: 'OperationSucceeded' })),
    ).rejects.toThrow('event type "OperationSucceeded" is not a reverse-DNS name');
    expect(await prisma.event.count()).toBe(before);
  });
});
