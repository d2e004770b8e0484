import { type RunningSimulator, startSimulator } from '@capstan/simulator';
import { createTestDatabase, eventually, type TestDatabase } from '@capstan/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { BackupSpec, RestoreSpec } from '../../backup-driver';
import { ProviderError } from '../../cluster-provider';
import type { ProviderOperation } from '../../infrastructure-driver';
import { GkeDriver } from '../gke-driver';
import { DEFAULT_GKE_SETTINGS } from '../gke-settings';
import { GkeBackupDriver, type GkeBackupDriverSettings } from './gke-backup-driver';

const run = promisify(execFile);
const COUPON_CRD = [
  'apiVersion: apiextensions.k8s.io/v1',
  'kind: CustomResourceDefinition',
  'metadata:',
  '  name: coupons.shop.example.com',
  'spec:',
  '  group: shop.example.com',
  '  scope: Namespaced',
  '  names: {plural: coupons, singular: coupon, kind: Coupon, listKind: CouponList}',
  '  versions:',
  '  - name: v1',
  '    served: true',
  '    storage: true',
  '    schema:',
  '      openAPIV3Schema:',
  '        type: object',
  '        properties:',
  '          spec: {type: object, properties: {percent: {type: integer}}}',
].join('\n');
const PROJECT = 'capstan-backup-driver';
const CLUSTER = 'capstan-01jbackupdrivertest0000000';

/**
 * GkeBackupDriver against the emulated Backup for GKE of the simulated cloud (served on the GKE
 * emulator's port), over REST with the driver's own credentials: backups and restores that do
 * what they say in the cluster, what a restarted worker does, and what GKE cannot do.
 */
describe('GkeBackupDriver against the emulated Backup for GKE', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let clusters: GkeDriver;
  let driver: GkeBackupDriver;
  let stats: Client;
  let dir: string;
  let kubeconfig: string;

  const settings = (): GkeBackupDriverSettings => ({
    ...DEFAULT_GKE_SETTINGS,
    project: PROJECT,
    apiEndpoint: sim.gkeUrl,
    backupApiEndpoint: sim.gkeUrl,
    credentials: { kind: 'token-endpoint', url: `${sim.gkeUrl}/token` },
    serverNameFromDnsEndpoint: true,
    timeoutMs: 10_000,
    changeWaitMs: 30_000,
  });
  const backupSpec = (backupId: string, extra: Partial<BackupSpec> = {}): BackupSpec => ({
    backupId,
    cluster: CLUSTER,
    kind: 'workload',
    includedNamespaces: [],
    excludedNamespaces: [],
    ...extra,
  });
  const followed = async (operation: ProviderOperation, by: GkeBackupDriver = driver) => {
    await eventually(async () => (await by.getOperation(operation)).done, 30_000, 50);
    return by.getOperation(operation);
  };
  const calls = async (call: string) => {
    const { rows } = await stats.query<{ count: string }>(`SELECT coalesce(sum(count), 0) AS count FROM simulator.call_stats WHERE call = $1`, [call]);
    return Number(rows[0]?.count ?? 0);
  };
  const kubectl = async (...args: string[]) => {
    try {
      return (await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { env: { ...process.env, HOME: dir } })).stdout;
    } catch (error) {
      throw new Error(`kubectl ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
    }
  };
  const apply = (manifest: string) => {
    const file = join(dir, `m-${Date.now()}.yaml`);
    writeFileSync(file, manifest);
    return kubectl('apply', '-f', file);
  };
  const configMaps = async (namespace: string) =>
    (await kubectl('get', 'configmaps', '-n', namespace, '-o', 'name'))
      .trim()
      .split('\n')
      .filter((n) => n && n !== 'configmap/kube-root-ca.crt')
      .sort();
  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, gkePort: 0, stepDelayMs: 50 });
    clusters = new GkeDriver(settings());
    driver = new GkeBackupDriver(settings());
    stats = new Client({ connectionString: db.url });
    await stats.connect();

    await clusters.ensureCluster({ name: CLUSTER, flavour: 'gke', region: 'europe-west6', version: '1.35.8-gke.1225000', labels: {} });
    await eventually(async () => (await clusters.getCluster(CLUSTER))?.status === 'running', 30_000, 50);
    const access = await clusters.adminAccess(CLUSTER);
    dir = mkdtempSync(join(tmpdir(), 'gke-backup-driver-'));
    kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: gke\n  cluster:\n    server: ${access.server}\n    tls-server-name: ${access.tlsServerName}\n    certificate-authority-data: ${Buffer.from(access.caCertificate).toString('base64')}`,
        `users:\n- name: capstan\n  user:\n    token: ${access.token}`,
        'contexts:\n- name: gke\n  context:\n    cluster: gke\n    user: capstan',
        'current-context: gke',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await driver?.close();
    await clusters?.close();
    await stats?.end();
    await sim?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes a workload backup and restores it: kubectl shows the backup’s objects, not those made after it', async () => {
    // A custom resource and its definition, for the restore into another cluster below.
    await apply(COUPON_CRD);
    await eventually(
      async () => {
        try {
          await apply('apiVersion: shop.example.com/v1\nkind: Coupon\nmetadata:\n  name: winter\n  namespace: default\nspec:\n  percent: 10');
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      200,
    );
    await apply(
      [
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: orders',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n  namespace: orders\ndata:\n  v: "1"',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: changed\n  namespace: orders\ndata:\n  v: "original"',
      ].join('\n---\n'),
    );

    const started = await driver.startBackup(backupSpec('bk_01jbackupone0000000000000'));
    expect(started).toMatchObject({ provider: 'gke', kind: 'gke-backup-operation', target: CLUSTER });
    expect(started.name).toMatch(new RegExp(`^projects/${PROJECT}/locations/europe-west6/operations/operation-`));
    expect(await followed(started)).toEqual({ done: true });
    const backup = await driver.getBackup(CLUSTER, 'bk_01jbackupone0000000000000', 'workload');
    expect(backup).toMatchObject({
      backupId: 'bk_01jbackupone0000000000000',
      state: 'succeeded',
      location: expect.stringMatching(
        new RegExp(`^projects/${PROJECT}/locations/europe-west6/backupPlans/${CLUSTER}-[0-9a-f]{6}/backups/bk-01jbackupone0000000000000$`),
      ),
      completedAt: expect.any(Date),
    });
    expect(backup!.sizeBytes).toBeGreaterThan(0n);

    // After the backup: one object more, one fewer, one changed, and a new namespace.
    await apply(
      [
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  namespace: orders',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: changed\n  namespace: orders\ndata:\n  v: "edited"',
      ].join('\n---\n'),
    );
    await kubectl('delete', 'configmap', 'before', '-n', 'orders');
    expect(await configMaps('orders')).toEqual(['configmap/after', 'configmap/changed']);

    const restore: RestoreSpec = {
      restoreId: 'op_01jrestoreone000000000000',
      backup: { backupId: 'bk_01jbackupone0000000000000', cluster: CLUSTER, kind: 'workload', location: backup!.location },
      targetCluster: CLUSTER,
      scope: 'workloads',
      includedNamespaces: ['orders'],
    };
    const restoring = await driver.startRestore(restore);
    expect(await followed(restoring)).toEqual({ done: true });

    expect(await configMaps('orders')).toEqual(['configmap/before', 'configmap/changed']);
    expect(await kubectl('get', 'configmap', 'changed', '-n', 'orders', '-o', 'jsonpath={.data.v}')).toBe('original');
    // Asked again (a lost answer): the same restore, not a second one.
    const again = await driver.startRestore(restore);
    expect(again.name).toMatch(/\/restorePlans\/[^/]+\/restores\/op-01jrestoreone000000000000$/);
    expect(await calls('gkebackup.restores.create')).toBe(1);
  });

  it('restores a workload backup into another cluster of the project, leaving the source as it is', async () => {
    const target = 'capstan-01jbackupdrivertarget00000';
    await clusters.ensureCluster({ name: target, flavour: 'gke', region: 'europe-west6', version: '1.35.8-gke.1225000', labels: {} });
    await eventually(async () => (await clusters.getCluster(target))?.status === 'running', 30_000, 50);
    const backup = (await driver.getBackup(CLUSTER, 'bk_01jbackupone0000000000000', 'workload'))!;

    const restoring = await driver.startRestore({
      restoreId: 'op_01jrestoreelsewhere0000000',
      backup: { backupId: backup.backupId, cluster: CLUSTER, kind: 'workload', location: null },
      targetCluster: target,
      scope: 'workloads',
      includedNamespaces: [],
    });
    expect(await followed(restoring)).toEqual({ done: true });

    // The custom resource came with its definition, which the target did not have.
    const targetServer = sim.kube.server(target);
    expect(
      await targetServer.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'coupons.shop.example.com' }),
    ).not.toBeNull();
    expect((await targetServer.list('shop.example.com/v1', 'Coupon', { namespace: 'default' })).map((c) => [c.metadata.name, c.spec])).toEqual([
      ['winter', { percent: 10 }],
    ]);
    // (kube-root-ca.crt is the target's own, made by its controllers whenever they get to it.)
    const targetObjects = (await sim.kube.server(target).list('v1', 'ConfigMap', { namespace: 'orders' })).filter(
      (c) => c.metadata.name !== 'kube-root-ca.crt',
    );
    expect(targetObjects.map((c) => c.metadata.name).sort()).toEqual(['before', 'changed']);
    expect(targetObjects.find((c) => c.metadata.name === 'changed')?.['data']).toEqual({ v: 'original' });
    expect(await configMaps('orders')).toEqual(['configmap/before', 'configmap/changed']);
  });

  it('resumes after a crash with the create sent and its answer lost: one backup, followed by name from a new driver', async () => {
    const fault = await fetch(`${sim.apiUrl}/v1/chaos/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { call: 'gkebackup.backups.create' }, mode: 'fail_once', at: 'response' }),
    });
    expect(fault.status).toBe(201);
    const before = await calls('gkebackup.backups.create');

    const lost = await refusal(driver.startBackup(backupSpec('bk_01jbackuplost000000000000')));
    expect(lost.retryable).toBe(true);

    // The worker restarts: a new driver, asked again for the same backup id.
    const restarted = new GkeBackupDriver(settings());
    try {
      const handle = await restarted.startBackup(backupSpec('bk_01jbackuplost000000000000'));
      expect(await calls('gkebackup.backups.create')).toBe(before + 1);
      expect(handle.name).toMatch(/\/backupPlans\/[^/]+\/backups\/bk-01jbackuplost000000000000$/);

      // It checkpoints the handle and dies again; the next one follows it by name alone.
      const checkpointed = JSON.parse(JSON.stringify(handle)) as ProviderOperation;
      const third = new GkeBackupDriver(settings());
      try {
        expect(await followed(checkpointed, third)).toEqual({ done: true });
      } finally {
        await third.close();
      }
    } finally {
      await restarted.close();
    }
    expect(await driver.getBackup(CLUSTER, 'bk_01jbackuplost000000000000', 'workload')).toMatchObject({ state: 'succeeded' });
    expect(await calls('gkebackup.backups.create')).toBe(before + 1);
  });

  it('keeps one backup plan per scope, and accepts excluding namespaces GKE never restores', async () => {
    const selected = await driver.startBackup(backupSpec('bk_01jbackupselected00000000', { includedNamespaces: ['orders'] }));
    await followed(selected);
    const managedOnly = await driver.startBackup(backupSpec('bk_01jbackupmanaged000000000', { excludedNamespaces: ['kube-system', 'kube-public'] }));
    await followed(managedOnly);

    const all = (await driver.getBackup(CLUSTER, 'bk_01jbackupone0000000000000', 'workload'))!.location!;
    const one = (await driver.getBackup(CLUSTER, 'bk_01jbackupselected00000000', 'workload'))!.location!;
    const managed = (await driver.getBackup(CLUSTER, 'bk_01jbackupmanaged000000000', 'workload'))!.location!;
    const planOf = (name: string) => name.replace(/\/backups\/[^/]+$/, '');
    expect(planOf(one)).not.toBe(planOf(all));
    expect(planOf(managed)).toBe(planOf(all));
    expect(await calls('gkebackup.backupPlans.create')).toBe(2);
  });

  it('refuses what Backup for GKE cannot do, as final errors', async () => {
    const etcd = await refusal(driver.startBackup(backupSpec('bk_01jbackupetcd000000000000', { kind: 'etcd_snapshot' })));
    expect(etcd).toMatchObject({ retryable: false, code: 'backup-kind-unsupported' });
    expect(etcd.message).toContain('Google runs their control plane');

    const controlPlane = await refusal(
      driver.startRestore({
        restoreId: 'op_01jrestorecp00000000000000',
        backup: { backupId: 'bk_01jbackupone0000000000000', cluster: CLUSTER, kind: 'workload', location: null },
        targetCluster: CLUSTER,
        scope: 'control_plane',
        includedNamespaces: [],
      }),
    );
    expect(controlPlane).toMatchObject({ retryable: false, code: 'backup-kind-unsupported' });

    expect(await refusal(driver.startBackup(backupSpec('bk_01jbackuplabels0000000000', { labelSelector: 'app=web' })))).toMatchObject({
      retryable: false,
      code: 'backup-scope-unsupported',
    });
    const excluded = await refusal(driver.startBackup(backupSpec('bk_01jbackupexcluded00000000', { excludedNamespaces: ['orders'] })));
    expect(excluded).toMatchObject({ retryable: false, code: 'backup-scope-unsupported' });
    expect(excluded.message).toContain('orders');

    expect(await refusal(driver.startBackup({ ...backupSpec('bk_01jbackupghost00000000000'), cluster: 'capstan-ghost' }))).toMatchObject({
      retryable: false,
      code: 'gke_not_found',
    });
    expect(await driver.getBackup(CLUSTER, 'bk_01jbackupetcd000000000000', 'etcd_snapshot')).toBeNull();
    expect(await driver.getBackup(CLUSTER, 'bk_01jbackupnever00000000000', 'workload')).toBeNull();
  });

  it("sends a delete lock as Backup for GKE's deleteLockDays: the provider refuses to delete the backup while it holds", async () => {
    const locked = await driver.startBackup(backupSpec('bk_01jbackuplocked0000000000', { deleteLockDays: 7 }));
    expect(await followed(locked)).toEqual({ done: true });
    const refused = await refusal(driver.deleteBackup(CLUSTER, 'bk_01jbackuplocked0000000000', 'workload'));
    expect(refused.message).toContain('locked against deletion');
    expect(await driver.getBackup(CLUSTER, 'bk_01jbackuplocked0000000000', 'workload')).toMatchObject({ state: 'succeeded' });
  });

  it('deletes a backup, and deleting one that is gone succeeds', async () => {
    await driver.deleteBackup(CLUSTER, 'bk_01jbackupselected00000000', 'workload');
    await eventually(async () => (await driver.getBackup(CLUSTER, 'bk_01jbackupselected00000000', 'workload')) === null, 30_000, 50);
    await driver.deleteBackup(CLUSTER, 'bk_01jbackupselected00000000', 'workload');
    await driver.deleteBackup(CLUSTER, 'bk_01jbackupnever00000000000', 'workload');
    expect(await driver.getBackup(CLUSTER, 'bk_01jbackupone0000000000000', 'workload')).toMatchObject({ state: 'succeeded' });
  });
});
