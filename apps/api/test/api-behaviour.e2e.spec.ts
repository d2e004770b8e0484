import { clusterRequest, eventually, seedOrganization, seedToken, useTestApi } from '@capstan/testing';

describe('API behaviour', () => {
  const started = useTestApi();

  const post = (url: string, token: string, payload: object, headers: Record<string, string> = {}) =>
    started.api.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, ...headers }, payload });
  const get = (url: string, token: string) => started.api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  describe('Idempotency-Key', () => {
    it('replays the first answer for the same key and body, and creates once', async () => {
      const org = await seedOrganization(started.prisma);
      const first = await post('/v1/clusters', org.token, clusterRequest({ name: 'idem-a' }), { 'idempotency-key': 'create-idem-a' });
      const again = await post('/v1/clusters', org.token, clusterRequest({ name: 'idem-a' }), { 'idempotency-key': 'create-idem-a' });
      expect(first.statusCode).toBe(202);
      expect(again.statusCode).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.json()).toEqual(first.json());
      expect(await started.prisma.cluster.count({ where: { organizationId: org.organizationId } })).toBe(1);
      expect(await started.prisma.operation.count({ where: { organizationId: org.organizationId } })).toBe(1);
    });

    it('treats the same body with keys in another order as the same request', async () => {
      const org = await seedOrganization(started.prisma);
      const body = clusterRequest({ name: 'idem-order' });
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      await post('/v1/clusters', org.token, body, { 'idempotency-key': 'k-order' });
      const again = await post('/v1/clusters', org.token, reordered, { 'idempotency-key': 'k-order' });
      expect(again.headers['idempotent-replayed']).toBe('true');
    });

    it('refuses the same key with another body (422)', async () => {
      const org = await seedOrganization(started.prisma);
      await post('/v1/clusters', org.token, clusterRequest({ name: 'idem-b' }), { 'idempotency-key': 'k-b' });
      const other = await post('/v1/clusters', org.token, clusterRequest({ name: 'idem-c' }), { 'idempotency-key': 'k-b' });
      expect(other.statusCode).toBe(422);
      expect(other.json().type).toBe('https://capstan.dev/problems/idempotency-key-reused');
      expect(await started.prisma.cluster.count({ where: { organizationId: org.organizationId } })).toBe(1);
    });

    it('creates once when retries with one key race each other', async () => {
      const org = await seedOrganization(started.prisma);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => post('/v1/clusters', org.token, clusterRequest({ name: 'idem-race' }), { 'idempotency-key': 'k-race' })),
      );
      const statuses = answers.map((a) => a.statusCode);
      expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
      expect(statuses).toContain(202);
      expect(await started.prisma.cluster.count({ where: { organizationId: org.organizationId } })).toBe(1);
    });

    it('scopes keys to the organisation', async () => {
      const a = await seedOrganization(started.prisma);
      const b = await seedOrganization(started.prisma);
      expect((await post('/v1/clusters', a.token, clusterRequest({ name: 'shared-key' }), { 'idempotency-key': 'same' })).statusCode).toBe(202);
      const other = await post('/v1/clusters', b.token, clusterRequest({ name: 'shared-key' }), { 'idempotency-key': 'same' });
      expect(other.statusCode).toBe(202);
      expect(other.headers['idempotent-replayed']).toBeUndefined();
    });

    it('lets a request that failed be retried with the same key', async () => {
      const org = await seedOrganization(started.prisma, { maxClusters: 0 });
      const refused = await post('/v1/clusters', org.token, clusterRequest({ name: 'later' }), { 'idempotency-key': 'k-retry' });
      expect(refused.statusCode).toBe(422);
      await started.prisma.organization.update({ where: { id: org.organizationId }, data: { maxClusters: 1 } });
      expect((await post('/v1/clusters', org.token, clusterRequest({ name: 'later' }), { 'idempotency-key': 'k-retry' })).statusCode).toBe(202);
    });
  });

  describe('quotas', () => {
    it('refuses a cluster over the cluster quota, naming quota and usage', async () => {
      const org = await seedOrganization(started.prisma, { maxClusters: 1 });
      expect((await post('/v1/clusters', org.token, clusterRequest({ name: 'one' }))).statusCode).toBe(202);
      const second = await post('/v1/clusters', org.token, clusterRequest({ name: 'two' }));
      expect(second.statusCode).toBe(422);
      expect(second.json()).toMatchObject({ type: 'https://capstan.dev/problems/quota-exceeded', quota: 'clusters', limit: 1, usage: 1 });
    });

    it('refuses pools and scaling over the node quota', async () => {
      const org = await seedOrganization(started.prisma, { maxNodes: 5 });
      const tooBig = await post(
        '/v1/clusters',
        org.token,
        clusterRequest({ name: 'big', node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 6 }] }),
      );
      expect(tooBig.statusCode).toBe(422);
      expect(tooBig.json()).toMatchObject({ quota: 'nodes', limit: 5, usage: 0, requested: 6 });
      expect(tooBig.json().detail).toContain('5');

      const ok = await post(
        '/v1/clusters',
        org.token,
        clusterRequest({ name: 'small', node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 3 }] }),
      );
      expect(ok.statusCode).toBe(202);
      const { cluster, operation } = ok.json();
      await started.prisma.operation.update({ where: { id: operation.id }, data: { status: 'succeeded' } });
      await started.prisma.cluster.update({ where: { id: cluster.id }, data: { status: 'running' } });
      const scale = await started.api.app.inject({
        method: 'PATCH',
        url: `/v1/clusters/${cluster.id}/node-pools/${cluster.node_pools[0].id}`,
        headers: { authorization: `Bearer ${org.token}` },
        payload: { count: 6 },
      });
      expect(scale.statusCode).toBe(422);
      expect(scale.json()).toMatchObject({ quota: 'nodes', usage: 3, requested: 3 });
    });

    it('lets exactly one of two racing creates take the last slot', async () => {
      const org = await seedOrganization(started.prisma, { maxClusters: 1 });
      const answers = await Promise.all(['race-a', 'race-b', 'race-c'].map((name) => post('/v1/clusters', org.token, clusterRequest({ name }))));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 422, 422]);
      expect(await started.prisma.cluster.count({ where: { organizationId: org.organizationId } })).toBe(1);
    });

    // Creates take the organisation's lock last, after writing their rows (docs/architecture.md,
    // "Locks and units of work"): the quota must stay exact however they interleave.
    it('keeps the node quota exact when many creates race for the last nodes', async () => {
      const org = await seedOrganization(started.prisma, { maxNodes: 10 });
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          post('/v1/clusters', org.token, clusterRequest({ name: `nodes-${i}`, node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 3 }] })),
        ),
      );
      const statuses = answers.map((a) => a.statusCode).sort();
      expect(statuses).toEqual([202, 202, 202, 422, 422, 422, 422, 422]);
      for (const refused of answers.filter((a) => a.statusCode === 422)) expect(refused.json()).toMatchObject({ quota: 'nodes', limit: 10, requested: 3 });
      const pools = await started.prisma.nodePool.findMany({ where: { organizationId: org.organizationId } });
      expect(pools.reduce((sum, p) => sum + p.nodeCount, 0)).toBe(9);
    });

    it('lets one of a cluster create and a node-pool create racing for the last nodes through', async () => {
      for (let round = 0; round < 4; round++) {
        const org = await seedOrganization(started.prisma, { maxNodes: 4 });
        const created = (
          await post('/v1/clusters', org.token, clusterRequest({ name: 'base', node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 2 }] }))
        ).json();
        await started.prisma.operation.update({ where: { id: created.operation.id }, data: { status: 'succeeded' } });
        await started.prisma.cluster.update({ where: { id: created.cluster.id }, data: { status: 'running' } });
        const answers = await Promise.all([
          post('/v1/clusters', org.token, clusterRequest({ name: 'second', node_pools: [{ name: 'a', machine_type: 'nine-standard-2', count: 2 }] })),
          post(`/v1/clusters/${created.cluster.id}/node-pools`, org.token, { name: 'b', machine_type: 'nine-standard-2', count: 2 }),
        ]);
        expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 422]);
        const pools = await started.prisma.nodePool.findMany({ where: { organizationId: org.organizationId } });
        expect(pools.reduce((sum, p) => sum + p.nodeCount, 0)).toBe(4);
      }
    });

    it('answers 409 name-taken, not an error, to creates of one name racing each other', async () => {
      const org = await seedOrganization(started.prisma);
      const answers = await Promise.all(Array.from({ length: 4 }, () => post('/v1/clusters', org.token, clusterRequest({ name: 'same-name' }))));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409, 409, 409]);
      for (const refused of answers.filter((a) => a.statusCode === 409)) expect(refused.json().type).toBe('https://capstan.dev/problems/name-taken');
      expect(await started.prisma.cluster.count({ where: { organizationId: org.organizationId } })).toBe(1);
    });
  });

  describe('one mutating operation per cluster', () => {
    it('answers 409 naming the running operation, even under a race', async () => {
      const org = await seedOrganization(started.prisma);
      const created = (await post('/v1/clusters', org.token, clusterRequest({ name: 'busy' }))).json();
      await started.prisma.operation.update({ where: { id: created.operation.id }, data: { status: 'succeeded' } });
      await started.prisma.cluster.update({ where: { id: created.cluster.id }, data: { status: 'running' } });
      const pool = (name: string) => ({ name, machine_type: 'nine-standard-2', count: 1 });
      const answers = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((name) => post(`/v1/clusters/${created.cluster.id}/node-pools`, org.token, pool(name))));
      const accepted = answers.filter((a) => a.statusCode === 202);
      const refused = answers.filter((a) => a.statusCode === 409);
      expect(accepted).toHaveLength(1);
      expect(refused).toHaveLength(3);
      const running = accepted[0]!.json().operation.id;
      for (const answer of refused) {
        expect(answer.json()).toMatchObject({ type: 'https://capstan.dev/problems/cluster-busy', operation_id: running });
        expect(answer.json().detail).toContain(running);
      }
    });

    it('answers 409 while the creation is still pending', async () => {
      const org = await seedOrganization(started.prisma);
      const created = (await post('/v1/clusters', org.token, clusterRequest({ name: 'young' }))).json();
      const del = await started.api.app.inject({
        method: 'DELETE',
        url: `/v1/clusters/${created.cluster.id}`,
        headers: { authorization: `Bearer ${org.token}` },
      });
      expect(del.statusCode).toBe(409);
      expect(del.json().operation_id).toBe(created.operation.id);
    });
  });

  describe('tokens', () => {
    it('answers 401 for revoked, expired and unknown tokens', async () => {
      const org = await seedOrganization(started.prisma);
      const extra = await post('/v1/tokens', org.token, { name: 'temp' });
      expect(extra.statusCode).toBe(201);
      const { id, secret } = extra.json();
      expect((await get('/v1/organization', secret)).statusCode).toBe(200);
      expect((await started.api.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: { authorization: `Bearer ${org.token}` } })).statusCode).toBe(
        204,
      );
      const revoked = await get('/v1/organization', secret);
      expect(revoked.statusCode).toBe(401);
      expect(revoked.json().detail).toBe('the token has been revoked');

      const expired = await seedToken(started.prisma, org.organizationId, ['read'], new Date(Date.now() - 1000));
      expect((await get('/v1/organization', expired.token)).json().detail).toBe('the token has expired');
      expect((await get('/v1/organization', `cap_${'x'.repeat(43)}`)).statusCode).toBe(401);
    });

    it('stores only a hash, shows the secret once, and records last use', async () => {
      const org = await seedOrganization(started.prisma);
      const created = (await post('/v1/tokens', org.token, { name: 'ci', scopes: ['read'] })).json();
      const row = await started.prisma.apiToken.findUniqueOrThrow({ where: { id: created.id } });
      expect(row.secretHash).not.toContain(created.secret.slice(4));
      expect(JSON.stringify(row)).not.toContain(created.secret);
      const listed = (await get('/v1/tokens', org.token)).json();
      expect(JSON.stringify(listed)).not.toContain(created.secret);
      await get('/v1/organization', created.secret);
      // Last use is written after the answer, off the request's path: wait for it rather than a fixed
      // 50 ms, which a loaded machine overran.
      await eventually(async () => (await started.prisma.apiToken.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt !== null);
    });

    it('refuses writes with a read-only token (403)', async () => {
      const org = await seedOrganization(started.prisma, { scopes: ['read'] });
      const res = await post('/v1/clusters', org.token, clusterRequest());
      expect(res.statusCode).toBe(403);
      expect(res.json().type).toBe('https://capstan.dev/problems/insufficient-scope');
    });
  });

  describe('what a create stores', () => {
    it('keeps every field of the request: labels, window, pools with autoscaling, taints and surge', async () => {
      const org = await seedOrganization(started.prisma);
      const body = clusterRequest({
        name: 'complete',
        labels: { env: 'prod', team: 'payments' },
        deletion_protection: true,
        release_channel: 'stable',
        maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '02:00', duration_minutes: 240 },
        node_pools: [
          {
            name: 'system',
            machine_type: 'nine-standard-2',
            count: 2,
            labels: { role: 'system' },
            taints: [{ key: 'dedicated', value: 'system', effect: 'NoSchedule' }],
          },
          { name: 'apps', machine_type: 'nine-standard-4', autoscaling: { min: 1, max: 4 }, max_surge: 2, max_unavailable: 1 },
        ],
      });
      const created = await post('/v1/clusters', org.token, body);
      expect(created.statusCode).toBe(202);
      const cluster = (await get(`/v1/clusters/${created.json().cluster.id}`, org.token)).json();
      expect(cluster).toMatchObject({
        name: 'complete',
        labels: { env: 'prod', team: 'payments' },
        deletion_protection: true,
        release_channel: 'stable',
        status: 'provisioning',
        maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA', 'SU'], start_time: '02:00', duration_minutes: 240 },
      });
      expect(cluster.node_pools).toMatchObject([
        {
          name: 'system',
          count: 2,
          autoscaling: null,
          labels: { role: 'system' },
          taints: [{ key: 'dedicated', value: 'system', effect: 'NoSchedule' }],
          max_surge: 1,
          max_unavailable: 0,
        },
        { name: 'apps', count: 1, autoscaling: { min: 1, max: 4 }, labels: {}, taints: [], max_surge: 2, max_unavailable: 1 },
      ]);
      expect(created.json().cluster).toEqual(cluster);
      const usage = (await get('/v1/organization', org.token)).json().usage;
      expect(usage).toEqual({ clusters: 1, nodes: 6 });
    });
  });

  describe('catalogue rules at create', () => {
    it('refuses a region outside the data residency, naming the rule', async () => {
      const org = await seedOrganization(started.prisma, { residency: 'CH' });
      const res = await post(
        '/v1/clusters',
        org.token,
        clusterRequest({ provider: 'gke', region: 'europe-west3', node_pools: [{ name: 'a', machine_type: 'e2-standard-4', count: 1 }] }),
      );
      expect(res.statusCode).toBe(422);
      expect(res.json().type).toBe('https://capstan.dev/problems/data-residency-violation');
      expect(res.json().detail).toContain('CH');
      expect(await started.prisma.cluster.count({ where: { organizationId: org.organizationId } })).toBe(0);
    });

    it('refuses an end-of-life version and a machine type of another provider', async () => {
      const org = await seedOrganization(started.prisma);
      const eol = await post('/v1/clusters', org.token, clusterRequest({ version: '1.31' }));
      expect(eol.statusCode).toBe(422);
      expect(eol.json().type).toBe('https://capstan.dev/problems/version-end-of-life');
      const machine = await post('/v1/clusters', org.token, clusterRequest({ node_pools: [{ name: 'a', machine_type: 'e2-standard-4', count: 1 }] }));
      expect(machine.json().type).toBe('https://capstan.dev/problems/machine-type-not-offered');
    });

    it('refuses a second live cluster with the same name (409)', async () => {
      const org = await seedOrganization(started.prisma);
      await post('/v1/clusters', org.token, clusterRequest({ name: 'twin' }));
      const twin = await post('/v1/clusters', org.token, clusterRequest({ name: 'twin' }));
      expect(twin.statusCode).toBe(409);
      expect(twin.json().type).toBe('https://capstan.dev/problems/name-taken');
    });
  });

  describe('audit', () => {
    it('records each change with actor, request id and source address in the same transaction', async () => {
      const org = await seedOrganization(started.prisma);
      const res = await post('/v1/clusters', org.token, clusterRequest({ name: 'audited' }), { 'x-request-id': 'audit-trace-1' });
      const events = (await get('/v1/audit-events?action=cluster.create', org.token)).json().items;
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'cluster.create',
        actor: { type: 'api_token', id: org.tokenId },
        target: { type: 'cluster', id: res.json().cluster.id },
        request_id: 'audit-trace-1',
        source_ip: '127.0.0.1',
      });
      expect(events[0].changes.name).toEqual({ after: 'audited' });
    });

    it('writes no audit event for a change that was refused', async () => {
      const org = await seedOrganization(started.prisma, { maxClusters: 0 });
      await post('/v1/clusters', org.token, clusterRequest());
      expect(await started.prisma.auditEvent.count({ where: { organizationId: org.organizationId } })).toBe(0);
    });
  });
});

describe('rate limits', () => {
  const started = useTestApi({ RATE_LIMIT_PER_MINUTE: '3' });

  it('announces the limit and answers 429 with Retry-After once it is used up, per token', async () => {
    const prisma = started.prisma;
    const org = await seedOrganization(prisma);
    const other = await seedToken(prisma, org.organizationId, ['read']);
    const call = (token: string) => started.api.app.inject({ method: 'GET', url: '/v1/organization', headers: { authorization: `Bearer ${token}` } });
    const answers = [await call(org.token), await call(org.token), await call(org.token), await call(org.token)];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers['ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
    expect(answers[0]!.headers['ratelimit-limit']).toBe('3');
    const limited = answers[3]!;
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json().type).toBe('https://capstan.dev/problems/rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await call(other.token)).statusCode).toBe(200);
  });
});
