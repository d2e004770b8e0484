import { Clock, Database, PrismaService, SecretBox } from '@capstan/platform';
import { type TestApi, seedOrganization, seedStaff, startTestApi } from '@capstan/testing';
import { WebhookDeliverer, WebhookDeliverySettings } from './delivery/webhook-deliverer';
import { EventsService, type NewEvent } from './events.service';
import { startEndpoint, type TestEndpoint, verifiesWithSecret } from './test/harness';
import { WebhookSecrets } from './webhooks/webhook-secrets';

const PROBLEMS = 'https://capstan.dev/problems/';

describe('events and webhooks API', () => {
  let api: TestApi;
  /** The same database, with plain http and private networks allowed (local receivers speak plain http on loopback). */
  let plainHttpApi: TestApi;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await startTestApi();
    // Same keyring, as every process of one deployment has.
    const keys = api.config.secrets.keyring.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
    plainHttpApi = await startTestApi({ WEBHOOKS_ALLOW_PLAIN_HTTP: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', SECRETS_KEYS: keys }, api.db);
    prisma = api.app.get(PrismaService);
  });

  afterAll(async () => {
    await plainHttpApi.close();
    await api.close();
  });

  const as = (token: string, target: TestApi = api) => ({
    get: (url: string) => target.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } }),
    post: (url: string, payload: object) => target.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload }),
    delete: (url: string) => target.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${token}` } }),
  });

  const record = (event: NewEvent) => new Database(prisma.databasePool).transaction().execute((tx) => api.app.get(EventsService).record(tx, event));
  const operationSucceeded = (organizationId: string, n = 1): NewEvent => ({
    organizationId,
    type: 'dev.capstan.operation.succeeded',
    source: `/v1/operations/op_${n}`,
    subject: `cl_${n}`,
    data: { n },
  });

  describe('creating a webhook', () => {
    it('answers 201 with the signing secret once, and never shows it again', async () => {
      const org = await seedOrganization(prisma);
      const created = await as(org.token).post('/v1/webhooks', {
        url: 'https://hooks.example.com/a',
        event_types: ['dev.capstan.operation.succeeded'],
        description: 'ops',
      });

      expect(created.statusCode).toBe(201);
      const webhook = created.json();
      expect(created.headers.location).toBe(`/v1/webhooks/${webhook.id}`);
      expect(webhook).toMatchObject({ url: 'https://hooks.example.com/a', event_types: ['dev.capstan.operation.succeeded'], description: 'ops' });
      expect(webhook.id).toMatch(/^wh_[0-9a-z]{26}$/);
      expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(webhook.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);

      const listed = await as(org.token).get('/v1/webhooks');
      const fetched = await as(org.token).get(`/v1/webhooks/${webhook.id}`);
      for (const answer of [listed, fetched]) {
        expect(answer.statusCode).toBe(200);
        expect(answer.body).not.toContain(webhook.secret);
        expect(answer.body).not.toContain('secret');
      }
      const { secret: _, ...withoutSecret } = webhook;
      expect(listed.json().items).toEqual([withoutSecret]);
      expect(fetched.json()).toEqual(withoutSecret);
    });

    it('keeps the secret sealed and bound to its webhook, and out of the audit log', async () => {
      const org = await seedOrganization(prisma);
      const { id, secret } = (await as(org.token).post('/v1/webhooks', { url: 'https://hooks.example.com/sealed' })).json();

      const row = await prisma.webhook.findUniqueOrThrow({ where: { id } });
      expect(Buffer.from(row.secretSealed).toString('latin1')).not.toContain(secret.slice(6, 20));
      const box = api.app.get(SecretBox);
      expect(box.open({ keyId: row.secretKeyId, sealed: Buffer.from(row.secretSealed) }, `webhook:${id}`)).toBe(secret);
      expect(() => box.open({ keyId: row.secretKeyId, sealed: Buffer.from(row.secretSealed) }, 'webhook:wh_another')).toThrow();

      const audit = await prisma.auditEvent.findMany({ where: { organizationId: org.organizationId } });
      expect(audit).toMatchObject([{ action: 'webhook.create', actorType: 'api_token', actorId: org.tokenId, targetType: 'webhook', targetId: id }]);
      expect(audit[0]!.changes).toMatchObject({ url: { after: 'https://hooks.example.com/sealed' }, event_types: { after: [] } });
      expect(JSON.stringify(audit)).not.toContain(secret);
    });

    it('accepts only https:// URLs unless plain http is allowed by WEBHOOKS_ALLOW_PLAIN_HTTP', async () => {
      const org = await seedOrganization(prisma);
      const plain = await as(org.token).post('/v1/webhooks', { url: 'http://hooks.example.com/a' });
      expect(plain.statusCode).toBe(422);
      expect(plain.json()).toMatchObject({ type: `${PROBLEMS}webhook-url-refused`, detail: 'url must be an https:// URL' });

      const allowed = await as(org.token, plainHttpApi).post('/v1/webhooks', { url: 'http://hooks.example.com/a' });
      expect(allowed.statusCode).toBe(201);

      for (const url of ['ftp://hooks.example.com/a', 'hooks.example.com/a', 'not a url']) {
        const refused = await as(org.token, plainHttpApi).post('/v1/webhooks', { url });
        expect(refused.statusCode).toBe(400);
        expect(refused.json().errors).toEqual([{ field: 'url', message: expect.any(String) }]);
      }
      expect(await prisma.webhook.count({ where: { organizationId: org.organizationId } })).toBe(1);
    });

    it('refuses URLs that point at private, loopback or link-local addresses, with nothing stored', async () => {
      const org = await seedOrganization(prisma);
      for (const url of ['https://169.254.169.254/latest/meta-data', 'https://10.0.0.5/hook', 'https://[::1]/hook', 'https://localhost/hook']) {
        const refused = await as(org.token).post('/v1/webhooks', { url });
        expect(refused.statusCode).toBe(422);
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(refused.json()).toMatchObject({ type: `${PROBLEMS}webhook-url-refused`, detail: expect.stringMatching(/^url must not point at/) });
      }
      expect(await prisma.webhook.count({ where: { organizationId: org.organizationId } })).toBe(0);
      // Where WEBHOOKS_ALLOW_PRIVATE_NETWORKS is set (development), they are accepted.
      expect((await as(org.token, plainHttpApi).post('/v1/webhooks', { url: 'https://10.0.0.5/hook' })).statusCode).toBe(201);
    });

    it('refuses URLs that carry credentials', async () => {
      const org = await seedOrganization(prisma);
      for (const url of ['https://user:pass@hooks.example.com/a', 'https://token@hooks.example.com/a']) {
        const refused = await as(org.token).post('/v1/webhooks', { url });
        expect(refused.statusCode).toBe(422);
        expect(refused.json().type).toBe(`${PROBLEMS}webhook-url-refused`);
        expect(refused.json().detail).toMatch(/credentials/);
        expect(refused.body).not.toContain(url);
      }
      expect(await prisma.webhook.count({ where: { organizationId: org.organizationId } })).toBe(0);
    });

    it('refuses a 21st webhook, even when requests race, and allows one again after a delete', async () => {
      const org = await seedOrganization(prisma);
      const client = as(org.token);
      for (let i = 0; i < 18; i++) expect((await client.post('/v1/webhooks', { url: `https://hooks.example.com/${i}` })).statusCode).toBe(201);
      const racing = await Promise.all([18, 19, 20, 21].map((i) => client.post('/v1/webhooks', { url: `https://hooks.example.com/${i}` })));
      expect(racing.map((r) => r.statusCode).sort()).toEqual([201, 201, 422, 422]);
      expect(racing.find((r) => r.statusCode === 422)!.json()).toMatchObject({ type: `${PROBLEMS}webhook-limit-reached`, limit: 20 });
      expect(await prisma.webhook.count({ where: { organizationId: org.organizationId } })).toBe(20);

      const first = (await client.get('/v1/webhooks?limit=1')).json().items[0];
      expect((await client.delete(`/v1/webhooks/${first.id}`)).statusCode).toBe(204);
      expect((await client.post('/v1/webhooks', { url: 'https://hooks.example.com/again' })).statusCode).toBe(201);
    });

    it('rejects malformed event types with a 400 naming them', async () => {
      const org = await seedOrganization(prisma);
      const bad = await as(org.token).post('/v1/webhooks', { url: 'https://hooks.example.com/a', event_types: ['OperationSucceeded'] });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors[0].field).toBe('event_types.0');
      const repeated = await as(org.token).post('/v1/webhooks', { url: 'https://hooks.example.com/a', event_types: ['dev.capstan.a.b', 'dev.capstan.a.b'] });
      expect(repeated.statusCode).toBe(400);
    });
  });

  describe("another organisation's webhook", () => {
    it('is a 404 to read, delete or list deliveries of, and absent from lists', async () => {
      const owner = await seedOrganization(prisma);
      const intruder = await seedOrganization(prisma);
      const { id } = (await as(owner.token).post('/v1/webhooks', { url: 'https://hooks.example.com/owner' })).json();

      for (const answer of [
        await as(intruder.token).get(`/v1/webhooks/${id}`),
        await as(intruder.token).delete(`/v1/webhooks/${id}`),
        await as(intruder.token).get(`/v1/webhooks/${id}/deliveries`),
      ]) {
        expect(answer.statusCode).toBe(404);
        expect(answer.json().type).toBe(`${PROBLEMS}not-found`);
      }
      expect((await as(intruder.token).get('/v1/webhooks')).json().items).toEqual([]);
      expect((await as(owner.token).get(`/v1/webhooks/${id}`)).statusCode).toBe(200);
    });
  });

  describe('deleting a webhook', () => {
    it('removes it from every answer, abandons its pending deliveries and audits the delete', async () => {
      const org = await seedOrganization(prisma);
      const { id } = (await as(org.token).post('/v1/webhooks', { url: 'https://hooks.example.com/bye' })).json();
      await record(operationSucceeded(org.organizationId));

      const deleted = await as(org.token).delete(`/v1/webhooks/${id}`);
      expect(deleted.statusCode).toBe(204);
      expect((await as(org.token).get(`/v1/webhooks/${id}`)).statusCode).toBe(404);
      expect((await as(org.token).get(`/v1/webhooks/${id}/deliveries`)).statusCode).toBe(404);
      expect((await as(org.token).delete(`/v1/webhooks/${id}`)).statusCode).toBe(404);
      expect((await as(org.token).get('/v1/webhooks')).json().items).toEqual([]);
      expect(await prisma.webhookDelivery.findMany({ where: { webhookId: id } })).toMatchObject([
        { status: 'failed', lastError: 'the webhook was deleted', nextAttemptAt: null },
      ]);
      expect(await prisma.auditEvent.count({ where: { action: 'webhook.delete', targetId: id, actorId: org.tokenId } })).toBe(1);

      // No new deliveries for it either.
      expect((await record(operationSucceeded(org.organizationId, 2))).deliveries).toBe(0);
    });
  });

  describe('the event log', () => {
    it("lists the caller's events newest first, by type, a page at a time", async () => {
      const org = await seedOrganization(prisma);
      const other = await seedOrganization(prisma);
      const ids: string[] = [];
      for (let n = 1; n <= 5; n++)
        ids.push(
          (await record({ ...operationSucceeded(org.organizationId, n), type: n % 2 ? 'dev.capstan.operation.succeeded' : 'dev.capstan.operation.failed' })).id,
        );
      await record(operationSucceeded(other.organizationId, 99));

      const all = (await as(org.token).get('/v1/events')).json();
      expect(all.items.map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
      expect(all.items[0]).toEqual({
        id: ids[4],
        type: 'dev.capstan.operation.succeeded',
        source: '/v1/operations/op_5',
        subject: 'cl_5',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        data: { n: 5 },
      });

      const failed = (await as(org.token).get('/v1/events?type=dev.capstan.operation.failed')).json();
      expect(failed.items.map((e: { id: string }) => e.id)).toEqual([ids[3], ids[1]]);

      const first = (await as(org.token).get('/v1/events?limit=2')).json();
      const second = (await as(org.token).get(`/v1/events?limit=2&cursor=${first.next_cursor}`)).json();
      const third = (await as(org.token).get(`/v1/events?limit=2&cursor=${second.next_cursor}`)).json();
      expect([...first.items, ...second.items, ...third.items].map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
      expect(third.next_cursor).toBeNull();
    });

    it('shows staff every organisation, filtered by organisation and type, and refuses customers there', async () => {
      const a = await seedOrganization(prisma);
      const b = await seedOrganization(prisma);
      const staff = await seedStaff(prisma, 'viewer');
      const fromA = await record(operationSucceeded(a.organizationId));
      const fromB = await record({ ...operationSucceeded(b.organizationId), type: 'dev.capstan.cluster.deleted' });
      const fleet = await record({ organizationId: null, type: 'dev.capstan.fleet.maintenance', source: '/admin/v1/fleet', data: {} });

      const everything = (await as(staff.token).get('/admin/v1/events?limit=100')).json();
      expect(everything.items.map((e: { id: string }) => e.id)).toEqual(expect.arrayContaining([fromA.id, fromB.id, fleet.id]));
      expect(everything.items.find((e: { id: string }) => e.id === fleet.id)).toMatchObject({ organization_id: null, subject: null });

      const onlyB = (await as(staff.token).get(`/admin/v1/events?organization_id=${b.organizationId}`)).json();
      expect(onlyB.items).toEqual([expect.objectContaining({ id: fromB.id, organization_id: b.organizationId })]);
      const byType = (await as(staff.token).get('/admin/v1/events?type=dev.capstan.cluster.deleted')).json();
      expect(byType.items.map((e: { id: string }) => e.id)).toEqual([fromB.id]);

      expect((await as(a.token).get('/admin/v1/events')).statusCode).toBe(403);
      expect((await as(a.token).get('/v1/events')).json().items.map((e: { id: string }) => e.id)).toEqual([fromA.id]);
    });
  });

  describe('the delivery log', () => {
    let endpoint: TestEndpoint;
    beforeAll(async () => {
      endpoint = await startEndpoint((request) => (JSON.parse(request.body).data.fail ? 503 : 200));
    });
    afterAll(async () => {
      await endpoint.close();
    });

    it('shows each delivery with its status, attempts, last status code, last error and next attempt', async () => {
      const org = await seedOrganization(prisma);
      const created = (await as(org.token, plainHttpApi).post('/v1/webhooks', { url: endpoint.url })).json();
      const delivered = await record({ ...operationSucceeded(org.organizationId), data: { fail: false } });
      const refused = await record({ ...operationSucceeded(org.organizationId, 2), data: { fail: true } });

      const deliverer = new WebhookDeliverer(
        api.app.get(Database),
        api.app.get(WebhookSecrets),
        api.app.get(Clock),
        new WebhookDeliverySettings(undefined, undefined, undefined, undefined, undefined, true),
      );
      expect(await deliverer.deliverDue()).toBe(2);

      const log = await as(org.token).get(`/v1/webhooks/${created.id}/deliveries`);
      expect(log.statusCode).toBe(200);
      const [newest, oldest] = log.json().items;
      expect(oldest).toMatchObject({
        webhook_id: created.id,
        event_id: delivered.id,
        event_type: 'dev.capstan.operation.succeeded',
        status: 'succeeded',
        attempts: 1,
        last_status_code: 200,
        last_error: null,
        next_attempt_at: null,
        delivered_at: expect.any(String),
      });
      expect(newest).toMatchObject({
        event_id: refused.id,
        status: 'pending',
        attempts: 1,
        last_status_code: 503,
        last_error: 'the endpoint answered HTTP 503',
        delivered_at: null,
      });
      const retryIn = Date.parse(newest.next_attempt_at) - Date.now();
      expect(retryIn).toBeGreaterThan(20_000);
      expect(retryIn).toBeLessThanOrEqual(30_000);

      const pending = (await as(org.token).get(`/v1/webhooks/${created.id}/deliveries?status=pending`)).json();
      expect(pending.items.map((d: { event_id: string }) => d.event_id)).toEqual([refused.id]);

      // The secret shown at creation verifies what the endpoint received.
      const received = endpoint.received.filter((r) => r.headers['webhook-id'] === delivered.id);
      expect(received).toHaveLength(1);
      expect(verifiesWithSecret(created.secret, received[0]!)).toBe(true);
    });
  });
});
