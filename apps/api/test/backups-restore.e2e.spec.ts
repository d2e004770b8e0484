import { externalClusterName } from '@capstan/providers';
import { waitForOperation } from '@capstan/testing';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverSuite, onDriverStack } from './driver-suite';

/**
 * The must-show of backups on RKE2 (docs/backups.md), on the real drivers and the emulated
 * management cluster: create a cluster and some objects, take an etcd backup through Capstan, create
 * more objects, break the cluster (etcd loses its data: the emulator's fault), restore the control
 * plane from the backup, and see with the real kubectl the backup's objects and not the later ones.
 * The emulator restores the snapshot's objects for real (docs/rke2-driver.md, "In the emulator").
 */
describe('backup and restore of an RKE2 cluster, end to end', () => {
  const suite = onDriverStack(new DriverSuite(), 'capstan-backups-');
  const kubectl = (kubeconfig: string, ...args: string[]) => suite.kubectl(kubeconfig, ...args);

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    suite.stack.api.inject({ method, url, headers: { authorization: `Bearer ${suite.token}` }, ...(payload ? { payload } : {}) });

  /** A kubeconfig for an hour, written to `file`. */
  async function writeKubeconfig(clusterId: string, file: string): Promise<void> {
    const issued = await call('GET', `/v1/clusters/${clusterId}/kubeconfig?expiry_seconds=3600`);
    expect(issued.statusCode).toBe(200);
    await writeFile(file, issued.body, { mode: 0o600 });
  }

  /** A cluster of one small pool, once its create succeeded, with a kubeconfig named after it. */
  async function runningCluster(name: string, provider: 'rke2' | 'gke' = 'rke2'): Promise<{ id: string; kubeconfig: string }> {
    const created = await call('POST', '/v1/clusters', {
      name,
      provider,
      region: provider === 'rke2' ? 'nine-cz41' : 'europe-west6',
      node_pools: [{ name: 'apps', machine_type: provider === 'rke2' ? 'nine-standard-2' : 'e2-standard-4', count: 1 }],
    });
    expect(created.statusCode).toBe(202);
    const id = created.json().cluster.id as string;
    await waitForOperation(suite.stack.database, created.json().operation.id, ['succeeded'], 120_000);
    const kubeconfig = join(suite.dir, `${name}.kubeconfig`);
    await writeKubeconfig(id, kubeconfig);
    return { id, kubeconfig };
  }

  /** A ConfigMap in `shop` carrying the label the checks list by. */
  async function labelledConfigMap(kubeconfig: string, name: string, state: string): Promise<void> {
    await kubectl(kubeconfig, 'create', 'configmap', name, '-n', 'shop', `--from-literal=state=${state}`);
    await kubectl(kubeconfig, 'label', 'configmap', name, '-n', 'shop', 'capstan-test=backup');
  }

  const labelledConfigMaps = async (kubeconfig: string) =>
    (await kubectl(kubeconfig, 'get', 'configmaps', '-n', 'shop', '-l', 'capstan-test=backup', '-o', 'name')).trim().split('\n').filter(Boolean).sort();

  async function simulatorFault(path: string): Promise<unknown> {
    const response = await fetch(`${suite.stack.simulator.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${suite.stack.env.SIMULATOR_API_TOKEN}` },
    });
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  }

  it('restores the control plane from an etcd backup: kubectl shows the objects of the backup and not those created after it', async () => {
    const { id: clusterId, kubeconfig } = await runningCluster('restore-me');
    const configMaps = () => labelledConfigMaps(kubeconfig);

    await kubectl(kubeconfig, 'create', 'namespace', 'shop');
    await labelledConfigMap(kubeconfig, 'before-backup', 'kept');

    const taken = await call('POST', `/v1/clusters/${clusterId}/backups`, { kind: 'etcd_snapshot' });
    expect(taken.statusCode).toBe(202);
    const backupId = taken.json().backup.id as string;
    await waitForOperation(suite.stack.database, taken.json().operation.id, ['succeeded'], 120_000);
    const backup = (await call('GET', `/v1/clusters/${clusterId}/backups/${backupId}`)).json();
    expect(backup).toMatchObject({ state: 'succeeded', kind: 'etcd_snapshot', location: expect.any(String), finished_at: expect.any(String) });

    await labelledConfigMap(kubeconfig, 'after-backup', 'lost');
    expect(await configMaps()).toEqual(['configmap/after-backup', 'configmap/before-backup']);

    // etcd loses its data: the namespace and its objects are gone
    await simulatorFault(`/v1/chaos/clusters/${externalClusterName(clusterId)}/etcd/data-loss`);
    await expect(kubectl(kubeconfig, 'get', 'namespace', 'shop')).rejects.toThrow();

    const restore = await call('POST', `/v1/clusters/${clusterId}/restore`, { backup_id: backupId, scope: 'control_plane' });
    expect(restore.statusCode).toBe(202);
    expect((await call('GET', `/v1/clusters/${clusterId}`)).json().status).toBe('restoring');
    const done = await waitForOperation(suite.stack.database, restore.json().operation.id, ['succeeded'], 180_000);
    expect(done.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['preflight_restore:succeeded', 'restore_backup:succeeded', 'mark_restored:succeeded']);
    expect((await call('GET', `/v1/clusters/${clusterId}`)).json().status).toBe('running');

    // The data loss took the credential's ServiceAccount with it, and the emulator revoked its tokens
    // then; the customer asks Capstan for a kubeconfig again, as after any credential loss.
    await writeKubeconfig(clusterId, kubeconfig);
    expect(await configMaps()).toEqual(['configmap/before-backup']);
    expect((await kubectl(kubeconfig, 'get', 'configmap', 'before-backup', '-n', 'shop', '-o', 'jsonpath={.data.state}')).trim()).toBe('kept');
  }, 400_000);

  /**
   * Velero through Capstan's own add-on route (docs/addons.md), as a customer enables it: the API
   * refuses RKE2 workload backups and restores without it (docs/backups.md, "The model"). Its
   * HelmChart makes the emulated cluster run Velero; the CRD is waited for as Velero's pods would be.
   */
  async function enableVelero(cluster: { id: string; kubeconfig: string }): Promise<void> {
    const put = await suite.stack.api.inject({
      method: 'PUT',
      url: `/v1/clusters/${cluster.id}/addons/velero`,
      headers: { authorization: `Bearer ${suite.token}` },
      payload: { settings: {} },
    });
    expect(put.statusCode).toBe(202);
    await waitForOperation(suite.stack.database, put.json().operation.id, ['succeeded'], 120_000);
    const deadline = Date.now() + 60_000;
    while (!(await kubectl(cluster.kubeconfig, 'get', 'crd', '-o', 'name')).includes('restores.velero.io')) {
      if (Date.now() > deadline) throw new Error('Velero never came up');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('restores one namespace of a workload backup into another cluster of the organisation, and only that namespace', async () => {
    const source = await runningCluster('velero-source');
    const target = await runningCluster('velero-target');
    // Without the add-on the API refuses the backup up front, and nothing starts.
    const refused = await call('POST', `/v1/clusters/${source.id}/backups`, { kind: 'workload' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().type).toContain('velero-addon-required');
    for (const c of [source, target]) await enableVelero(c);
    for (const ns of ['web', 'db']) {
      await kubectl(source.kubeconfig, 'create', 'namespace', ns);
      await kubectl(source.kubeconfig, 'create', 'configmap', `${ns}-settings`, '-n', ns, '--from-literal=owner=source');
    }

    const taken = await call('POST', `/v1/clusters/${source.id}/backups`, { kind: 'workload', included_namespaces: ['web', 'db'] });
    expect(taken.statusCode).toBe(202);
    await waitForOperation(suite.stack.database, taken.json().operation.id, ['succeeded'], 120_000);
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
    await waitForOperation(suite.stack.database, restore.json().operation.id, ['succeeded'], 120_000);

    expect((await kubectl(target.kubeconfig, 'get', 'configmap', 'web-settings', '-n', 'web', '-o', 'jsonpath={.data.owner}')).trim()).toBe('source');
    await expect(kubectl(target.kubeconfig, 'get', 'namespace', 'db')).rejects.toThrow();
    // a workload restore leaves both clusters serving as they were
    for (const c of [source, target]) expect((await call('GET', `/v1/clusters/${c.id}`)).json().status).toBe('running');
  }, 400_000);

  it('on GKE (Backup for GKE): a workload backup of a namespace, an accident, a restore: the namespace is as it was at the backup', async () => {
    const { id: clusterId, kubeconfig } = await runningCluster('gke-restore', 'gke');
    const configMaps = () => labelledConfigMaps(kubeconfig);

    await kubectl(kubeconfig, 'create', 'namespace', 'shop');
    await labelledConfigMap(kubeconfig, 'before-backup', 'kept');

    // GKE has no etcd snapshots: asking for one is a 422 naming the rule; the default is a workload backup
    const refused = await call('POST', `/v1/clusters/${clusterId}/backups`, { kind: 'etcd_snapshot' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().type).toContain('backup-kind-unsupported');
    const taken = await call('POST', `/v1/clusters/${clusterId}/backups`, { included_namespaces: ['shop'] });
    expect(taken.statusCode).toBe(202);
    expect(taken.json().backup.kind).toBe('workload');
    await waitForOperation(suite.stack.database, taken.json().operation.id, ['succeeded'], 120_000);
    const backupId = taken.json().backup.id as string;
    expect((await call('GET', `/v1/clusters/${clusterId}/backups/${backupId}`)).json()).toMatchObject({
      state: 'succeeded',
      location: expect.stringContaining('backupPlans/'),
    });

    // the accident: the backed-up object deleted, another one made
    await kubectl(kubeconfig, 'delete', 'configmap', 'before-backup', '-n', 'shop');
    await labelledConfigMap(kubeconfig, 'after-backup', 'lost');
    expect(await configMaps()).toEqual(['configmap/after-backup']);

    const restore = await call('POST', `/v1/clusters/${clusterId}/restore`, { backup_id: backupId, scope: 'workloads' });
    expect(restore.statusCode).toBe(202);
    await waitForOperation(suite.stack.database, restore.json().operation.id, ['succeeded'], 120_000);
    expect(await configMaps()).toEqual(['configmap/before-backup']);
    expect((await call('GET', `/v1/clusters/${clusterId}`)).json().status).toBe('running');
  }, 400_000);
});
