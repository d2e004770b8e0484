import { newId } from '@capstan/platform';
import { type KubeObject, type RunningSimulator, startSimulator } from '@capstan/simulator';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BackupSpec, RestoreSpec } from '../../backup-driver';
import { externalClusterName, ProviderError } from '../../cluster-provider';
import { eventually } from '../../contract/driver-contract';
import { Rke2Driver } from '../rke2-driver';
import { DEFAULT_RKE2_SETTINGS, devInfrastructure, type Rke2DriverSettings } from '../rke2-settings';
import { Rke2BackupDriver } from './rke2-backup-driver';

const run = promisify(execFile);
const NAMESPACE = 'capstan-backups';
const TURTLES = 'turtles-capi.cattle.io/v1alpha1';
const SNAPSHOT_FILES = 'k3s.cattle.io/v1';

/**
 * RKE2 backups through the real driver against the emulated management cluster, whose Turtles
 * etcd controllers snapshot and restore the emulated workload API server for real; the real
 * kubectl (1.32) checks what a customer would see after a restore.
 */
describe('Rke2BackupDriver', () => {
  let db: TestDatabase;
  let simulator: RunningSimulator;
  let clusters: Rke2Driver;
  let backups: Rke2BackupDriver;
  let settings: Rke2DriverSettings;
  let cluster: string;
  /** A cluster without Velero (the S3 test's). */
  let s3Cluster: string;
  let dir: string;
  let kubeconfig: string;

  const management = () => simulator.kube.server('management');
  const workload = () => simulator.kube.server(cluster);
  const etcdBackup = (backupId: string, overrides: Partial<BackupSpec> = {}): BackupSpec => ({
    backupId,
    cluster,
    kind: 'etcd_snapshot',
    includedNamespaces: [],
    excludedNamespaces: [],
    ...overrides,
  });
  const restoreOf = (backupId: string, overrides: Partial<RestoreSpec> = {}): RestoreSpec => ({
    restoreId: newId('op'),
    backup: { backupId, cluster, kind: 'etcd_snapshot', location: null },
    targetCluster: cluster,
    scope: 'control_plane',
    includedNamespaces: [],
    ...overrides,
  });
  const rejection = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  };
  const kubeconfigOf = async (name: string) => {
    const access = await clusters.adminAccess(name);
    const path = join(dir, `kubeconfig-${name}`);
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: c, cluster: { server: "${access.server}", tls-server-name: "${access.tlsServerName ?? ''}", certificate-authority-data: "${Buffer.from(access.caCertificate).toString('base64')}" } }]`,
        `users: [{ name: u, user: { token: "${access.token}" } }]`,
        'contexts: [{ name: c, context: { cluster: c, user: u } }]',
        'current-context: c',
      ].join('\n'),
    );
    return path;
  };
  const kubectlOn = async (config: string, ...args: string[]) => {
    const { stdout } = await run('kubectl', ['--kubeconfig', config, '--request-timeout=30s', ...args], { env: { ...process.env, HOME: dir } });
    return stdout;
  };
  const kubectl = (...args: string[]) => kubectlOn(kubeconfig, ...args);
  const newCluster = async () => {
    const name = externalClusterName(newId('cl'));
    await clusters.ensureCluster({ name, flavour: 'rke2', region: 'nine-cz41', version: '1.35.4', labels: {}, organizationId: 'org_backups' });
    await eventually(`cluster ${name} running`, 120_000, async () => ((await clusters.getCluster(name))?.status === 'running' ? true : undefined));
    return name;
  };
  /** What the velero add-on writes (an RKE2 HelmChart); the emulator then serves Velero's kinds. */
  const installVelero = async (name: string) => {
    await simulator.kube.server(name).create({
      apiVersion: 'helm.cattle.io/v1',
      kind: 'HelmChart',
      metadata: { name: 'velero', namespace: 'kube-system' },
      spec: { chart: 'velero', repo: 'https://vmware-tanzu.github.io/helm-charts', version: '11.1.1', targetNamespace: 'velero' },
    });
    await eventually(`Velero on ${name}`, 60_000, async () =>
      (await simulator.kube.server(name).get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'restores.velero.io' }))
        ? true
        : undefined,
    );
  };
  const configMaps = async (namespace: string) =>
    (await kubectl('get', 'configmaps', '-n', namespace, '-l', 'backup-test', '-o', 'name')).trim().split('\n').filter(Boolean).sort();
  const followed = async (call: Promise<{ provider: 'rke2' | 'gke'; kind: string; name: string; target: string }>) => {
    const operation = await call;
    return eventually(`${operation.kind} ${operation.name}`, 120_000, async () => {
      const status = await backups.getOperation(operation);
      return status.done ? status : undefined;
    });
  };
  const breakEtcd = async () => {
    const response = await fetch(`${simulator.apiUrl}/v1/chaos/clusters/${cluster}/etcd/data-loss`, { method: 'POST' });
    if (response.status !== 200) throw new Error(`data loss refused: ${response.status} ${await response.text()}`);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: 20 });
    await management().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    settings = { ...DEFAULT_RKE2_SETTINGS, namespace: NAMESPACE, controlPlaneReplicas: 1, infrastructure: devInfrastructure() };
    clusters = new Rke2Driver({ kubeconfig: simulator.managementKubeconfig, settings, timeoutMs: 15_000 });
    backups = new Rke2BackupDriver({ kubeconfig: simulator.managementKubeconfig, settings, timeoutMs: 15_000 });

    cluster = externalClusterName(newId('cl'));
    await clusters.ensureCluster({ name: cluster, flavour: 'rke2', region: 'nine-cz41', version: '1.35.4', labels: {}, organizationId: 'org_backups' });
    await eventually('the cluster running', 120_000, async () => ((await clusters.getCluster(cluster))?.status === 'running' ? true : undefined));
    dir = await mkdtemp(join(tmpdir(), 'capstan-rke2-backup-'));
    kubeconfig = await kubeconfigOf(cluster);
  }, 180_000);
  afterAll(async () => {
    await simulator?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('takes an etcd snapshot named from the backup id, listed by RKE2 as an ETCDSnapshotFile, and reads it back', async () => {
    const backupId = newId('bk');
    const status = await followed(backups.startBackup(etcdBackup(backupId)));
    expect(status.error).toBeUndefined();

    const backup = await backups.getBackup(cluster, backupId, 'etcd_snapshot');
    expect(backup).toMatchObject({ backupId, state: 'succeeded' });
    expect(backup!.location).toMatch(new RegExp(`^file:///var/lib/rancher/rke2/server/db/snapshots/${backupId.toLowerCase().replace('_', '-')}-.+-\\d+$`));
    expect(backup!.sizeBytes! > 0n).toBe(true);
    expect(backup!.completedAt).toBeInstanceOf(Date);

    const files = (await workload().list(SNAPSHOT_FILES, 'ETCDSnapshotFile')).filter((f) => backup!.location!.endsWith(String(f.spec?.snapshotName)));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ spec: { location: backup!.location }, status: { readyToUse: true } });
  }, 180_000);

  it('starts one snapshot when startBackup is repeated after a crash', async () => {
    const backupId = newId('bk');
    const first = await backups.startBackup(etcdBackup(backupId));
    // The worker died after the call: a fresh driver in a new process asks again.
    const again = new Rke2BackupDriver({ kubeconfig: simulator.managementKubeconfig, settings, timeoutMs: 15_000 });
    expect(await again.startBackup(etcdBackup(backupId))).toEqual(first);
    await followed(Promise.resolve(first));
    const snapshots = await management().list(TURTLES, 'ETCDMachineSnapshot', { namespace: NAMESPACE, labelSelector: `capstan.io/backup=${backupId}` });
    expect(snapshots).toHaveLength(1);
    const file = (snapshots[0]!.status as { snapshots: { name: string }[] }).snapshots[0]!.name;
    expect((await workload().list(SNAPSHOT_FILES, 'ETCDSnapshotFile')).filter((f) => f.spec?.snapshotName === file)).toHaveLength(1);
  }, 180_000);

  it('restores the cluster to its snapshot after etcd lost its data: kubectl shows exactly the snapshot objects', async () => {
    await kubectl('create', 'namespace', 'shop');
    await kubectl('create', 'configmap', 'kept', '-n', 'shop', '--from-literal=v=1');
    await kubectl('create', 'configmap', 'changed', '-n', 'shop', '--from-literal=v=before');
    await kubectl('create', 'configmap', 'deleted-later', '-n', 'shop', '--from-literal=v=1');
    await kubectl('label', 'configmaps', 'kept', 'changed', 'deleted-later', '-n', 'shop', 'backup-test=yes');
    const keptBefore = (await workload().get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'kept', namespace: 'shop' }))!;

    const backupId = newId('bk');
    await followed(backups.startBackup(etcdBackup(backupId)));

    // After the backup: one new object, one changed, one deleted, one namespace more.
    await kubectl('create', 'configmap', 'created-later', '-n', 'shop', '--from-literal=v=1');
    await kubectl('label', 'configmap', 'created-later', '-n', 'shop', 'backup-test=yes');
    await kubectl('patch', 'configmap', 'changed', '-n', 'shop', '--type=merge', '-p', '{"data":{"v":"after"}}');
    await kubectl('delete', 'configmap', 'deleted-later', '-n', 'shop');
    await kubectl('create', 'namespace', 'after-backup');
    expect(await configMaps('shop')).toEqual(['configmap/changed', 'configmap/created-later', 'configmap/kept']);

    await breakEtcd();
    expect((await kubectl('get', 'namespaces', '-o', 'name')).trim().split('\n')).not.toContain('namespace/shop');

    const restore = restoreOf(backupId);
    const operation = await backups.startRestore(restore);
    // Asked again after a crash: the same restore, not a second reset.
    expect(await backups.startRestore(restore)).toEqual(operation);
    const restored = await followed(Promise.resolve(operation));
    expect(restored.error).toBeUndefined();
    expect(await management().list(TURTLES, 'ETCDSnapshotRestore', { namespace: NAMESPACE, labelSelector: `capstan.io/backup=${backupId}` })).toHaveLength(1);

    expect(await configMaps('shop')).toEqual(['configmap/changed', 'configmap/deleted-later', 'configmap/kept']);
    expect((await kubectl('get', 'configmap', 'changed', '-n', 'shop', '-o', 'jsonpath={.data.v}')).trim()).toBe('before');
    const namespaces = (await kubectl('get', 'namespaces', '-o', 'name')).trim().split('\n');
    expect(namespaces).toContain('namespace/shop');
    expect(namespaces).not.toContain('namespace/after-backup');
    // Revisions only move forward: the object came back under a newer resourceVersion.
    const keptAfter = (await workload().get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'kept', namespace: 'shop' }))!;
    expect(keptAfter.metadata.uid).toBe(keptBefore.metadata.uid);
    expect(BigInt(keptAfter.metadata.resourceVersion!) > BigInt(keptBefore.metadata.resourceVersion!)).toBe(true);
    // The cluster is running again under Cluster API, unpaused, and its snapshots are still listed.
    const capiCluster = await management().get({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', name: cluster, namespace: NAMESPACE });
    expect(capiCluster?.spec?.paused).not.toBe(true);
    expect(await backups.getBackup(cluster, backupId, 'etcd_snapshot')).toMatchObject({ state: 'succeeded' });
    expect((await kubectl('get', '--raw', '/readyz')).trim()).toBe('ok');
    await eventually('the cluster running after the restore', 60_000, async () =>
      (await clusters.getCluster(cluster))?.status === 'running' ? true : undefined,
    );
  }, 300_000);

  it('deletes a backup with its snapshot files; deleting it again succeeds', async () => {
    const backupId = newId('bk');
    await followed(backups.startBackup(etcdBackup(backupId)));
    const location = (await backups.getBackup(cluster, backupId, 'etcd_snapshot'))!.location!;
    await backups.deleteBackup(cluster, backupId, 'etcd_snapshot');
    await eventually('the backup gone', 60_000, async () => ((await backups.getBackup(cluster, backupId, 'etcd_snapshot')) === null ? true : undefined));
    const files: KubeObject[] = await workload().list(SNAPSHOT_FILES, 'ETCDSnapshotFile');
    expect(files.filter((f) => f.spec?.location === location)).toEqual([]);
    await backups.deleteBackup(cluster, backupId, 'etcd_snapshot');
  }, 180_000);

  it('reports the S3 copy as the location when the installation sends snapshots to S3', async () => {
    const s3Settings = { ...settings, etcdS3: { endpoint: 'objects.example.ch', bucket: 'capstan-etcd', folder: 'zrh' } };
    const s3Clusters = new Rke2Driver({ kubeconfig: simulator.managementKubeconfig, settings: s3Settings, timeoutMs: 15_000 });
    const s3Backups = new Rke2BackupDriver({ kubeconfig: simulator.managementKubeconfig, settings: s3Settings, timeoutMs: 15_000 });
    const name = externalClusterName(newId('cl'));
    s3Cluster = name;
    await s3Clusters.ensureCluster({ name, flavour: 'rke2', region: 'nine-cz41', version: '1.35.4', labels: {}, organizationId: 'org_backups' });
    await eventually('the S3 cluster running', 120_000, async () => ((await s3Clusters.getCluster(name))?.status === 'running' ? true : undefined));

    const backupId = newId('bk');
    const operation = await s3Backups.startBackup({ ...etcdBackup(backupId), cluster: name });
    await eventually('the S3 snapshot', 120_000, async () => ((await s3Backups.getOperation(operation)).done ? true : undefined));
    const backup = await s3Backups.getBackup(name, backupId, 'etcd_snapshot');
    expect(backup?.state).toBe('succeeded');
    expect(backup!.location).toMatch(new RegExp(`^s3://capstan-etcd/zrh/${backupId.toLowerCase().replace('_', '-')}-`));
    // RKE2 lists the file twice: on the server's disk and in the bucket.
    const files = (await simulator.kube.server(name).list(SNAPSHOT_FILES, 'ETCDSnapshotFile')).map((f) => String(f.spec?.location)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^file:\/\/\/var\/lib\/rancher\/rke2\/server\/db\/snapshots\//);
    expect(files[1]).toBe(backup!.location);
  }, 240_000);

  it('fails a snapshot of a cluster whose API server is down, saying why, and reports the backup failed', async () => {
    const down = await fetch(`${simulator.apiUrl}/v1/chaos/clusters/${cluster}/api-server/down`, { method: 'POST' });
    expect(down.status).toBe(200);
    try {
      const backupId = newId('bk');
      const status = await followed(backups.startBackup(etcdBackup(backupId)));
      expect(status.error).toMatchObject({ retryable: false, code: 'snapshot_failed' });
      expect(status.error!.message).toContain('is down');
      expect(await backups.getBackup(cluster, backupId, 'etcd_snapshot')).toMatchObject({ state: 'failed', location: null });
    } finally {
      await fetch(`${simulator.apiUrl}/v1/chaos/clusters/${cluster}/api-server/up`, { method: 'POST' });
    }
  }, 180_000);

  it('backs up chosen namespaces and labels through Velero, restores them into another cluster of the organisation and into its own', async () => {
    const other = await newCluster();
    await installVelero(cluster);
    await installVelero(other);
    await kubectl('create', 'namespace', 'web');
    await kubectl('create', 'namespace', 'db');
    await kubectl('create', 'configmap', 'shop', '-n', 'web', '--from-literal=v=1');
    await kubectl('create', 'configmap', 'cache', '-n', 'web', '--from-literal=v=1');
    await kubectl('create', 'configmap', 'tables', '-n', 'db', '--from-literal=v=1');
    await kubectl('label', 'configmap', 'shop', '-n', 'web', 'app=shop');
    await kubectl('label', 'configmap', 'cache', '-n', 'web', 'app=cache');
    await kubectl('label', 'configmap', 'tables', '-n', 'db', 'app=shop');

    const backupId = newId('bk');
    const spec = etcdBackup(backupId, { kind: 'workload', includedNamespaces: ['web', 'db'], excludedNamespaces: ['db'], labelSelector: 'app=shop' });
    const first = await backups.startBackup(spec);
    expect(await backups.startBackup(spec)).toEqual(first); // repeated after a crash: one Velero Backup
    expect((await followed(Promise.resolve(first))).error).toBeUndefined();
    expect(await backups.getBackup(cluster, backupId, 'workload')).toMatchObject({
      state: 'succeeded',
      location: `velero://default/backups/${backupId.toLowerCase().replace('_', '-')}`,
    });

    const restored = await followed(
      backups.startRestore(restoreOf(backupId, { backup: { backupId, cluster, kind: 'workload', location: null }, targetCluster: other, scope: 'workloads' })),
    );
    expect(restored.error).toBeUndefined();
    const otherConfig = await kubeconfigOf(other);
    expect((await kubectlOn(otherConfig, 'get', 'configmaps', '-n', 'web', '-l', 'app', '-o', 'name')).trim()).toBe('configmap/shop');
    expect((await kubectlOn(otherConfig, 'get', 'namespaces', '-o', 'name')).trim().split('\n')).not.toContain('namespace/db');
    expect((await kubectlOn(otherConfig, 'get', 'configmap', 'shop', '-n', 'web', '-o', 'jsonpath={.metadata.labels.velero\\.io/backup-name}')).trim()).toBe(
      backupId.toLowerCase().replace('_', '-'),
    );

    // Into its own cluster, after the namespace was lost: it comes back; what exists is left alone.
    await kubectl('delete', 'namespace', 'web', '--wait=true');
    await eventually('namespace web gone', 60_000, async () =>
      (await kubectl('get', 'namespaces', '-o', 'name')).includes('namespace/web') ? undefined : true,
    );
    const again = await followed(
      backups.startRestore(
        restoreOf(backupId, { backup: { backupId, cluster, kind: 'workload', location: null }, scope: 'workloads', includedNamespaces: ['web'] }),
      ),
    );
    expect(again.error).toBeUndefined();
    expect((await kubectl('get', 'configmaps', '-n', 'web', '-l', 'app', '-o', 'name')).trim()).toBe('configmap/shop');
    expect((await kubectl('get', 'configmap', 'tables', '-n', 'db', '-o', 'name')).trim()).toBe('configmap/tables');

    await backups.deleteBackup(cluster, backupId, 'workload');
    await eventually('the workload backup gone', 60_000, async () => ((await backups.getBackup(cluster, backupId, 'workload')) === null ? true : undefined));
    await backups.deleteBackup(cluster, backupId, 'workload');
  }, 300_000);

  it('refuses, for good, what RKE2 backups cannot do, before writing anything', async () => {
    const noVelero = await rejection(backups.startBackup(etcdBackup(newId('bk'), { kind: 'workload', cluster: s3Cluster })));
    expect({ retryable: noVelero.retryable, code: noVelero.code }).toEqual({ retryable: false, code: 'velero_missing' });
    // A restore into a cluster without Velero says what it was doing: restoring, not taking a backup.
    const backupId = newId('bk');
    const restoreWithoutVelero = await rejection(
      backups.startRestore(
        restoreOf(backupId, { backup: { backupId, cluster, kind: 'workload', location: null }, scope: 'workloads', targetCluster: s3Cluster }),
      ),
    );
    expect({ retryable: restoreWithoutVelero.retryable, code: restoreWithoutVelero.code }).toEqual({ retryable: false, code: 'velero_missing' });
    expect(restoreWithoutVelero.message).toContain('to restore workload backups into it');
    expect((await rejection(backups.startBackup(etcdBackup(newId('bk'), { kind: 'workload', labelSelector: 'app in (a' })))).code).toBe(
      'invalid_label_selector',
    );
    expect((await rejection(backups.startRestore(restoreOf(newId('bk'), { scope: 'workloads' })))).code).toBe('restore_unsupported');
    expect((await rejection(backups.startRestore(restoreOf(newId('bk'))))).code).toBe('backup_missing');
    expect((await rejection(backups.startRestore(restoreOf(newId('bk'), { targetCluster: externalClusterName(newId('cl')) })))).code).toBe(
      'restore_target_invalid',
    );
    expect((await rejection(backups.startBackup(etcdBackup(newId('bk'), { cluster: externalClusterName(newId('cl')) })))).code).toBe('cluster_missing');
    const foreign = await rejection(backups.getOperation({ provider: 'rke2', kind: 'capi-rollout', name: `RKE2ControlPlane/${cluster}`, target: cluster }));
    expect(foreign.code).toBe('unknown_operation');
    expect(await backups.getBackup(cluster, newId('bk'), 'etcd_snapshot')).toBeNull();
  }, 60_000);
});
