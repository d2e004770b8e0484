import { externalClusterName } from '@capstan/providers';
import { seedOrganization, type Stack, startStack, waitForOperation } from '@capstan/testing';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The must-show of backups on RKE2 (docs/backups.md), on the real drivers and the emulated
 * management cluster: create a cluster and some objects, take an etcd backup through Capstan, create
 * more objects, break the cluster (etcd loses its data: the emulator's fault), restore the control
 * plane from the backup, and see with the real kubectl the backup's objects and not the later ones.
 * The emulator restores the snapshot's objects for real (docs/rke2-driver.md, "In the emulator").
 */
describe('backup and restore of an RKE2 cluster, end to end', () => {
  let stack: Stack;
  let token: string;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack({ drivers: true, stepDelayMs: 20 });
    token = (await seedOrganization(stack.prisma)).token;
    dir = await mkdtemp(join(tmpdir(), 'capstan-backups-'));
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    stack.api.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  async function kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { env: { ...process.env, HOME: dir } });
    return stdout;
  }

  async function simulatorFault(path: string): Promise<unknown> {
    const response = await fetch(`${stack.simulator.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${stack.env.SIMULATOR_API_TOKEN}` } });
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  }

  it('restores the control plane from an etcd backup: kubectl shows the objects of the backup and not those created after it', async () => {
    const created = await call('POST', '/v1/clusters', {
      name: 'restore-me',
      provider: 'rke2',
      region: 'nine-cz41',
      node_pools: [{ name: 'apps', machine_type: 'nine-standard-2', count: 1 }],
    });
    expect(created.statusCode).toBe(202);
    const clusterId = created.json().cluster.id as string;
    await waitForOperation(stack.database, created.json().operation.id, ['succeeded'], 120_000);

    const kubeconfig = join(dir, 'restore-me.kubeconfig');
    const writeKubeconfig = async () => {
      const issued = await call('GET', `/v1/clusters/${clusterId}/kubeconfig?expiry_seconds=3600`);
      expect(issued.statusCode).toBe(200);
      await writeFile(kubeconfig, issued.body, { mode: 0o600 });
    };
    await writeKubeconfig();
    const configMaps = async () =>
      (await kubectl(kubeconfig, 'get', 'configmaps', '-n', 'shop', '-l', 'capstan-test=backup', '-o', 'name')).trim().split('\n').filter(Boolean).sort();

    await kubectl(kubeconfig, 'create', 'namespace', 'shop');
    await kubectl(kubeconfig, 'create', 'configmap', 'before-backup', '-n', 'shop', '--from-literal=state=kept');
    await kubectl(kubeconfig, 'label', 'configmap', 'before-backup', '-n', 'shop', 'capstan-test=backup');

    const taken = await call('POST', `/v1/clusters/${clusterId}/backups`, { kind: 'etcd_snapshot' });
    expect(taken.statusCode).toBe(202);
    const backupId = taken.json().backup.id as string;
    await waitForOperation(stack.database, taken.json().operation.id, ['succeeded'], 120_000);
    const backup = (await call('GET', `/v1/clusters/${clusterId}/backups/${backupId}`)).json();
    expect(backup).toMatchObject({ state: 'succeeded', kind: 'etcd_snapshot', location: expect.any(String), finished_at: expect.any(String) });

    await kubectl(kubeconfig, 'create', 'configmap', 'after-backup', '-n', 'shop', '--from-literal=state=lost');
    await kubectl(kubeconfig, 'label', 'configmap', 'after-backup', '-n', 'shop', 'capstan-test=backup');
    expect(await configMaps()).toEqual(['configmap/after-backup', 'configmap/before-backup']);

    // etcd loses its data: the namespace and its objects are gone
    await simulatorFault(`/v1/chaos/clusters/${externalClusterName(clusterId)}/etcd/data-loss`);
    await expect(kubectl(kubeconfig, 'get', 'namespace', 'shop')).rejects.toThrow();

    const restore = await call('POST', `/v1/clusters/${clusterId}/restore`, { backup_id: backupId, scope: 'control_plane' });
    expect(restore.statusCode).toBe(202);
    expect((await call('GET', `/v1/clusters/${clusterId}`)).json().status).toBe('restoring');
    const done = await waitForOperation(stack.database, restore.json().operation.id, ['succeeded'], 180_000);
    expect(done.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['preflight_restore:succeeded', 'restore_backup:succeeded', 'mark_restored:succeeded']);
    expect((await call('GET', `/v1/clusters/${clusterId}`)).json().status).toBe('running');

    // The data loss took the credential's ServiceAccount with it, and the emulator revoked its tokens
    // then; the customer asks Capstan for a kubeconfig again, as after any credential loss.
    await writeKubeconfig();
    expect(await configMaps()).toEqual(['configmap/before-backup']);
    expect((await kubectl(kubeconfig, 'get', 'configmap', 'before-backup', '-n', 'shop', '-o', 'jsonpath={.data.state}')).trim()).toBe('kept');
  }, 400_000);

  async function runningCluster(name: string): Promise<{ id: string; kubeconfig: string }> {
    const created = await call('POST', '/v1/clusters', {
      name,
      provider: 'rke2',
      region: 'nine-cz41',
      node_pools: [{ name: 'apps', machine_type: 'nine-standard-2', count: 1 }],
    });
    expect(created.statusCode).toBe(202);
    await waitForOperation(stack.database, created.json().operation.id, ['succeeded'], 120_000);
    const id = created.json().cluster.id as string;
    const issued = await call('GET', `/v1/clusters/${id}/kubeconfig?expiry_seconds=3600`);
    const kubeconfig = join(dir, `${name}.kubeconfig`);
    await writeFile(kubeconfig, issued.body, { mode: 0o600 });
    return { id, kubeconfig };
  }

  /** What the velero add-on writes (an RKE2 HelmChart); the emulated cluster then runs Velero. */
  async function installVelero(kubeconfig: string): Promise<void> {
    const chart = join(dir, 'velero-helmchart.yaml');
    await writeFile(
      chart,
      [
        'apiVersion: helm.cattle.io/v1',
        'kind: HelmChart',
        'metadata: { name: velero, namespace: kube-system }',
        'spec: { chart: velero, repo: "https://vmware-tanzu.github.io/helm-charts", version: "11.1.1", targetNamespace: velero }',
      ].join('\n'),
    );
    await kubectl(kubeconfig, 'apply', '-f', chart);
    const deadline = Date.now() + 60_000;
    while (!(await kubectl(kubeconfig, 'get', 'crd', '-o', 'name')).includes('restores.velero.io')) {
      if (Date.now() > deadline) throw new Error('Velero never came up');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('restores one namespace of a workload backup into another cluster of the organisation, and only that namespace', async () => {
    const source = await runningCluster('velero-source');
    const target = await runningCluster('velero-target');
    for (const c of [source, target]) await installVelero(c.kubeconfig);
    for (const ns of ['web', 'db']) {
      await kubectl(source.kubeconfig, 'create', 'namespace', ns);
      await kubectl(source.kubeconfig, 'create', 'configmap', `${ns}-settings`, '-n', ns, '--from-literal=owner=source');
    }

    const taken = await call('POST', `/v1/clusters/${source.id}/backups`, { kind: 'workload', included_namespaces: ['web', 'db'] });
    expect(taken.statusCode).toBe(202);
    await waitForOperation(stack.database, taken.json().operation.id, ['succeeded'], 120_000);
    const backupId = taken.json().backup.id as string;
    expect((await call('GET', `/v1/clusters/${source.id}/backups/${backupId}`)).json()).toMatchObject({
      state: 'succeeded',
      kind: 'workload',
      location: expect.stringContaining('velero://'),
    });

    const restore = await call('POST', `/v1/clusters/${source.id}/restore`, {
      backup_id: backupId,
      scope: 'workloads',
      target_cluster_id: target.id,
      namespaces: ['web'],
    });
    expect(restore.statusCode).toBe(202);
    expect(restore.json().operation).toMatchObject({ cluster_id: target.id, type: 'restore_backup' });
    await waitForOperation(stack.database, restore.json().operation.id, ['succeeded'], 120_000);

    expect((await kubectl(target.kubeconfig, 'get', 'configmap', 'web-settings', '-n', 'web', '-o', 'jsonpath={.data.owner}')).trim()).toBe('source');
    await expect(kubectl(target.kubeconfig, 'get', 'namespace', 'db')).rejects.toThrow();
    // a workload restore leaves both clusters serving as they were
    for (const c of [source, target]) expect((await call('GET', `/v1/clusters/${c.id}`)).json().status).toBe('running');
  }, 400_000);

  it('on GKE (Backup for GKE): a workload backup of a namespace, an accident, a restore: the namespace is as it was at the backup', async () => {
    const created = await call('POST', '/v1/clusters', {
      name: 'gke-restore',
      provider: 'gke',
      region: 'europe-west6',
      node_pools: [{ name: 'apps', machine_type: 'e2-standard-4', count: 1 }],
    });
    expect(created.statusCode).toBe(202);
    const clusterId = created.json().cluster.id as string;
    await waitForOperation(stack.database, created.json().operation.id, ['succeeded'], 120_000);
    const issued = await call('GET', `/v1/clusters/${clusterId}/kubeconfig?expiry_seconds=3600`);
    const kubeconfig = join(dir, 'gke-restore.kubeconfig');
    await writeFile(kubeconfig, issued.body, { mode: 0o600 });
    const configMaps = async () =>
      (await kubectl(kubeconfig, 'get', 'configmaps', '-n', 'shop', '-l', 'capstan-test=backup', '-o', 'name')).trim().split('\n').filter(Boolean).sort();

    await kubectl(kubeconfig, 'create', 'namespace', 'shop');
    await kubectl(kubeconfig, 'create', 'configmap', 'before-backup', '-n', 'shop', '--from-literal=state=kept');
    await kubectl(kubeconfig, 'label', 'configmap', 'before-backup', '-n', 'shop', 'capstan-test=backup');

    // GKE has no etcd snapshots: asking for one is a 422 naming the rule; the default is a workload backup
    const refused = await call('POST', `/v1/clusters/${clusterId}/backups`, { kind: 'etcd_snapshot' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().type).toContain('backup-kind-unsupported');
    const taken = await call('POST', `/v1/clusters/${clusterId}/backups`, { included_namespaces: ['shop'] });
    expect(taken.statusCode).toBe(202);
    expect(taken.json().backup.kind).toBe('workload');
    await waitForOperation(stack.database, taken.json().operation.id, ['succeeded'], 120_000);
    const backupId = taken.json().backup.id as string;
    expect((await call('GET', `/v1/clusters/${clusterId}/backups/${backupId}`)).json()).toMatchObject({
      state: 'succeeded',
      location: expect.stringContaining('backupPlans/'),
    });

    // the accident: the backed-up object deleted, another one made
    await kubectl(kubeconfig, 'delete', 'configmap', 'before-backup', '-n', 'shop');
    await kubectl(kubeconfig, 'create', 'configmap', 'after-backup', '-n', 'shop', '--from-literal=state=lost');
    await kubectl(kubeconfig, 'label', 'configmap', 'after-backup', '-n', 'shop', 'capstan-test=backup');
    expect(await configMaps()).toEqual(['configmap/after-backup']);

    const restore = await call('POST', `/v1/clusters/${clusterId}/restore`, { backup_id: backupId, scope: 'workloads' });
    expect(restore.statusCode).toBe(202);
    await waitForOperation(stack.database, restore.json().operation.id, ['succeeded'], 120_000);
    expect(await configMaps()).toEqual(['configmap/before-backup']);
    expect((await call('GET', `/v1/clusters/${clusterId}`)).json().status).toBe('running');
  }, 400_000);
});
