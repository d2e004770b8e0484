import type { AddressInfo } from 'node:net';
import { PrismaService } from '@capstan/platform';
import { type CapstanClient, createCapstanClient, type components, type Problem } from '@capstan/sdk';
import { seedOrganization, seedStaff, startTestApi, type TestApi } from '@capstan/testing';

type CreateClusterRequest = components['schemas']['CreateClusterRequest'];

/**
 * Provider staff at work, through the generated SDK over real HTTP against the real API,
 * PostgreSQL and Redis: onboarding, quotas, suspension, the cross-tenant views and the audit log.
 */
describe('the SDK, as provider staff use it', () => {
  let api: TestApi;
  let prisma: PrismaService;
  let baseUrl: string;
  let operator: CapstanClient;
  let operatorTokenId: string;
  let viewer: CapstanClient;

  beforeAll(async () => {
    api = await startTestApi();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
    prisma = api.app.get(PrismaService);
    const seededOperator = await seedStaff(prisma, 'operator');
    operator = createCapstanClient({ baseUrl, token: seededOperator.token });
    operatorTokenId = (await prisma.staffApiToken.findFirstOrThrow({ where: { staffUserId: seededOperator.staffUserId } })).id;
    viewer = createCapstanClient({ baseUrl, token: (await seedStaff(prisma, 'viewer')).token });
  });

  afterAll(async () => {
    await api.close();
  });

  function expectProblem(result: { error?: unknown; response: Response }, status: number, slug: string): Problem {
    expect(result.response.status).toBe(status);
    expect(result.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(result.error).toMatchObject({ type: `https://capstan.dev/problems/${slug}`, status });
    return result.error as Problem;
  }

  function clusterRequest(name: string, overrides: Partial<CreateClusterRequest> = {}): CreateClusterRequest {
    return { name, provider: 'rke2', region: 'nine-cz41', node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 3 }], ...overrides };
  }

  /** Onboards an organisation through the admin API and issues its first token. */
  async function onboard(name: string, quota = { max_clusters: 5, max_nodes: 40 }) {
    const created = await operator.POST('/admin/v1/organizations', { body: { name, display_name: `${name} AG`, residency: 'CH', quota } });
    if (!created.data) throw new Error(`onboarding ${name} answered ${created.response.status}: ${JSON.stringify(created.error)}`);
    const issued = await operator.POST('/admin/v1/organizations/{organization_id}/tokens', {
      params: { path: { organization_id: created.data.id } },
      body: { name: 'first', reason: 'onboarding' },
    });
    return { organization: created.data, token: issued.data!, customer: createCapstanClient({ baseUrl, token: issued.data!.secret }) };
  }

  it('onboards an organisation and issues its first token, whose secret is shown once and works on /v1/organization', async () => {
    // when the organisation is created
    const created = await operator.POST('/admin/v1/organizations', {
      body: { name: 'globex', display_name: 'Globex Schweiz AG', residency: 'CH', plan: 'enterprise', quota: { max_clusters: 4, max_nodes: 32 } },
    });

    // then
    expect(created.response.status).toBe(201);
    const organization = created.data!;
    expect(organization).toMatchObject({
      name: 'globex',
      display_name: 'Globex Schweiz AG',
      residency: 'CH',
      plan: 'enterprise',
      status: 'active',
      suspended_reason: null,
      quota: { max_clusters: 4, max_nodes: 32 },
      usage: { clusters: 0, nodes: 0 },
    });
    expect(organization.id).toMatch(/^org_[0-9a-z]{26}$/);
    expectProblem(
      await operator.POST('/admin/v1/organizations', {
        body: { name: 'globex', display_name: 'Another', residency: 'DE', quota: { max_clusters: 1, max_nodes: 1 } },
      }),
      409,
      'name-taken',
    );

    // when its first token is issued
    const issued = await operator.POST('/admin/v1/organizations/{organization_id}/tokens', {
      params: { path: { organization_id: organization.id } },
      body: { name: 'first', scopes: ['read', 'write'], reason: 'onboarding ticket OPS-1234' },
    });

    // then the secret comes with the answer, works as the organisation, and is never listed
    expect(issued.response.status).toBe(201);
    expect(issued.data!.secret).toMatch(/^cap_[A-Za-z0-9_-]{43}$/);
    const customer = createCapstanClient({ baseUrl, token: issued.data!.secret });
    const own = await customer.GET('/v1/organization');
    expect(own.response.status).toBe(200);
    expect(own.data).toMatchObject({ id: organization.id, name: 'globex', quota: { max_clusters: 4, max_nodes: 32 } });
    const tokens = await customer.GET('/v1/tokens');
    expect(tokens.data!.items.map((t) => [t.id, t.name])).toEqual([[issued.data!.id, 'first']]);
    expect(JSON.stringify(tokens.data)).not.toContain(issued.data!.secret);
  });

  it('lists and searches organisations by name or display name, a page at a time', async () => {
    // given
    const { organization: initech } = await onboard('initech');
    const { organization: umbrella } = await onboard('umbrella-health');

    // when / then
    const all = await viewer.GET('/admin/v1/organizations', { params: { query: { limit: 100 } } });
    expect(all.response.status).toBe(200);
    expect(all.data!.items.map((o) => o.id)).toEqual(expect.arrayContaining([initech.id, umbrella.id]));
    const byName = await viewer.GET('/admin/v1/organizations', { params: { query: { q: 'INITECH' } } });
    expect(byName.data!.items.map((o) => o.id)).toEqual([initech.id]);
    const byDisplayName = await viewer.GET('/admin/v1/organizations', { params: { query: { q: 'health AG' } } });
    expect(byDisplayName.data!.items.map((o) => o.id)).toEqual([umbrella.id]);
    const nothing = await viewer.GET('/admin/v1/organizations', { params: { query: { q: 'no-such-customer' } } });
    expect(nothing.data).toEqual({ items: [], next_cursor: null });

    // and pages through all of them
    const first = await viewer.GET('/admin/v1/organizations', { params: { query: { limit: 1 } } });
    expect(first.data!.items).toHaveLength(1);
    expect(first.data!.next_cursor).not.toBeNull();
    const second = await viewer.GET('/admin/v1/organizations', { params: { query: { limit: 1, cursor: first.data!.next_cursor! } } });
    expect(second.data!.items[0]!.id).not.toBe(first.data!.items[0]!.id);
  });

  it("changes an organisation's quota only under its current ETag, and the new quota binds at once", async () => {
    // given
    const { organization, customer } = await onboard('hooli', { max_clusters: 5, max_nodes: 40 });
    const read = await operator.GET('/admin/v1/organizations/{organization_id}', { params: { path: { organization_id: organization.id } } });
    expect(read.response.headers.get('etag')).toBe(read.data!.etag);

    // when the quota is lowered under the etag just read
    const lowered = await operator.PATCH('/admin/v1/organizations/{organization_id}/quota', {
      params: { path: { organization_id: organization.id }, header: { 'If-Match': read.data!.etag } },
      body: { max_clusters: 1, max_nodes: 3, reason: 'trial account' },
    });

    // then
    expect(lowered.response.status).toBe(200);
    expect(lowered.data!.quota).toEqual({ max_clusters: 1, max_nodes: 3 });
    expect(lowered.data!.etag).not.toBe(read.data!.etag);
    expect((await customer.GET('/v1/organization')).data!.quota).toEqual({ max_clusters: 1, max_nodes: 3 });
    const tooMany = await customer.POST('/v1/clusters', {
      body: clusterRequest('too-many-nodes', { node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 4 }] }),
    });
    expect(expectProblem(tooMany, 422, 'quota-exceeded')).toMatchObject({ quota: 'nodes', limit: 3 });

    // and a change under the old etag is refused and changes nothing
    const stale = await operator.PATCH('/admin/v1/organizations/{organization_id}/quota', {
      params: { path: { organization_id: organization.id }, header: { 'If-Match': read.data!.etag } },
      body: { max_clusters: 100, reason: 'stale screen' },
    });
    expectProblem(stale, 412, 'precondition-failed');
    const after = await viewer.GET('/admin/v1/organizations/{organization_id}', { params: { path: { organization_id: organization.id } } });
    expect(after.data!.quota).toEqual({ max_clusters: 1, max_nodes: 3 });
  });

  it('suspends an organisation: its writes answer 403 with the reason while reads still work; resuming restores writes', async () => {
    // given
    const { organization, customer } = await onboard('soylent');
    const before = await customer.POST('/v1/clusters', { body: clusterRequest('before-suspension') });
    expect(before.response.status).toBe(202);

    // when
    const suspended = await operator.POST('/admin/v1/organizations/{organization_id}/suspend', {
      params: { path: { organization_id: organization.id } },
      body: { reason: 'invoice 2026-10 unpaid' },
    });

    // then
    expect(suspended.response.status).toBe(200);
    expect(suspended.data).toMatchObject({ status: 'suspended', suspended_reason: 'invoice 2026-10 unpaid' });
    const refused = await customer.POST('/v1/clusters', { body: clusterRequest('during-suspension') });
    expect(expectProblem(refused, 403, 'organization-suspended').detail).toContain('invoice 2026-10 unpaid');
    expectProblem(await customer.POST('/v1/tokens', { body: { name: 'sneaky' } }), 403, 'organization-suspended');
    const reads = await customer.GET('/v1/clusters');
    expect(reads.response.status).toBe(200);
    expect(reads.data!.items.map((c) => c.name)).toEqual(['before-suspension']);
    expect((await customer.GET('/v1/organization')).data).toMatchObject({ status: 'suspended', suspended_reason: 'invoice 2026-10 unpaid' });
    const listed = await viewer.GET('/admin/v1/organizations', { params: { query: { status: 'suspended' } } });
    expect(listed.data!.items.map((o) => o.id)).toEqual([organization.id]);
    expectProblem(
      await operator.POST('/admin/v1/organizations/{organization_id}/suspend', {
        params: { path: { organization_id: organization.id } },
        body: { reason: 'twice' },
      }),
      409,
      'already-suspended',
    );

    // when
    const resumed = await operator.POST('/admin/v1/organizations/{organization_id}/resume', {
      params: { path: { organization_id: organization.id } },
      body: { reason: 'invoice paid' },
    });

    // then
    expect(resumed.response.status).toBe(200);
    expect(resumed.data).toMatchObject({ status: 'active', suspended_reason: null });
    expect((await customer.POST('/v1/clusters', { body: clusterRequest('after-suspension') })).response.status).toBe(202);
    expectProblem(
      await operator.POST('/admin/v1/organizations/{organization_id}/resume', {
        params: { path: { organization_id: organization.id } },
        body: { reason: 'twice' },
      }),
      409,
      'not-suspended',
    );
  });

  it('lists clusters across organisations, each with its organisation, filtered by organisation and name', async () => {
    // given two organisations with a cluster each
    const a = await onboard('tenant-a');
    const b = await onboard('tenant-b');
    const clusterA = (await a.customer.POST('/v1/clusters', { body: clusterRequest('alpha-prod') })).data!.cluster;
    const clusterB = (
      await b.customer.POST('/v1/clusters', {
        body: clusterRequest('beta-prod', {
          provider: 'gke',
          region: 'europe-west6',
          node_pools: [{ name: 'default', machine_type: 'e2-standard-4', count: 3 }],
        }),
      })
    ).data!.cluster;

    // when / then
    const all = await viewer.GET('/admin/v1/clusters', { params: { query: { limit: 100 } } });
    expect(all.response.status).toBe(200);
    const owners = new Map(all.data!.items.map((c) => [c.id, c.organization_id]));
    expect(owners.get(clusterA.id)).toBe(a.organization.id);
    expect(owners.get(clusterB.id)).toBe(b.organization.id);
    const ofA = await viewer.GET('/admin/v1/clusters', { params: { query: { organization_id: a.organization.id } } });
    expect(ofA.data!.items.map((c) => c.id)).toEqual([clusterA.id]);
    const gke = await viewer.GET('/admin/v1/clusters', { params: { query: { provider: 'gke', limit: 100 } } });
    expect(gke.data!.items.map((c) => c.id)).toContain(clusterB.id);
    expect(gke.data!.items.every((c) => c.provider === 'gke')).toBe(true);
    const byName = await viewer.GET('/admin/v1/clusters', { params: { query: { q: 'beta' } } });
    expect(byName.data!.items.map((c) => c.id)).toEqual([clusterB.id]);
    // and a customer still sees only its own
    expect((await a.customer.GET('/v1/clusters')).data!.items.map((c) => c.id)).toEqual([clusterA.id]);
  });

  it('lists failed operations across organisations, and retries one with a reason', async () => {
    // given two organisations' creates, one of which a worker failed
    const a = await onboard('failing-a');
    const b = await onboard('failing-b');
    const failing = (await a.customer.POST('/v1/clusters', { body: clusterRequest('will-fail') })).data!.operation;
    const pending = (await b.customer.POST('/v1/clusters', { body: clusterRequest('still-pending') })).data!.operation;
    // Stands in for the worker, which does not run operations yet: the control plane step failed.
    const now = new Date();
    await prisma.operationStep.updateMany({
      where: { operationId: failing.id, name: 'reserve_endpoint' },
      data: { status: 'succeeded', attempts: 1, startedAt: now, finishedAt: now },
    });
    await prisma.operationStep.updateMany({
      where: { operationId: failing.id, name: 'create_control_plane' },
      data: { status: 'failed', attempts: 3, startedAt: now, finishedAt: now, error: { code: 'provider_error', message: 'quota exhausted in nine-cz41' } },
    });
    await prisma.operation.update({
      where: { id: failing.id },
      data: { status: 'failed', attempts: 3, startedAt: now, finishedAt: now, error: { code: 'provider_error', message: 'quota exhausted in nine-cz41' } },
    });

    // when
    const failed = await viewer.GET('/admin/v1/operations', { params: { query: { status: 'failed' } } });

    // then only the failed one, with its organisation and error
    expect(failed.response.status).toBe(200);
    expect(failed.data!.items.map((o) => o.id)).toEqual([failing.id]);
    expect(failed.data!.items[0]).toMatchObject({
      organization_id: a.organization.id,
      type: 'create_cluster',
      error: { code: 'provider_error', message: 'quota exhausted in nine-cz41' },
    });
    expect(failed.data!.items[0]!.steps.map((s) => s.status).slice(0, 3)).toEqual(['succeeded', 'failed', 'pending']);
    const pendingOfB = await viewer.GET('/admin/v1/operations', { params: { query: { status: 'pending', organization_id: b.organization.id } } });
    expect(pendingOfB.data!.items.map((o) => o.id)).toEqual([pending.id]);

    // when an operator retries it; a viewer may not
    expectProblem(
      await viewer.POST('/admin/v1/operations/{operation_id}/retry', {
        params: { path: { operation_id: failing.id } },
        body: { reason: 'provider quota raised' },
      }),
      403,
      'insufficient-role',
    );
    const retried = await operator.POST('/admin/v1/operations/{operation_id}/retry', {
      params: { path: { operation_id: failing.id } },
      body: { reason: 'provider quota raised' },
    });

    // then it is pending again from the failed step, and no longer listed as failed
    expect(retried.response.status).toBe(200);
    expect(retried.data).toMatchObject({ id: failing.id, status: 'pending', finished_at: null });
    expect(retried.data!.steps.map((s) => s.status).slice(0, 2)).toEqual(['succeeded', 'pending']);
    expect((await viewer.GET('/admin/v1/operations', { params: { query: { status: 'failed' } } })).data!.items).toEqual([]);
    expectProblem(
      await operator.POST('/admin/v1/operations/{operation_id}/retry', { params: { path: { operation_id: pending.id } }, body: { reason: 'not failed' } }),
      409,
      'operation-not-retryable',
    );

    // and a paused (needs_attention) one is handed back to the workers as pending, never running
    await prisma.operation.update({ where: { id: pending.id }, data: { status: 'needs_attention', startedAt: now } });
    const resumed = await operator.POST('/admin/v1/operations/{operation_id}/retry', {
      params: { path: { operation_id: pending.id } },
      body: { reason: 'PDB relaxed' },
    });
    expect(resumed.response.status).toBe(200);
    expect(resumed.data).toMatchObject({ id: pending.id, status: 'pending' });
  });

  it('keeps an admin audit log of every staff action, with the staff credential as actor and the reason', async () => {
    // given a run of staff actions on one organisation
    const { organization, token } = await onboard('audited-ag');
    const read = await operator.GET('/admin/v1/organizations/{organization_id}', { params: { path: { organization_id: organization.id } } });
    await operator.PATCH('/admin/v1/organizations/{organization_id}/quota', {
      params: { path: { organization_id: organization.id }, header: { 'If-Match': read.data!.etag } },
      body: { max_nodes: 80, reason: 'capacity for Black Friday' },
    });
    await operator.POST('/admin/v1/organizations/{organization_id}/suspend', {
      params: { path: { organization_id: organization.id } },
      body: { reason: 'security incident SEC-77' },
    });
    await operator.POST('/admin/v1/organizations/{organization_id}/resume', {
      params: { path: { organization_id: organization.id } },
      body: { reason: 'incident closed' },
      headers: { 'X-Request-Id': 'sdk-e2e-resume' },
    });

    // when a viewer reads the log of that organisation
    const { data, response } = await viewer.GET('/admin/v1/audit-events', { params: { query: { organization_id: organization.id } } });

    // then every action is there, newest first, with who, why and what changed
    expect(response.status).toBe(200);
    expect(data!.items.map((e) => [e.action, e.reason])).toEqual([
      ['organization.resume', 'incident closed'],
      ['organization.suspend', 'security incident SEC-77'],
      ['organization.update_quota', 'capacity for Black Friday'],
      ['token.create', 'onboarding'],
      ['organization.create', null],
    ]);
    for (const event of data!.items) {
      expect(event).toMatchObject({ organization_id: organization.id, actor: { type: 'staff_token', id: operatorTokenId } });
      expect(event.request_id).toEqual(expect.any(String));
    }
    expect(data!.items[0]!.request_id).toBe('sdk-e2e-resume');
    expect(data!.items[0]!.changes).toEqual({
      status: { before: 'suspended', after: 'active' },
      suspendedReason: { before: 'security incident SEC-77', after: null },
    });
    expect(data!.items[2]!.changes).toEqual({ maxNodes: { before: 40, after: 80 } });
    expect(data!.items[3]!.target).toEqual({ type: 'api_token', id: token.id });
    expect(JSON.stringify(data)).not.toContain(token.secret);

    // and the customer sees the same events in its own log
    const own = await createCapstanClient({ baseUrl, token: token.secret }).GET('/v1/audit-events');
    expect(own.data!.items.map((e) => e.action)).toEqual(data!.items.map((e) => e.action));
    // and the log filters by action across organisations
    const suspensions = await viewer.GET('/admin/v1/audit-events', { params: { query: { action: 'organization.suspend', limit: 100 } } });
    expect(suspensions.data!.items.length).toBeGreaterThanOrEqual(2);
    expect(suspensions.data!.items.every((e) => e.action === 'organization.suspend' && e.reason !== null)).toBe(true);
  });

  it('refuses a customer token on an admin route, and a staff token on a customer route, with 403', async () => {
    const seeded = await seedOrganization(prisma, { name: 'curious-customer' });
    const customer = createCapstanClient({ baseUrl, token: seeded.token });
    expect(expectProblem(await customer.GET('/admin/v1/organizations'), 403, 'staff-route').detail).toMatch(/customer API tokens/);
    expectProblem(
      await customer.POST('/admin/v1/organizations/{organization_id}/suspend', {
        params: { path: { organization_id: seeded.organizationId } },
        body: { reason: 'suspend myself' },
      }),
      403,
      'staff-route',
    );
    expectProblem(await operator.GET('/v1/clusters'), 403, 'customer-route');
    const anonymous = await fetch(`${baseUrl}/admin/v1/organizations`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('refuses a viewer on an operator route with 403, and lets it read', async () => {
    // given
    const { organization } = await onboard('viewer-target');

    // when / then
    const suspend = await viewer.POST('/admin/v1/organizations/{organization_id}/suspend', {
      params: { path: { organization_id: organization.id } },
      body: { reason: 'viewer tries' },
    });
    expect(expectProblem(suspend, 403, 'insufficient-role').detail).toBe('this endpoint needs the operator role; you have viewer');
    expectProblem(
      await viewer.POST('/admin/v1/organizations', {
        body: { name: 'by-a-viewer', display_name: 'No', residency: 'CH', quota: { max_clusters: 1, max_nodes: 1 } },
      }),
      403,
      'insufficient-role',
    );
    expect((await viewer.GET('/admin/v1/organizations/{organization_id}', { params: { path: { organization_id: organization.id } } })).data!.status).toBe(
      'active',
    );
    const events = await viewer.GET('/admin/v1/audit-events', { params: { query: { organization_id: organization.id, action: 'organization.suspend' } } });
    expect(events.data!.items).toEqual([]);
  });
});
