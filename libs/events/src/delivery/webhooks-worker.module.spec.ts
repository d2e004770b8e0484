import { type CapstanConfig, Database, DatabaseConfig, newId, PlatformModule, DatabasePool, PrismaService, SystemClock } from '@capstan/platform';
import { createTestDatabase, seedOrganization, type TestDatabase, testConfig } from '@capstan/testing';
import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventRecordingModule } from '../events.module';
import { EventsService } from '../events.service';
import { sleep, startEndpoint, type TestEndpoint } from '../test/harness';
import { WebhookSecrets } from '../webhooks/webhook-secrets';
import { WebhooksWorkerModule } from './webhooks-worker.module';

/** The worker's composition: platform, event recording (for the engine) and webhook delivery. */
@Module({})
class WorkerUnderTest {
  static forRoot(config: CapstanConfig): DynamicModule {
    return { module: WorkerUnderTest, imports: [PlatformModule.forRoot(config, 'worker'), EventRecordingModule, WebhooksWorkerModule] };
  }
}

describe('WebhooksWorkerModule, running with the real clock', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let prisma: PrismaService;
  let closed = false;
  const endpoints: TestEndpoint[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await NestFactory.createApplicationContext(WorkerUnderTest.forRoot(testConfig(db.url, { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' })) as never, {
      logger: false,
    });
    prisma = app.get(PrismaService);
  });

  afterAll(async () => {
    await Promise.all(endpoints.map((e) => e.close()));
    if (!closed) await app.close();
    await db.drop();
  });

  const endpoint = async (...args: Parameters<typeof startEndpoint>) => {
    const started = await startEndpoint(...args);
    endpoints.push(started);
    return started;
  };

  async function webhook(organizationId: string, url: string): Promise<string> {
    const id = newId('wh');
    const issued = app.get(WebhookSecrets).issue(id);
    await prisma.webhook.create({ data: { id, organizationId, url, eventTypes: [], secretKeyId: issued.secretKeyId, secretSealed: issued.secretSealed } });
    return id;
  }

  const record = (organizationId: string, data: Record<string, unknown> = {}) =>
    new Database(prisma.databasePool)
      .transaction()
      .execute((tx) => app.get(EventsService).record(tx, { organizationId, type: 'dev.capstan.operation.succeeded', source: '/v1/operations/op_1', data }));

  async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await condition())) {
      if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  it('delivers recorded events by itself, within about a second', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 200);
    await webhook(org.organizationId, receiver.url);
    const event = await record(org.organizationId);

    await receiver.waitFor(1, 3_000);
    await until(async () => (await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId: event.id } })).status === 'succeeded', 2_000);
  });

  it('exposes deliverDue(), which resolves once what is due has been attempted', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 200);
    await webhook(org.organizationId, receiver.url);
    const event = await record(org.organizationId);

    const attempts = await app.get(WebhooksWorkerModule).deliverDue();

    // The interval may have claimed it first; either way it is done when deliverDue resolves.
    expect(attempts).toBeLessThanOrEqual(1);
    expect(await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId: event.id } })).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(receiver.received).toHaveLength(1);
  });

  it("keeps delivering another organisation's events promptly while one endpoint sleeps 10 s per request", async () => {
    const slowOrg = await seedOrganization(prisma);
    const otherOrg = await seedOrganization(prisma);
    const sleeper = await endpoint(() => sleep(10_000).then(() => 200));
    const prompt = await endpoint(() => 200);
    await webhook(slowOrg.organizationId, sleeper.url);
    await webhook(otherOrg.organizationId, prompt.url);
    // More than the worker has slots in all: without a per-organisation share they would take every one.
    for (let n = 0; n < 40; n++) await record(slowOrg.organizationId, { n });
    await sleeper.waitFor(1, 3_000);

    let recordedAt = performance.now();
    const first = await record(otherOrg.organizationId);
    const [firstArrived] = await prompt.waitFor(1, 3_000);
    expect(firstArrived!.headers['webhook-id']).toBe(first.id);
    expect(firstArrived!.at - recordedAt).toBeLessThan(2_000);

    recordedAt = performance.now();
    const second = await record(otherOrg.organizationId);
    const arrived = await prompt.waitFor(2, 3_000);
    expect(arrived[1]!.headers['webhook-id']).toBe(second.id);
    expect(arrived[1]!.at - recordedAt).toBeLessThan(2_000);
    expect(sleeper.received.length).toBeLessThanOrEqual(4);

    // The sleeper's attempts time out after 5 s and are rescheduled, not lost.
    await until(
      async () => (await prisma.webhookDelivery.count({ where: { organizationId: slowOrg.organizationId, lastError: 'no answer within 5 s' } })) >= 1,
      8_000,
    );
    const timedOut = await prisma.webhookDelivery.findFirstOrThrow({ where: { organizationId: slowOrg.organizationId, lastError: { not: null } } });
    expect(timedOut).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(timedOut.nextAttemptAt!.getTime() - Date.now()).toBeGreaterThan(20_000);
  }, 30_000);

  it('stops delivering when the application closes', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 200);
    await webhook(org.organizationId, receiver.url);
    const { url } = db;
    await app.close();
    closed = true;

    const after = new PrismaService(new DatabasePool(new DatabaseConfig(url, 1)));
    try {
      const event = await new Database(after.databasePool).transaction().execute((tx) =>
        new EventsService(new Database(after.databasePool), new SystemClock()).record(tx, {
          organizationId: org.organizationId,
          type: 'dev.capstan.operation.succeeded',
          source: '/v1/operations/op_2',
          data: {},
        }),
      );
      await sleep(2_500);
      expect(receiver.received).toHaveLength(0);
      expect(await after.webhookDelivery.findFirstOrThrow({ where: { eventId: event.id } })).toMatchObject({ status: 'pending', attempts: 0 });
    } finally {
      await after.$disconnect();
    }
  }, 20_000);
});
