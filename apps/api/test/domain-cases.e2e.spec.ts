/**
 * Domain cases only visible through the API (docs/upgrades.md, docs/backups.md): the version strings customers send when
 * creating a cluster, on the shipped catalogue and the real date, and residency for backups.
 */
import { newId } from '@capstan/platform';
import { clusterRequest, seedOrganization, useTestApi } from '@capstan/testing';

describe('domain cases through the API', () => {
  const started = useTestApi();

  const post = (url: string, token: string, payload: object) =>
    started.api.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload });
  const gke = (overrides: Record<string, unknown>) =>
    clusterRequest({ provider: 'gke', region: 'europe-west6', node_pools: [{ name: 'a', machine_type: 'e2-standard-4', count: 1 }], ...overrides });

  describe('version strings at create', () => {
    it.each([
      ['rke2', 'v1.36', '1.36.4'],
      ['rke2', 'v1.36.4+rke2r1', '1.36.4'],
      ['gke', '1.35.8', '1.35.8-gke.1225000'],
      ['gke', '1.35.8-gke.1225000', '1.35.8-gke.1225000'],
    ])('%s "%s" creates the cluster on %s', async (provider, version, current) => {
      const org = await seedOrganization(started.prisma, { residency: 'CH' });
      const body = provider === 'gke' ? gke({ name: 'v', version }) : clusterRequest({ name: 'v', version });
      const res = await post('/v1/clusters', org.token, body);
      expect(res.statusCode).toBe(202);
      expect(res.json().cluster.current_version).toBe(current);
    });

    it.each([
      ['rke2', '1.34', 'version-end-of-life'],
      ['rke2', 'v1.34.9+rke2r1', 'version-end-of-life'],
      ['rke2', '1.36.3', 'version-not-offered'],
      ['rke2', '1.36.99', 'version-not-offered'],
      ['rke2', '1.36.4-gke.1391000', 'version-not-offered'],
      ['gke', '1.35.8+rke2r1', 'version-not-offered'],
      ['gke', '1.33.5-gke.1080000', 'version-end-of-life'],
      ['gke', '1.34', 'version-end-of-life'],
    ])('%s "%s" is a 422 %s, and nothing is created', async (provider, version, type) => {
      const org = await seedOrganization(started.prisma, { residency: 'CH' });
      const body = provider === 'gke' ? gke({ name: 'v', version }) : clusterRequest({ name: 'v', version });
      const res = await post('/v1/clusters', org.token, body);
      expect(res.statusCode).toBe(422);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().type).toBe(`https://capstan.dev/problems/${type}`);
      expect(await started.prisma.cluster.count({ where: { organizationId: org.organizationId } })).toBe(0);
    });

    it.each(['latest', '1', '1.36.x', 'V1.36', '1.36.4.1', '<script>'])('"%s" is a 400 naming the field', async (version) => {
      const org = await seedOrganization(started.prisma);
      const res = await post('/v1/clusters', org.token, clusterRequest({ name: 'v', version }));
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.json())).toContain('version');
    });
  });

  describe("Backup for GKE's retain days and delete-lock days", () => {
    const gkeCluster = async () => {
      const org = await seedOrganization(started.prisma, { residency: 'CH' });
      const created = await post('/v1/clusters', org.token, gke({ name: 'locked' }));
      expect(created.statusCode).toBe(202);
      return { org, clusterId: created.json().cluster.id as string };
    };
    const call = (method: 'PATCH' | 'DELETE', url: string, token: string, payload?: object, headers: Record<string, string> = {}) =>
      started.api.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload ? { payload } : {}) });

    it('keeps a schedule whose lock fits its retention, and shows it', async () => {
      const { org, clusterId } = await gkeCluster();
      const res = await post(`/v1/clusters/${clusterId}/backup-schedules`, org.token, {
        name: 'daily',
        kind: 'workload',
        retain_days: 30,
        delete_lock_days: 7,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().retention).toEqual({ count: null, days: 30, delete_lock_days: 7 });
    });

    it('refuses a lock longer than the retention days with a 422 naming the rule, on create and when a PATCH shortens the retention', async () => {
      const { org, clusterId } = await gkeCluster();
      const longer = await post(`/v1/clusters/${clusterId}/backup-schedules`, org.token, {
        name: 'daily',
        kind: 'workload',
        retain_days: 7,
        delete_lock_days: 14,
      });
      expect(longer.statusCode).toBe(422);
      expect(longer.json()).toMatchObject({
        type: 'https://capstan.dev/problems/delete-lock-exceeds-retention',
        rule: 'retain_days must be at least delete_lock_days',
      });
      const ok = await post(`/v1/clusters/${clusterId}/backup-schedules`, org.token, {
        name: 'daily',
        kind: 'workload',
        retain_days: 30,
        delete_lock_days: 14,
      });
      const shorter = await call('PATCH', `/v1/clusters/${clusterId}/backup-schedules/${ok.json().id}`, org.token, { retain_days: 10 });
      expect(shorter.statusCode).toBe(422);
      expect(shorter.json().type).toBe('https://capstan.dev/problems/delete-lock-exceeds-retention');
      const beyond = await post(`/v1/clusters/${clusterId}/backup-schedules`, org.token, { name: 'far', kind: 'workload', delete_lock_days: 91 });
      expect(beyond.statusCode).toBe(400);
    });

    it('refuses a delete lock on RKE2, which has none', async () => {
      const org = await seedOrganization(started.prisma, { residency: 'CH' });
      const created = await post('/v1/clusters', org.token, clusterRequest({ name: 'rke' }));
      const res = await post(`/v1/clusters/${created.json().cluster.id}/backup-schedules`, org.token, { name: 'snap', retain_days: 30, delete_lock_days: 7 });
      expect(res.statusCode).toBe(422);
      expect(res.json().type).toBe('https://capstan.dev/problems/delete-lock-not-supported');
    });

    it('refuses to delete an on-demand backup before its lock expires (409), and deletes it once expired', async () => {
      const { org, clusterId } = await gkeCluster();
      const backup = (id: string, lockedUntil: Date) =>
        started.prisma.backup.create({
          data: {
            id,
            clusterId,
            organizationId: org.organizationId,
            kind: 'workload',
            status: 'succeeded',
            region: 'europe-west6',
            clusterVersion: '1.35.8-gke.1225000',
            purpose: 'on_demand',
            completedAt: new Date(Date.now() - 86_400_000),
            deleteLockedUntil: lockedUntil,
          },
        });
      const lockedId = newId('bk');
      const unlockedId = newId('bk');
      await backup(lockedId, new Date(Date.now() + 6 * 86_400_000));
      await backup(unlockedId, new Date(Date.now() - 60_000));
      const locked = await call('DELETE', `/v1/clusters/${clusterId}/backups/${lockedId}`, org.token);
      expect(locked.statusCode).toBe(409);
      expect(locked.json()).toMatchObject({ type: 'https://capstan.dev/problems/backup-delete-locked', rule: 'no deletion before the delete lock expires' });
      const got = await started.api.app.inject({
        method: 'GET',
        url: `/v1/clusters/${clusterId}/backups/${lockedId}`,
        headers: { authorization: `Bearer ${org.token}` },
      });
      expect(got.json().delete_locked_until).toBe(locked.json().delete_locked_until);
      const unlocked = await call('DELETE', `/v1/clusters/${clusterId}/backups/${unlockedId}`, org.token);
      expect(unlocked.statusCode).toBe(202);
    });
  });

  describe('surge settings on a node pool change', () => {
    const runningCluster = async () => {
      const org = await seedOrganization(started.prisma, { residency: 'CH' });
      const created = await post('/v1/clusters', org.token, clusterRequest({ name: 'surge' }));
      const cluster = created.json().cluster as { id: string; node_pools: { id: string }[] };
      // as a finished create leaves it
      await started.prisma.operation.updateMany({ where: { clusterId: cluster.id }, data: { status: 'succeeded', finishedAt: new Date() } });
      await started.prisma.cluster.update({ where: { id: cluster.id }, data: { status: 'running' } });
      await started.prisma.nodePool.updateMany({ where: { clusterId: cluster.id }, data: { status: 'running' } });
      return { org, url: `/v1/clusters/${cluster.id}/node-pools/${cluster.node_pools[0]!.id}` };
    };
    const patch = (url: string, token: string, payload: object) =>
      started.api.app.inject({ method: 'PATCH', url, headers: { authorization: `Bearer ${token}` }, payload });

    it('refuses max_surge and max_unavailable both 0 with a 400 naming max_surge, whether both are sent or one meets the pool', async () => {
      const { org, url } = await runningCluster();
      for (const body of [{ max_surge: 0, max_unavailable: 0 }, { max_surge: 0 }]) {
        const res = await patch(url, org.token, body);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ type: 'https://capstan.dev/problems/validation-failed', errors: [expect.objectContaining({ field: 'max_surge' })] });
      }
      const fine = await patch(url, org.token, { max_surge: 0, max_unavailable: 1 });
      expect(fine.statusCode).toBe(202);
    });

    it('refuses autoscaling bounds the wrong way round with a 400', async () => {
      const { org, url } = await runningCluster();
      const res = await patch(url, org.token, { autoscaling: { min: 5, max: 2 } });
      expect(res.statusCode).toBe(400);
    });
  });

  describe('residency for backups', () => {
    it('refuses a backup schedule of a CH organisation storing in Frankfurt with a 422 naming the rule', async () => {
      const org = await seedOrganization(started.prisma, { residency: 'CH' });
      const created = await post('/v1/clusters', org.token, gke({ name: 'zrh' }));
      expect(created.statusCode).toBe(202);
      const clusterId = created.json().cluster.id as string;
      const res = await post(`/v1/clusters/${clusterId}/backup-schedules`, org.token, { name: 'nightly', region: 'europe-west3' });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ type: 'https://capstan.dev/problems/data-residency-violation', residency: 'CH', region: 'europe-west3' });
      expect(await started.prisma.backupSchedule.count({ where: { clusterId } })).toBe(0);
    });
  });
});
