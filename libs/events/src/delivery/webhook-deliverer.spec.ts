import { Database, DatabaseConfig, ManualClock, newId, DatabasePool, PrismaService, SecretBox, SecretsConfig } from '@capstan/platform';
import { createTestDatabase, seedOrganization, type TestDatabase } from '@capstan/testing';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { EventsService, type NewEvent } from '../events.service';
import { sleep, startEndpoint, type TestEndpoint, verifiesWithSecret } from '../test/harness';
import { WebhookSecrets } from '../webhooks/webhook-secrets';
import { DELIVERY_WINDOW_MS, retryDelayMs } from './retry-schedule';
import { WebhookDeliverer, WebhookDeliverySettings } from './webhook-deliverer';

describe('WebhookDeliverer', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let secrets: WebhookSecrets;
  let clock: ManualClock;
  let events: EventsService;
  const endpoints: TestEndpoint[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 4)));
    secrets = new WebhookSecrets(new SecretBox(new SecretsConfig([{ id: 'test', key: randomBytes(32) }])));
  });

  beforeEach(async () => {
    // Every test starts from no webhooks, so one test's retries never land in another's run.
    await prisma.webhookDelivery.deleteMany();
    await prisma.webhook.deleteMany();
    clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
    events = new EventsService(new Database(prisma.databasePool), clock);
  });

  afterEach(async () => {
    await Promise.all(endpoints.splice(0).map((e) => e.close()));
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  const deliverer = (settings: Partial<WebhookDeliverySettings> = {}, client: PrismaService = prisma) => {
    const defaults = new WebhookDeliverySettings();
    return new WebhookDeliverer(
      new Database(client.databasePool),
      secrets,
      clock,
      new WebhookDeliverySettings(
        settings.concurrency ?? defaults.concurrency,
        settings.perOrganization ?? defaults.perOrganization,
        settings.timeoutMs ?? defaults.timeoutMs,
        settings.pollIntervalMs ?? defaults.pollIntervalMs,
        settings.leaseMs ?? defaults.leaseMs,
        // The test endpoints listen on loopback.
        settings.allowPrivateNetworks ?? true,
      ),
    );
  };

  const endpoint = async (...args: Parameters<typeof startEndpoint>) => {
    const started = await startEndpoint(...args);
    endpoints.push(started);
    return started;
  };

  /** A webhook as WebhooksService.create stores it (the API tests cover creating one). */
  async function webhook(organizationId: string, url: string): Promise<{ id: string; secret: string }> {
    const id = newId('wh');
    const issued = secrets.issue(id);
    await prisma.webhook.create({ data: { id, organizationId, url, eventTypes: [], secretKeyId: issued.secretKeyId, secretSealed: issued.secretSealed } });
    return { id, secret: issued.secret };
  }

  const record = (organizationId: string, data: Record<string, unknown> = {}, extra: Partial<NewEvent> = {}) =>
    new Database(prisma.databasePool)
      .transaction()
      .execute((tx) => events.record(tx, { organizationId, type: 'dev.capstan.operation.succeeded', source: '/v1/operations/op_1', data, ...extra }));

  const deliveryOf = (eventId: string) => prisma.webhookDelivery.findFirstOrThrow({ where: { eventId } });

  it('posts the event as a structured CloudEvent, signed so that it verifies with the secret', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 204);
    const hook = await webhook(org.organizationId, receiver.url);
    const event = await record(org.organizationId, { operation: { id: 'op_1', status: 'succeeded' } }, { subject: 'cl_1' });
    clock.advance(1_500);

    expect(await deliverer().deliverDue()).toBe(1);

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request!.headers).toMatchObject({
      'content-type': 'application/cloudevents+json',
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(clock.now().getTime() / 1000)),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
    expect(JSON.parse(request!.body)).toEqual({
      specversion: '1.0',
      id: event.id,
      type: 'dev.capstan.operation.succeeded',
      source: '/v1/operations/op_1',
      subject: 'cl_1',
      time: '2026-11-25T12:00:00.000Z',
      datacontenttype: 'application/json',
      data: { operation: { id: 'op_1', status: 'succeeded' } },
    });
    expect(verifiesWithSecret(hook.secret, request!)).toBe(true);
    expect(verifiesWithSecret(`whsec_${randomBytes(32).toString('base64')}`, request!)).toBe(false);
    expect(verifiesWithSecret(hook.secret, { ...request!, body: request!.body.replace('succeeded', 'failed') })).toBe(false);

    expect(await deliveryOf(event.id)).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      lastStatusCode: 204,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: clock.now(),
    });
    expect(await deliverer().deliverDue()).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it('retries a failing endpoint with exponential backoff until it answers 2xx', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint((_, index) => (index < 3 ? 500 : 200));
    const hook = await webhook(org.organizationId, receiver.url);
    const event = await record(org.organizationId);
    const worker = deliverer();
    const start = clock.now().getTime();

    expect(await worker.deliverDue()).toBe(1);
    expect(await deliveryOf(event.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatusCode: 500,
      lastError: 'the endpoint answered HTTP 500',
      nextAttemptAt: new Date(start + 30_000),
    });

    clock.advance(29_999);
    expect(await worker.deliverDue()).toBe(0);
    clock.advance(1);
    expect(await worker.deliverDue()).toBe(1);
    expect(await deliveryOf(event.id)).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: new Date(start + 30_000 + 60_000) });

    clock.advance(60_000);
    expect(await worker.deliverDue()).toBe(1);
    expect(await deliveryOf(event.id)).toMatchObject({ status: 'pending', attempts: 3, nextAttemptAt: new Date(start + 30_000 + 60_000 + 120_000) });

    clock.advance(119_000);
    expect(await worker.deliverDue()).toBe(0);
    clock.advance(1_000);
    expect(await worker.deliverDue()).toBe(1);
    expect(await deliveryOf(event.id)).toMatchObject({
      status: 'succeeded',
      attempts: 4,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: clock.now(),
    });

    // Every attempt carries the same message id (receivers deduplicate on it) and its own valid signature.
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([event.id, event.id, event.id, event.id]);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-timestamp'])).size).toBe(4);
    expect(receiver.received.every((r) => verifiesWithSecret(hook.secret, r))).toBe(true);
  });

  it('gives up 24 hours after the event and marks the delivery failed', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 503);
    await webhook(org.organizationId, receiver.url);
    const event = await record(org.organizationId);
    const worker = deliverer();
    const delays: number[] = [];

    for (;;) {
      expect(await worker.deliverDue()).toBe(1);
      const delivery = await deliveryOf(event.id);
      if (delivery.status !== 'pending') break;
      delays.push((delivery.nextAttemptAt!.getTime() - clock.now().getTime()) / 1000);
      expect(delivery.nextAttemptAt!.getTime()).toBeLessThanOrEqual(event.time.getTime() + DELIVERY_WINDOW_MS);
      clock.set(delivery.nextAttemptAt!);
    }

    // 30 s doubling to 32 min (3,810 s in all), then hourly: 22 more fit before 24 h; the 30th attempt is the last.
    expect(delays).toEqual(Array.from({ length: 29 }, (_, i) => retryDelayMs(i + 1) / 1000));
    expect(delays.slice(0, 9)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    expect(clock.now().getTime() - event.time.getTime()).toBeLessThanOrEqual(DELIVERY_WINDOW_MS);
    expect(await deliveryOf(event.id)).toMatchObject({ status: 'failed', attempts: 30, lastStatusCode: 503, nextAttemptAt: null, deliveredAt: null });
    expect(receiver.received).toHaveLength(30);

    clock.advance(DELIVERY_WINDOW_MS);
    expect(await worker.deliverDue()).toBe(0);
  });

  it('fails a delivery that was still pending 24 hours after its event after one last attempt', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 500);
    await webhook(org.organizationId, receiver.url);
    const event = await record(org.organizationId);

    clock.advance(DELIVERY_WINDOW_MS + 1);
    expect(await deliverer().deliverDue()).toBe(1);
    expect(await deliveryOf(event.id)).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 500, nextAttemptAt: null });
  });

  it('says why an unreachable endpoint failed, and does not follow redirects', async () => {
    const org = await seedOrganization(prisma);
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    await webhook(org.organizationId, `http://127.0.0.1:${closedPort}/hook`);
    const unreachable = await record(org.organizationId);
    const elsewhere = await endpoint(() => 200);
    const redirecting = await endpoint(() => ({ status: 307, headers: { location: elsewhere.url } }));
    const other = await seedOrganization(prisma);
    await webhook(other.organizationId, redirecting.url);
    const redirected = await record(other.organizationId);

    expect(await deliverer().deliverDue()).toBe(2);

    expect(await deliveryOf(unreachable.id)).toMatchObject({ status: 'pending', lastStatusCode: null, lastError: 'could not connect: ECONNREFUSED' });
    expect(await deliveryOf(redirected.id)).toMatchObject({ status: 'pending', lastStatusCode: 307, lastError: 'the endpoint answered HTTP 307' });
    expect(redirecting.received).toHaveLength(1);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('refuses to deliver to addresses off the public internet unless private networks are allowed', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 204);
    // A name, not a literal: only the resolved address tells that it is loopback.
    await webhook(org.organizationId, receiver.url.replace('127.0.0.1', 'localhost'));
    const byName = await record(org.organizationId);
    const other = await seedOrganization(prisma);
    await webhook(other.organizationId, receiver.url);
    const byLiteral = await record(other.organizationId);

    expect(await deliverer({ allowPrivateNetworks: false }).deliverDue()).toBe(2);

    expect(receiver.received).toHaveLength(0);
    for (const event of [byName, byLiteral]) {
      const delivery = await deliveryOf(event.id);
      expect(delivery).toMatchObject({ status: 'pending', lastStatusCode: null });
      expect(delivery.lastError).toMatch(/is not on the public internet .*deliveries there are refused$/);
    }

    // The same deliveries, where private networks are allowed (development): delivered.
    clock.advance(retryDelayMs(1));
    expect(await deliverer({ allowPrivateNetworks: true }).deliverDue()).toBe(2);
    expect(receiver.received).toHaveLength(2);
  });

  it('gives an endpoint that does not answer 5 seconds', async () => {
    const org = await seedOrganization(prisma);
    const silent = await endpoint(() => sleep(10_000).then(() => 200));
    await webhook(org.organizationId, silent.url);
    const event = await record(org.organizationId);

    const started = performance.now();
    expect(await deliverer().deliverDue()).toBe(1);
    const took = performance.now() - started;

    expect(took).toBeGreaterThanOrEqual(4_900);
    expect(took).toBeLessThan(7_000);
    expect(await deliveryOf(event.id)).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'no answer within 5 s' });
  }, 20_000);

  it('delivers each event once when two replicas deliver at the same time', async () => {
    const receiver = await endpoint(() => sleep(20).then(() => 200));
    const eventIds: string[] = [];
    for (let o = 0; o < 3; o++) {
      const org = await seedOrganization(prisma);
      await webhook(org.organizationId, receiver.url);
      for (let n = 0; n < 10; n++) eventIds.push((await record(org.organizationId, { n })).id);
    }
    // Two replicas: separate connection pools, as two worker processes have.
    const otherReplica = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 4)));
    try {
      const [a, b] = await Promise.all([deliverer({ concurrency: 8 }).deliverDue(), deliverer({ concurrency: 8 }, otherReplica).deliverDue()]);
      expect(a + b).toBe(30);
    } finally {
      await otherReplica.$disconnect();
    }

    expect(receiver.received.map((r) => r.headers['webhook-id']).sort()).toEqual([...eventIds].sort());
    const deliveries = await prisma.webhookDelivery.findMany();
    expect(deliveries).toHaveLength(30);
    expect(deliveries.every((d) => d.status === 'succeeded' && d.attempts === 1)).toBe(true);
  });

  it('skips a delivery another replica is claiming instead of waiting for it', async () => {
    const org = await seedOrganization(prisma);
    const receiver = await endpoint(() => 200);
    await webhook(org.organizationId, receiver.url);
    const locked = await record(org.organizationId, { n: 1 });
    const free = await record(org.organizationId, { n: 2 });
    const otherReplica = new PrismaService(new DatabasePool(new DatabaseConfig(db.url, 1)));
    try {
      await otherReplica.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT id FROM webhook_deliveries WHERE event_id = ${locked.id} FOR UPDATE`;
          const started = performance.now();
          expect(await deliverer().deliverDue()).toBe(1);
          expect(performance.now() - started).toBeLessThan(2_000);
        },
        { timeout: 10_000 },
      );
    } finally {
      await otherReplica.$disconnect();
    }
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([free.id]);
    expect(await deliveryOf(locked.id)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it("serves organisations in turn, so one organisation's backlog does not hold back another's events", async () => {
    const receiver = await endpoint(() => sleep(30).then(() => 200));
    const busy = await seedOrganization(prisma);
    const quiet = await seedOrganization(prisma);
    await webhook(busy.organizationId, receiver.url);
    await webhook(quiet.organizationId, receiver.url);
    for (let n = 0; n < 8; n++) await record(busy.organizationId, { n });
    clock.advance(1_000);
    const quietEvent = await record(quiet.organizationId);

    expect(await deliverer({ concurrency: 2, perOrganization: 4 }).deliverDue()).toBe(9);

    // The first claim of two takes one of each organisation, though the busy one's eight are older.
    const order = receiver.received.map((r) => r.headers['webhook-id']);
    expect(order.indexOf(quietEvent.id)).toBeLessThan(2);
  });

  it('lets a hanging endpoint hold at most its per-organisation share of the slots', async () => {
    const hanging = await endpoint(() => sleep(10_000).then(() => 200));
    const fast = await endpoint(() => 200);
    const slow = await seedOrganization(prisma);
    const other = await seedOrganization(prisma);
    await webhook(slow.organizationId, hanging.url);
    await webhook(other.organizationId, fast.url);
    for (let n = 0; n < 6; n++) await record(slow.organizationId, { n });
    // Slots are not refilled on their own here: each claim below is the test's, so the counts are exact.
    const worker = deliverer({ concurrency: 3, perOrganization: 2, timeoutMs: 1_000 });

    try {
      expect(await worker.dispatch()).toBe(2);
      await hanging.waitFor(2);
      // The hanging organisation has four more due, but its two slots are taken: the third is free.
      const first = await record(other.organizationId);
      expect(await worker.dispatch()).toBe(1);
      await fast.waitFor(1, 500);
      while (worker.inFlightCount > 2) await sleep(5);
      expect(await deliveryOf(first.id)).toMatchObject({ status: 'succeeded' });
      const second = await record(other.organizationId);
      expect(await worker.dispatch()).toBe(1);
      await fast.waitFor(2, 500);

      expect(fast.received.map((r) => r.headers['webhook-id'])).toEqual([first.id, second.id]);
      expect(hanging.received).toHaveLength(2);
    } finally {
      await worker.drain();
    }
  }, 20_000);
});
