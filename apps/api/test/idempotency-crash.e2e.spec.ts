import { Database, IDEMPOTENCY_SCOPE, IdempotencyInterceptor, PrismaService } from '@capstan/platform';
import type { ExecutionContext } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { lastValueFrom, NEVER } from 'rxjs';
import { clusterRequest, seedOrganization, startTestApi, type TestApi } from '@capstan/testing';

const LEASE_MS = 5_000;

/**
 * A request whose process died leaves its Idempotency-Key claimed but unanswered. The claim is
 * a lease of about a request's run (IDEMPOTENCY_LEASE_MS), so the client can retry once it ends,
 * and the retry never makes a second cluster.
 */
describe('Idempotency-Key after a crash mid-request', () => {
  let api: TestApi;
  let database: Database;
  let token: string;
  let organizationId: string;

  beforeAll(async () => {
    api = await startTestApi({ IDEMPOTENCY_LEASE_MS: String(LEASE_MS) });
    database = api.app.get(Database);
    const org = await seedOrganization(api.app.get(PrismaService));
    token = org.token;
    organizationId = org.organizationId;
  }, 60_000);

  afterAll(async () => {
    await api.close();
  }, 30_000);

  const create = (key: string, name: string) =>
    api.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
      payload: clusterRequest({ name }),
    });

  /** What a process killed between claiming the key and storing the answer leaves behind. */
  async function crashedMidRequest(key: string, claimedMsAgo: number) {
    const now = Date.now();
    await database
      .updateTable('idempotency_records')
      .set({ response_status: 0, response_body: JSON.stringify({}), response_headers: JSON.stringify({}), expires_at: new Date(now - claimedMsAgo + LEASE_MS) })
      .where('organization_id', '=', organizationId)
      .where('key', '=', key)
      .execute();
  }

  const liveClusters = async (name: string) =>
    Number(
      (
        await database
          .selectFrom('clusters')
          .select((eb) => eb.fn.countAll<bigint>().as('n'))
          .where('organization_id', '=', organizationId)
          .where('live_name', '=', name)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('holds an in-flight key for the lease, and an answered one for 24 h', async () => {
    // A request that never finishes (its process is about to die): the claim is all there is.
    const interceptor = api.app.get(IdempotencyInterceptor, { strict: false });
    const cls = api.app.get(ClsService);
    const request = { method: 'POST', url: '/v1/clusters', body: { name: 'hung' }, headers: { 'idempotency-key': 'in-flight' } };
    const context = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({ header: () => undefined }) }) } as unknown as ExecutionContext;
    const claimedAt = Date.now();
    await cls.run(async () => {
      cls.set(IDEMPOTENCY_SCOPE, organizationId);
      const hung = lastValueFrom(interceptor.intercept(context, { handle: () => NEVER }));
      void hung.catch(() => undefined);
      for (let i = 0; i < 100 && !(await database.selectFrom('idempotency_records').select('key').where('key', '=', 'in-flight').executeTakeFirst()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const claim = await database
      .selectFrom('idempotency_records')
      .select(['expires_at', 'response_status'])
      .where('key', '=', 'in-flight')
      .executeTakeFirstOrThrow();
    expect(claim.response_status).toBe(0);
    expect(claim.expires_at.getTime()).toBeGreaterThanOrEqual(claimedAt + LEASE_MS - 1_000);
    expect(claim.expires_at.getTime()).toBeLessThanOrEqual(Date.now() + LEASE_MS);

    const res = await create('lease-length', 'lease-length');
    expect(res.statusCode).toBe(202);
    const stored = await database
      .selectFrom('idempotency_records')
      .select(['expires_at', 'created_at'])
      .where('key', '=', 'lease-length')
      .executeTakeFirstOrThrow();
    expect(stored.expires_at.getTime() - stored.created_at.getTime()).toBeGreaterThan(23 * 3600_000);
  });

  it('answers a retry within the lease with 409 and Retry-After saying when the lease ends', async () => {
    const first = await create('died-early-2', 'died-early-2');
    expect(first.statusCode).toBe(202);
    // Make the stored answer look like a claim whose process died just now: within the lease,
    // a retry cannot know whether the first attempt is still running, and is told to wait.
    await crashedMidRequest('died-early-2', 0);
    const during = await create('died-early-2', 'died-early-2');
    expect(during.statusCode).toBe(409);
    expect(during.json().type).toBe('https://capstan.dev/problems/idempotency-key-in-use');
    expect(Number(during.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(during.headers['retry-after'])).toBeLessThanOrEqual(LEASE_MS / 1000);
  });

  it('after the lease, a retry of a request whose cluster was committed creates no second cluster', async () => {
    const first = await create('committed-then-died', 'committed');
    expect(first.statusCode).toBe(202);
    expect(await liveClusters('committed')).toBe(1);
    // The process died after committing the cluster but before storing the answer; the lease has run out.
    await crashedMidRequest('committed-then-died', LEASE_MS + 1_000);
    const retry = await create('committed-then-died', 'committed');
    expect([202, 409]).toContain(retry.statusCode);
    if (retry.statusCode === 409) expect(retry.json().type).not.toBe('https://capstan.dev/problems/idempotency-key-in-use');
    expect(await liveClusters('committed')).toBe(1);
  });

  it('after the lease, a retry of a request that died before committing runs it', async () => {
    const first = await create('died-before-commit', 'first-try');
    expect(first.statusCode).toBe(202);
    // Undo the cluster as if its transaction had never committed, and leave the claim behind.
    const clusterId = first.json().cluster.id as string;
    await database
      .deleteFrom('operation_steps')
      .where('operation_id', 'in', database.selectFrom('operations').select('id').where('cluster_id', '=', clusterId))
      .execute();
    await database.deleteFrom('outbox_messages').execute();
    await database.deleteFrom('operations').where('cluster_id', '=', clusterId).execute();
    await database.deleteFrom('node_pools').where('cluster_id', '=', clusterId).execute();
    await database.deleteFrom('clusters').where('id', '=', clusterId).execute();
    await crashedMidRequest('died-before-commit', LEASE_MS + 1_000);
    const retry = await create('died-before-commit', 'first-try');
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await liveClusters('first-try')).toBe(1);
    // And from now on the answer is replayed.
    const again = await create('died-before-commit', 'first-try');
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().cluster.id).toBe(retry.json().cluster.id);
  });
});
