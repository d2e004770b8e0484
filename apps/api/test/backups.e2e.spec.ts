import { BackupScheduler } from '@capstan/backups';
import { dueRun } from '@capstan/domain';
import { newId } from '@capstan/platform';
import { seedBackups, seedOrganization, seedStaff, type Stack, startStack, waitForOperation } from '@capstan/testing';
import { sql } from 'kysely';

/**
 * Backups and restores through the real API, database, outbox and an in-process worker
 * (docs/backups.md). This installation has no backup driver yet (the drivers' `unavailable`
 * source), so every operation that reaches the provider fails with `driver_unavailable`: a real
 * behaviour, and the one that shows where each failure leaves the backup and the cluster.
 * Clusters are written straight to the tables, as a provisioned cluster would be.
 */
describe('backups and restore', () => {
  let stack: Stack;
  let owner: { organizationId: string; token: string };
  let intruder: { organizationId: string; token: string };
  let intruderCluster: string;
  const clusterId = newId('cl');

  const insertCluster = async (
    organizationId: string,
    over: { id?: string; name: string; provider?: 'rke2' | 'gke'; region?: string; version?: string; status?: 'running' | 'error' },
  ) => {
    const id = over.id ?? newId('cl');
    await stack.database
      .insertInto('clusters')
      .values({
        id,
        organization_id: organizationId,
        name: over.name,
        live_name: over.name,
        provider: over.provider ?? 'rke2',
        region: over.region ?? 'nine-cz41',
        current_version: over.version ?? '1.35.2',
        desired_version: over.version ?? '1.35.2',
        status: over.status ?? 'running',
        labels: sql`'{}'::jsonb`,
        updated_at: new Date(),
      })
      .execute();
    return id;
  };

  beforeAll(async () => {
    stack = await startStack();
    owner = await seedOrganization(stack.database);
    intruder = await seedOrganization(stack.database);
    await insertCluster(owner.organizationId, { id: clusterId, name: 'shop' });
    intruderCluster = await insertCluster(intruder.organizationId, { name: 'other' });
  }, 60_000);

  afterAll(async () => {
    await stack.stop();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}, token = owner.token) =>
    stack.api.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload ? { payload } : {}) });
  const base = `/v1/clusters/${clusterId}`;
  const audits = (action: string) =>
    stack.database
      .selectFrom('audit_events')
      .select(['target_id', 'changes'])
      .where('organization_id', '=', owner.organizationId)
      .where('action', '=', action)
      .execute();
  const clusterStatus = async (id = clusterId) =>
    stack.database.selectFrom('clusters').select(['status', 'status_reason']).where('id', '=', id).executeTakeFirstOrThrow();

  describe('schedules', () => {
    it('creates a schedule read in its own zone, with RKE2 retention by default, Location, ETag and an audit event', async () => {
      const res = await call('POST', `${base}/backup-schedules`, { name: 'nightly', cron: '0 2 * * *', time_zone: 'Europe/Zurich' });
      expect(res.statusCode).toBe(201);
      const schedule = res.json();
      expect(res.headers.location).toBe(`${base}/backup-schedules/${schedule.id}`);
      expect(res.headers.etag).toBe('"1"');
      expect(schedule).toMatchObject({ kind: 'etcd_snapshot', retention: { count: 5, days: null }, region: 'nine-cz41', paused: false });
      const next = new Date(schedule.next_run_at);
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Zurich', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next)).toBe('02:00');
      expect(next.getTime()).toBeGreaterThan(Date.now());
      expect(await audits('backup_schedule.create')).toEqual([expect.objectContaining({ target_id: schedule.id })]);
      // one name per cluster
      const again = await call('POST', `${base}/backup-schedules`, { name: 'nightly' });
      expect(again.statusCode).toBe(409);
      expect(again.json().type).toContain('backup-schedule-name-taken');
    });

    it.each([
      [{ name: 'a', cron: '0 0 0 * * *' }, 'cron'],
      [{ name: 'b', cron: '61 * * * *' }, 'cron'],
      [{ name: 'c', time_zone: 'Mars/Olympus' }, 'time_zone'],
      [{ name: 'd', retention_count: 3, retain_days: 7 }, 'retain_days'],
      [{ name: 'e', included_namespaces: ['shop'] }, 'included_namespaces'],
      [{ name: 'f', kind: 'workload', label_selector: 'app in (a,b)' }, 'label_selector'],
    ])('refuses %j with problem+json naming %s', async (body, field) => {
      const res = await call('POST', `${base}/backup-schedules`, body);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('refuses a region that is not the provider’s or not in the residency (422)', async () => {
      const res = await call('POST', `${base}/backup-schedules`, { name: 'offsite', region: 'europe-west3' });
      expect(res.statusCode).toBe(422);
      expect(res.json().type).toContain('region-not-offered');
    });

    it('updates under If-Match, refuses a stale etag with 412, deletes, and answers 404 to another organisation', async () => {
      const created = (await call('POST', `${base}/backup-schedules`, { name: 'hourly', cron: '0 * * * *', retain_days: 3 })).json();
      const url = `${base}/backup-schedules/${created.id}`;
      expect((await call('GET', url, undefined, {}, intruder.token)).statusCode).toBe(404);
      expect((await call('PATCH', url, { paused: true }, {}, intruder.token)).statusCode).toBe(404);
      expect((await call('DELETE', url, undefined, {}, intruder.token)).statusCode).toBe(404);

      const stale = await call('PATCH', url, { paused: true }, { 'if-match': '"7"' });
      expect(stale.statusCode).toBe(412);
      const paused = await call('PATCH', url, { paused: true, retention_count: 10 }, { 'if-match': created.etag });
      expect(paused.statusCode).toBe(200);
      expect(paused.json()).toMatchObject({ paused: true, next_run_at: null, retention: { count: 10, days: null }, etag: '"2"' });
      expect((await audits('backup_schedule.update')).map((a) => a.changes)).toEqual([expect.objectContaining({ paused: { before: false, after: true } })]);

      const page = (await call('GET', `${base}/backup-schedules?limit=1`)).json();
      expect(page.items).toHaveLength(1);
      expect(page.next_cursor).not.toBeNull();
      expect((await call('DELETE', url)).statusCode).toBe(204);
      expect((await call('GET', url)).statusCode).toBe(404);
    });
  });

  describe('on-demand backups', () => {
    it('takes a backup as a create_backup operation; without a driver it fails with driver_unavailable and the backup says so', async () => {
      const res = await call('POST', `${base}/backups`, { kind: 'etcd_snapshot', retain_days: 14 }, { 'idempotency-key': 'bk-1' });
      expect(res.statusCode).toBe(202);
      const { backup, operation } = res.json();
      expect(res.headers.location).toBe(`${base}/backups/${backup.id}`);
      expect(backup).toMatchObject({ state: 'pending', purpose: 'on_demand', cluster_version: '1.35.2', operation_id: operation.id });
      expect(operation).toMatchObject({ type: 'create_backup', status: 'pending', target: { type: 'backup', id: backup.id } });
      // the same key replays the answer instead of taking a second backup
      const replay = await call('POST', `${base}/backups`, { kind: 'etcd_snapshot', retain_days: 14 }, { 'idempotency-key': 'bk-1' });
      expect(replay.json().backup.id).toBe(backup.id);

      const failed = await waitForOperation(stack.database, operation.id, ['failed']);
      expect(failed.error).toMatchObject({ code: 'driver_unavailable', step: 'take_backup' });
      const read = (await call('GET', `${base}/backups/${backup.id}`)).json();
      expect(read).toMatchObject({ state: 'failed', error: { code: 'driver_unavailable' }, finished_at: expect.any(String), location: null });
      // a backup does not change the cluster's status, before or after
      expect((await clusterStatus()).status).toBe('running');
      expect(await audits('backup.create')).toEqual([expect.objectContaining({ target_id: backup.id })]);
    });

    it('lists backups newest first, paged and filtered, and never another organisation’s', async () => {
      await seedBackups(stack.database, { organizationId: owner.organizationId, clusterId });
      const all = (await call('GET', `${base}/backups`)).json();
      expect(all.items.length).toBeGreaterThanOrEqual(2);
      expect(all.items.map((b: { id: string }) => b.id)).toEqual([...all.items.map((b: { id: string }) => b.id)].sort().reverse());
      const failed = (await call('GET', `${base}/backups?state=failed`)).json();
      expect(failed.items.every((b: { state: string }) => b.state === 'failed')).toBe(true);
      const first = (await call('GET', `${base}/backups?limit=1`)).json();
      expect(first.next_cursor).not.toBeNull();
      expect((await call('GET', `${base}/backups`, undefined, {}, intruder.token)).statusCode).toBe(404);
      expect((await call('GET', `${base}/backups/${all.items[0].id}`, undefined, {}, intruder.token)).statusCode).toBe(404);
    });

    it('deletes only on-demand backups: the retention pass removes it; a scheduled one is refused with 422', async () => {
      const failed = (await call('GET', `${base}/backups?state=failed`)).json().items[0];
      const deleted = await call('DELETE', `${base}/backups/${failed.id}`);
      expect(deleted.statusCode).toBe(202);
      expect(deleted.json().expires_at).not.toBeNull();
      await stack.worker!.get(BackupScheduler).tick();
      expect((await call('GET', `${base}/backups/${failed.id}`)).json().state).toBe('deleted');

      const scheduled = newId('bk');
      await stack.database
        .insertInto('backups')
        .values({
          id: scheduled,
          cluster_id: clusterId,
          organization_id: owner.organizationId,
          kind: 'etcd_snapshot',
          status: 'succeeded',
          purpose: 'scheduled',
          region: 'nine-cz41',
          cluster_version: '1.35.2',
          completed_at: new Date(),
        })
        .execute();
      const refused = await call('DELETE', `${base}/backups/${scheduled}`);
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ type: expect.stringContaining('backup-not-deletable'), rule: 'only on-demand backups are deleted by hand' });
    });
  });

  describe('restore', () => {
    let good: string;
    beforeAll(async () => {
      good = (await seedBackups(stack.database, { organizationId: owner.organizationId, clusterId, version: '1.35.2' })).backupId;
    });

    it('never restores across organisations: 404 for a foreign cluster, backup or target', async () => {
      const foreign = (await seedBackups(stack.database, { organizationId: intruder.organizationId, clusterId: intruderCluster })).backupId;
      expect((await call('POST', `${base}/restore`, { backup_id: good, scope: 'control_plane' }, {}, intruder.token)).statusCode).toBe(404);
      expect((await call('POST', `${base}/restore`, { backup_id: foreign, scope: 'control_plane' })).statusCode).toBe(404);
      const workload = await workloadBackup();
      const into = await call('POST', `${base}/restore`, { backup_id: workload, scope: 'workloads', target_cluster_id: intruderCluster });
      expect(into.statusCode).toBe(404);
      expect((await clusterStatus(intruderCluster)).status).toBe('running');
    });

    it('never restores outside the residency, across minors, or a control plane into another cluster', async () => {
      const workload = await workloadBackup();
      const frankfurt = await insertCluster(owner.organizationId, { name: 'fra', provider: 'gke', region: 'europe-west3' });
      const residency = await call('POST', `${base}/restore`, { backup_id: workload, scope: 'workloads', target_cluster_id: frankfurt });
      expect(residency.statusCode).toBe(422);
      expect(residency.json()).toMatchObject({ type: expect.stringContaining('data-residency-violation'), rule: 'restores stay in the residency country' });

      const gkeZurich = await insertCluster(owner.organizationId, { name: 'zrh', provider: 'gke', region: 'europe-west6' });
      const provider = await call('POST', `${base}/restore`, { backup_id: workload, scope: 'workloads', target_cluster_id: gkeZurich });
      expect(provider.statusCode).toBe(422);
      expect(provider.json()).toMatchObject({ type: expect.stringContaining('restore-provider-mismatch'), backup_provider: 'rke2', target_provider: 'gke' });

      const newer = await insertCluster(owner.organizationId, { name: 'newer', version: '1.36.1' });
      const minor = await call('POST', `${base}/restore`, { backup_id: workload, scope: 'workloads', target_cluster_id: newer });
      expect(minor.statusCode).toBe(422);
      expect(minor.json()).toMatchObject({ type: expect.stringContaining('restore-version-mismatch') });

      const elsewhere = await call('POST', `${base}/restore`, { backup_id: good, scope: 'control_plane', target_cluster_id: newer });
      expect(elsewhere.statusCode).toBe(400);
      expect(elsewhere.json().errors[0].field).toBe('target_cluster_id');
      const wrongKind = await call('POST', `${base}/restore`, { backup_id: workload, scope: 'control_plane' });
      expect(wrongKind.json().type).toContain('restore-scope-mismatch');
      for (const id of [frankfurt, gkeZurich, newer]) expect((await clusterStatus(id)).status).toBe('running');
    });

    it('a control-plane restore sets the cluster restoring; one that fails leaves it in error, from where a restore is accepted again', async () => {
      const res = await call('POST', `${base}/restore`, { backup_id: good, scope: 'control_plane' });
      expect(res.statusCode).toBe(202);
      const { operation } = res.json();
      expect(operation).toMatchObject({
        type: 'restore_backup',
        steps: [{ name: 'preflight_restore' }, { name: 'restore_backup' }, { name: 'mark_restored' }],
      });
      const marked = await stack.database.selectFrom('backups').select('restore_operation_id').where('id', '=', good).executeTakeFirstOrThrow();
      expect(marked.restore_operation_id).toBe(operation.id);
      expect(await audits('cluster.restore')).toEqual([
        expect.objectContaining({ target_id: clusterId, changes: expect.objectContaining({ status: { before: 'running', after: 'restoring' } }) }),
      ]);

      const failed = await waitForOperation(stack.database, operation.id, ['failed']);
      expect(failed.error).toMatchObject({ code: 'driver_unavailable', step: 'preflight_restore' });
      expect(await clusterStatus()).toMatchObject({ status: 'error', status_reason: expect.stringContaining('preflight_restore') });
      const again = await call('POST', `${base}/restore`, { backup_id: good, scope: 'control_plane' });
      expect(again.statusCode).toBe(202);
      await waitForOperation(stack.database, again.json().operation.id, ['failed']);
    });

    it('refuses a workload backup, schedule or restore on an RKE2 cluster without the velero add-on (422), writing nothing; with it, they start', async () => {
      const bare = await insertCluster(owner.organizationId, { name: 'no-velero', version: '1.35.0' });
      const workload = await workloadBackup();
      const written = async () =>
        Promise.all(
          (['operations', 'backups', 'backup_schedules', 'audit_events'] as const).map(async (table) =>
            Number(
              (
                await stack.database
                  .selectFrom(table)
                  .select((eb) => eb.fn.countAll().as('n'))
                  .executeTakeFirstOrThrow()
              ).n,
            ),
          ),
        );
      const before = await written();
      const refused = [
        await call('POST', `${base}/restore`, { backup_id: workload, scope: 'workloads', target_cluster_id: bare }),
        await call('POST', `/v1/clusters/${bare}/backups`, { kind: 'workload' }),
        await call('POST', `/v1/clusters/${bare}/backup-schedules`, { name: 'apps', kind: 'workload' }),
      ];
      for (const res of refused) {
        expect(res.statusCode).toBe(422);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({
          type: expect.stringContaining('velero-addon-required'),
          rule: 'RKE2 workload backups and restores need the velero add-on',
          cluster_id: bare,
          addon: 'velero',
        });
      }
      expect(refused[0]!.json().detail).toContain(`PUT /v1/clusters/${bare}/addons/velero`);
      expect(await written()).toEqual(before);
      expect((await clusterStatus(bare)).status).toBe('running');
      // an etcd snapshot needs no add-on
      const etcd = await call('POST', `/v1/clusters/${bare}/backups`, { kind: 'etcd_snapshot' });
      expect(etcd.statusCode).toBe(202);
      await waitForOperation(stack.database, etcd.json().operation.id, ['failed']);

      // The customer's choice of the add-on (what PUT .../addons/velero writes) lets each start.
      const now = new Date();
      await stack.database
        .insertInto('cluster_addons')
        .values({
          cluster_id: bare,
          organization_id: owner.organizationId,
          name: 'velero',
          enabled: true,
          status: 'installed',
          created_at: now,
          updated_at: now,
        })
        .execute();
      expect((await call('POST', `/v1/clusters/${bare}/backup-schedules`, { name: 'apps', kind: 'workload' })).statusCode).toBe(201);
      const restore = await call('POST', `${base}/restore`, { backup_id: workload, scope: 'workloads', target_cluster_id: bare });
      expect(restore.statusCode).toBe(202);
      await waitForOperation(stack.database, restore.json().operation.id, ['failed']);
      // removed again (its row says so): refused again
      await stack.database.updateTable('cluster_addons').set({ enabled: false }).where('cluster_id', '=', bare).execute();
      expect((await call('POST', `/v1/clusters/${bare}/backups`, { kind: 'workload' })).json().type).toContain('velero-addon-required');
    });

    it('a deleted cluster takes its node-local etcd snapshots with it: marked deleted with the reason; S3 and workload backups stay', async () => {
      const doomed = await insertCluster(owner.organizationId, { name: 'doomed' });
      const snapshot = (kind: 'etcd_snapshot' | 'workload', location: string) => succeededBackup(doomed, kind, location, '1.35.2');
      const local = await snapshot('etcd_snapshot', 'file:///var/lib/rancher/rke2/server/db/snapshots/doomed-1');
      const offsite = await snapshot('etcd_snapshot', 's3://capstan-etcd/doomed-1');
      const velero = await snapshot('workload', 'velero://doomed');

      const deleted = await call('DELETE', `/v1/clusters/${doomed}`);
      expect(deleted.statusCode).toBe(202);
      const op = await waitForOperation(stack.database, deleted.json().operation.id, ['succeeded'], 60_000);
      expect(op.steps.map((s) => s.name)).toEqual([
        'delete_node_pools',
        'delete_control_plane',
        'forget_local_snapshots',
        'release_endpoint',
        'revoke_credentials',
        'mark_deleted',
      ]);
      const rows = await stack.database.selectFrom('backups').select(['id', 'status', 'error']).where('cluster_id', '=', doomed).orderBy('id').execute();
      expect(new Map(rows.map((r) => [r.id, r]))).toEqual(
        new Map([
          [
            local,
            {
              id: local,
              status: 'deleted',
              error: expect.objectContaining({ code: 'cluster_deleted', message: expect.stringContaining("cluster's own servers") }),
            },
          ],
          [offsite, { id: offsite, status: 'succeeded', error: null }],
          [velero, { id: velero, status: 'succeeded', error: null }],
        ]),
      );

      // A cluster left in error (a delete that failed after its control plane went) accepts a
      // restore; one from a snapshot that went with the servers is refused, saying why.
      const survivor = await insertCluster(owner.organizationId, { name: 'half-deleted', status: 'error' });
      await stack.database.updateTable('backups').set({ cluster_id: survivor }).where('id', '=', local).execute();
      const restore = await call('POST', `/v1/clusters/${survivor}/restore`, { backup_id: local, scope: 'control_plane' });
      expect(restore.statusCode).toBe(422);
      expect(restore.json()).toMatchObject({
        type: expect.stringContaining('backup-not-restorable'),
        rule: 'restore only a backup that succeeded',
        backup_status: 'deleted',
        reason: expect.stringContaining('deleted with the cluster'),
      });
    });

    function workloadBackup(): Promise<string> {
      return succeededBackup(clusterId, 'workload', 'velero://shop', '1.35.0');
    }

    /** A finished on-demand backup row of the owner's, as the worker leaves one. */
    async function succeededBackup(cluster: string, kind: 'etcd_snapshot' | 'workload', location: string, clusterVersion: string): Promise<string> {
      const id = newId('bk');
      await stack.database
        .insertInto('backups')
        .values({
          id,
          cluster_id: cluster,
          organization_id: owner.organizationId,
          kind,
          status: 'succeeded',
          purpose: 'on_demand',
          region: 'nine-cz41',
          cluster_version: clusterVersion,
          location,
          completed_at: new Date(),
        })
        .execute();
      return id;
    }
  });

  describe('the scheduler', () => {
    let cluster: string;
    let scheduleId: string;
    // A daily window twelve hours from now, so the worker's own ticks (real time) never reach one
    // while the test drives the scheduler with instants of its own.
    const hour = (new Date().getUTCHours() + 12) % 24;

    beforeAll(async () => {
      // Only this describe's schedule, so the tick's counts are its own.
      await stack.database.updateTable('backup_schedules').set({ paused: true }).execute();
      cluster = await insertCluster(owner.organizationId, { name: 'scheduled' });
      const created = await call('POST', `/v1/clusters/${cluster}/backup-schedules`, { name: 'daily', cron: `0 ${hour} * * *`, retention_count: 2 });
      expect(created.statusCode).toBe(201);
      scheduleId = created.json().id;
    });

    const scheduled = () =>
      stack.database.selectFrom('backups').select(['id', 'status', 'purpose']).where('schedule_id', '=', scheduleId).orderBy('id').execute();

    it('runs the windows missed while it was down once, not once each, and not again at the same instant', async () => {
      const scheduler = stack.worker!.get(BackupScheduler);
      const row = await stack.database.selectFrom('backup_schedules').selectAll().where('id', '=', scheduleId).executeTakeFirstOrThrow();
      const at = new Date(row.last_run_at!.getTime() + 5 * 86_400_000 + 3_600_000);
      const expected = dueRun({ cron: row.cron, timeZone: row.time_zone }, row.last_run_at!, at);
      expect(expected.skipped).toBeGreaterThanOrEqual(3);

      const first = await scheduler.tick(at);
      expect(first).toMatchObject({ created: 1, skippedWindows: expected.skipped });
      expect(await scheduled()).toEqual([expect.objectContaining({ purpose: 'scheduled' })]);
      expect((await scheduler.tick(at)).created).toBe(0);
      const after = (await call('GET', `/v1/clusters/${cluster}/backup-schedules/${scheduleId}`)).json();
      expect(after).toMatchObject({ last_run_at: expected.window!.toISOString(), next_run_at: expected.next!.toISOString() });
      // its operation fails without a driver; the scheduler does not wait for it
      const [backup] = await scheduled();
      const op = await stack.database.selectFrom('backups').select('operation_id').where('id', '=', backup!.id).executeTakeFirstOrThrow();
      await waitForOperation(stack.database, op.operation_id!, ['failed']);
    });

    it('prunes by count exactly, and raises the stale event once per episode', async () => {
      const scheduler = stack.worker!.get(BackupScheduler);
      const base = Date.now();
      for (let i = 0; i < 4; i++)
        await stack.database
          .insertInto('backups')
          .values({
            id: newId('bk'),
            cluster_id: cluster,
            organization_id: owner.organizationId,
            schedule_id: scheduleId,
            kind: 'etcd_snapshot',
            status: 'succeeded',
            purpose: 'scheduled',
            region: 'nine-cz41',
            cluster_version: '1.35.2',
            completed_at: new Date(base + (i + 1) * 60_000),
          })
          .execute();
      await scheduler.tick();
      const left = await scheduled();
      expect(left.filter((b) => b.status === 'succeeded')).toHaveLength(2);
      // the failed one is older than two good ones: it goes too
      expect(left.filter((b) => b.status === 'deleted')).toHaveLength(3);

      const later = new Date(base + 10 * 86_400_000);
      const stale = async () =>
        stack.database.selectFrom('events').select('data').where('type', '=', 'dev.capstan.backup.stale').where('subject', '=', cluster).execute();
      const before = (await stale()).length;
      await scheduler.tick(later);
      await scheduler.tick(later);
      const raised = (await stale()).slice(before);
      expect(raised).toEqual([{ data: expect.objectContaining({ cluster_id: cluster, schedule_interval_seconds: 86_400 }) }]);

      const viewer = await seedStaff(stack.database, 'viewer');
      const health = await stack.api.inject({ method: 'GET', url: '/admin/v1/backup-health', headers: { authorization: `Bearer ${viewer.token}` } });
      expect(health.statusCode).toBe(200);
      expect(health.json().items).toEqual(
        expect.arrayContaining([expect.objectContaining({ cluster_id: cluster, last_good_backup_at: expect.any(String), schedule_interval_seconds: 86_400 })]),
      );
      await stack.database
        .insertInto('backups')
        .values({
          id: newId('bk'),
          cluster_id: cluster,
          organization_id: owner.organizationId,
          kind: 'etcd_snapshot',
          status: 'failed',
          purpose: 'on_demand',
          region: 'nine-cz41',
          cluster_version: '1.35.2',
          error: sql`'{"code":"backup_failed","message":"etcd unavailable"}'::jsonb`,
          completed_at: new Date(),
        })
        .execute();
      const failedList = await stack.api.inject({ method: 'GET', url: '/admin/v1/backups?state=failed', headers: { authorization: `Bearer ${viewer.token}` } });
      expect(failedList.statusCode).toBe(200);
      expect(failedList.json().items.length).toBeGreaterThan(0);
      expect(failedList.json().items.every((b: { state: string; organization_id: string }) => b.state === 'failed' && b.organization_id)).toBe(true);
    });
  });
});
