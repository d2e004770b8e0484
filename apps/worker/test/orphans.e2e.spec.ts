import { newId } from '@capstan/platform';
import { externalClusterName } from '@capstan/providers';
import { clusterRequest, seedOrganization, seedStaff, simulatorCall, type Stack, startStack, waitForOperation } from '@capstan/testing';

interface ObjectStats {
  items: { name: string; creates: number; deletes: number }[];
}

interface OrphanPage {
  items: { id: string; operation_id: string; kind: string; external_cluster: string; status: string; attempts: number; last_error: string | null }[];
  next_cursor: string | null;
}

/**
 * A create that fails for good undoes what it half-built; when undoing fails too, what is left
 * is recorded for staff (`GET /admin/v1/orphans`) and the reconciler deletes it once the cloud
 * lets it: never a silent leak. Faults come from the simulated cloud's fault injection.
 */
describe('orphans of failed creates', () => {
  let stack: Stack;
  let customer: string;
  let staff: string;

  beforeAll(async () => {
    stack = await startStack();
    customer = (await seedOrganization(stack.prisma)).token;
    staff = (await seedStaff(stack.prisma, 'viewer')).token;
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  afterEach(async () => {
    await simulatorCall(stack.simulator.apiUrl, 'DELETE', '/v1/chaos/faults');
  });

  const call = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    stack.api.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  const cloudCluster = async (clusterId: string) =>
    (await simulatorCall<ObjectStats>(stack.simulator.apiUrl, 'GET', '/v1/stats/objects?kind=cluster')).items.find(
      (i) => i.name === externalClusterName(clusterId),
    );

  const orphansOf = (operationId: string) => stack.database.selectFrom('orphans').selectAll().where('operation_id', '=', operationId).orderBy('id').execute();

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function createFailingAtNodePools(name: string) {
    await simulatorCall(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', { match: { call: 'ensureNodePool' }, mode: 'fail_always', retryable: false });
    const res = await call(customer, 'POST', '/v1/clusters', clusterRequest({ name }));
    expect(res.statusCode).toBe(202);
    return { clusterId: res.json().cluster.id as string, operationId: res.json().operation.id as string };
  }

  it('removes what a create that failed for good had built, and records no orphan', async () => {
    const { clusterId, operationId } = await createFailingAtNodePools('undone');

    const failed = await waitForOperation(stack.prisma, operationId, ['failed']);
    expect(failed.error).toMatchObject({ step: 'create_node_pools', compensation: 'done' });
    expect(failed.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'reserve_endpoint:compensated',
      'create_control_plane:compensated',
      'wait_control_plane_ready:compensated',
      'create_node_pools:failed',
      'install_addons:skipped',
      'issue_admin_credentials:skipped',
      'mark_running:skipped',
    ]);
    expect(await cloudCluster(clusterId)).toMatchObject({ creates: 1, deletes: 1 });
    expect(await orphansOf(operationId)).toEqual([]);

    // Its work is undone: a staff retry cannot resume it.
    const operator = (await seedStaff(stack.prisma, 'operator')).token;
    const retry = await call(operator, 'POST', `/admin/v1/operations/${operationId}/retry`, { reason: 'try again' });
    expect(retry.statusCode).toBe(409);
    expect(retry.headers['content-type']).toContain('application/problem+json');
    expect(retry.json().detail).toContain('undone');
  }, 60_000);

  it('records the leftovers for staff when undoing fails too, and the reconciler deletes them once the cloud lets it', async () => {
    const blocked = await simulatorCall<{ id: string }>(stack.simulator.apiUrl, 'POST', '/v1/chaos/faults', {
      match: { call: 'deleteCluster' },
      mode: 'fail_always',
    });
    const { clusterId, operationId } = await createFailingAtNodePools('leaky');

    const failed = await waitForOperation(stack.prisma, operationId, ['failed']);
    expect(failed.error).toMatchObject({ step: 'create_node_pools', compensation: 'left_for_cleanup' });
    expect(failed.steps.filter((s) => s.status === 'compensated').map((s) => s.name)).toEqual([
      'reserve_endpoint',
      'create_control_plane',
      'wait_control_plane_ready',
    ]);
    const cluster = await stack.database.selectFrom('clusters').select(['status', 'status_reason']).where('id', '=', clusterId).executeTakeFirstOrThrow();
    expect(cluster.status).toBe('error');
    expect(cluster.status_reason).toContain('recorded for cleanup');
    // Nothing was deleted at the cloud: the leftover is on record, not forgotten.
    expect(await cloudCluster(clusterId)).toMatchObject({ creates: 1, deletes: 0 });
    const [orphan] = await orphansOf(operationId);
    expect(orphan).toMatchObject({
      kind: 'cluster',
      external_cluster: externalClusterName(clusterId),
      cluster_id: clusterId,
      provider: 'rke2',
      resolved_at: null,
    });
    expect(orphan!.reason).toContain('injected fault');

    // The reconciler keeps trying while the cloud refuses, with the error on record for staff.
    const retried = await until('a failed cleanup attempt', async () => {
      const page = (await call(staff, 'GET', `/admin/v1/orphans?status=open&operation_id=${operationId}`)).json() as OrphanPage;
      return page.items[0] && page.items[0].attempts >= 1 ? page.items[0] : undefined;
    });
    expect(retried).toMatchObject({ id: orphan!.id, kind: 'cluster', status: 'open' });
    expect(retried.last_error).toContain('injected fault');
    expect(await cloudCluster(clusterId)).toMatchObject({ deletes: 0 });

    // The cloud recovers: the next attempts delete it and the orphan is resolved.
    await simulatorCall(stack.simulator.apiUrl, 'DELETE', `/v1/chaos/faults/${blocked.id}`);
    const resolved = await until('the orphan to be resolved', async () => {
      const [row] = await orphansOf(operationId);
      return row?.resolved_at ? row : undefined;
    });
    expect(resolved.last_error).toBeNull();
    expect(await cloudCluster(clusterId)).toMatchObject({ creates: 1, deletes: 1 });
    const page = (await call(staff, 'GET', `/admin/v1/orphans?status=resolved&operation_id=${operationId}`)).json() as OrphanPage;
    expect(page.items.map((i) => `${i.id}:${i.status}`)).toEqual([`${orphan!.id}:resolved`]);
  }, 90_000);

  it('lists orphans to staff only, newest first, a page at a time', async () => {
    const org = await seedOrganization(stack.prisma);
    const operationId = newId('op');
    const ids = [newId('orph'), newId('orph'), newId('orph')];
    // Resolved ones: the reconciler has nothing to do with them.
    await stack.database
      .insertInto('orphans')
      .values(
        ids.map((id, i) => ({
          id,
          organization_id: org.organizationId,
          operation_id: operationId,
          provider: 'gke' as const,
          kind: 'node_pool' as const,
          external_cluster: 'capstan-listed',
          external_name: `pool-${i}`,
          reason: 'seeded',
          resolved_at: new Date(),
          updated_at: new Date(),
        })),
      )
      .execute();

    const first = await call(staff, 'GET', `/admin/v1/orphans?organization_id=${org.organizationId}&limit=2`);
    expect(first.statusCode).toBe(200);
    const firstPage = first.json() as OrphanPage;
    expect(firstPage.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    const second = (
      await call(staff, 'GET', `/admin/v1/orphans?organization_id=${org.organizationId}&limit=2&cursor=${firstPage.next_cursor}`)
    ).json() as OrphanPage;
    expect(second.items.map((i) => i.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect(((await call(staff, 'GET', `/admin/v1/orphans?organization_id=${org.organizationId}&status=open`)).json() as OrphanPage).items).toEqual([]);

    // A customer's token is not staff's; bad parameters are a 400 problem.
    expect((await call(customer, 'GET', '/admin/v1/orphans')).statusCode).toBe(403);
    for (const query of ['limit=0', 'status=lost', 'organization_id=nope', 'cursor=garbage', 'extra=1']) {
      const bad = await call(staff, 'GET', `/admin/v1/orphans?${query}`);
      expect([query, bad.statusCode]).toEqual([query, 400]);
      expect(bad.headers['content-type']).toContain('application/problem+json');
    }
  }, 60_000);
});
