import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, eventually, type TestDatabase } from '@capstan/testing';
import { startSimulator, type RunningSimulator } from '../../src';
import { CLUSTER_API, LABEL } from '../../src/kube/controllers/capi/api';
import type { ApiServerClient } from '../../src/kube/types';
import { clusterObjects, NAMESPACE } from './objects';

const run = promisify(execFile);
jest.setTimeout(180_000);
const WAIT_MS = 90_000;
const CLUSTER = 'capstan-etcd1';

/**
 * Rancher Turtles' etcd snapshot and restore kinds on the emulated management cluster, driven with
 * the real kubectl as an operator would (`kubectl apply` of an ETCDMachineSnapshot, then of an
 * ETCDSnapshotRestore) and checked with kubectl on the workload cluster itself.
 */
describe('etcd snapshots and restores on the emulated management cluster', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let management: ApiServerClient;
  let dir: string;
  let managementConfig: string;
  let workloadConfig: string;

  const kubectl = async (config: string, ...args: string[]) =>
    (await run('kubectl', ['--kubeconfig', config, '--request-timeout=30s', ...args], { env: { ...process.env, HOME: dir } })).stdout.trim();
  const apply = async (yaml: string) => {
    const file = join(dir, `manifest-${Date.now()}.yaml`);
    await writeFile(file, yaml);
    return kubectl(managementConfig, 'apply', '-f', file);
  };
  const phaseOf = (resource: string, name: string) => kubectl(managementConfig, 'get', resource, name, '-n', NAMESPACE, '-o', 'jsonpath={.status.phase}');
  const configMaps = async () =>
    (await kubectl(workloadConfig, 'get', 'configmaps', '-n', 'shop', '-l', 'etcd-test', '-o', 'name')).split('\n').filter(Boolean).sort();

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: 40 });
    management = sim.kube.server('management');
    await management.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    for (const object of clusterObjects({ name: CLUSTER, version: 'v1.35.4+rke2r1', controlPlaneReplicas: 1 })) await management.create(object);
    dir = await mkdtemp(join(tmpdir(), 'capstan-etcd-kubectl-'));
    managementConfig = join(dir, 'management');
    await writeFile(managementConfig, sim.managementKubeconfig);
    const secretRef = { apiVersion: 'v1', kind: 'Secret', name: `${CLUSTER}-kubeconfig`, namespace: NAMESPACE };
    await eventually(async () => Boolean(await management.get(secretRef)), WAIT_MS, 50);
    const secret = await management.get(secretRef);
    workloadConfig = join(dir, 'workload');
    await writeFile(workloadConfig, Buffer.from(String((secret!.data as Record<string, string>).value), 'base64').toString());
    await eventually(
      async () => {
        const machines = await management.list(CLUSTER_API, 'Machine', { namespace: NAMESPACE, labelSelector: `${LABEL.clusterName}=${CLUSTER}` });
        return machines.length === 1 && machines[0]!.status?.phase === 'Running' && Boolean((machines[0]!.status as { nodeRef?: unknown }).nodeRef);
      },
      WAIT_MS,
      50,
    );
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('snapshots with kubectl apply, loses the data, restores with kubectl apply: the workload shows exactly the snapshot', async () => {
    await kubectl(workloadConfig, 'create', 'namespace', 'shop');
    await kubectl(workloadConfig, 'create', 'configmap', 'before', '-n', 'shop', '--from-literal=v=1');
    await kubectl(workloadConfig, 'label', 'configmap', 'before', '-n', 'shop', 'etcd-test=yes');
    const machine = (await management.list(CLUSTER_API, 'Machine', { namespace: NAMESPACE, labelSelector: `${LABEL.clusterName}=${CLUSTER}` }))[0]!;

    await apply(`apiVersion: turtles-capi.cattle.io/v1alpha1
kind: ETCDMachineSnapshot
metadata: { name: manual-1, namespace: ${NAMESPACE} }
spec: { clusterName: ${CLUSTER}, machineName: ${machine.metadata.name} }
`);
    await eventually(async () => (await phaseOf('etcdmachinesnapshots', 'manual-1')) === 'Done', WAIT_MS, 50);
    const file = await kubectl(managementConfig, 'get', 'etcdmachinesnapshots', 'manual-1', '-n', NAMESPACE, '-o', 'jsonpath={.status.snapshots[0].name}');
    expect(file).toMatch(new RegExp(`^manual-1-${machine.metadata.name}-\\d+$`));
    // RKE2 lists the file on the workload cluster.
    const listed = await kubectl(
      workloadConfig,
      'get',
      'etcdsnapshotfiles',
      '-o',
      'jsonpath={range .items[*]}{.spec.snapshotName} {.status.readyToUse}{"\\n"}{end}',
    );
    expect(listed.split('\n')).toContain(`${file} true`);

    await kubectl(workloadConfig, 'create', 'configmap', 'after', '-n', 'shop', '--from-literal=v=1');
    await kubectl(workloadConfig, 'label', 'configmap', 'after', '-n', 'shop', 'etcd-test=yes');
    expect(await configMaps()).toEqual(['configmap/after', 'configmap/before']);
    const lost = await fetch(`${sim.apiUrl}/v1/chaos/clusters/${CLUSTER}/etcd/data-loss`, { method: 'POST' });
    expect(lost.status).toBe(200);
    expect(await kubectl(workloadConfig, 'get', 'namespaces', '-o', 'name')).not.toContain('namespace/shop');

    await apply(`apiVersion: turtles-capi.cattle.io/v1alpha1
kind: ETCDSnapshotRestore
metadata: { name: restore-1, namespace: ${NAMESPACE} }
spec: { clusterName: ${CLUSTER}, etcdMachineSnapshotName: manual-1 }
`);
    await eventually(async () => (await phaseOf('etcdsnapshotrestores', 'restore-1')) === 'Done', WAIT_MS, 50);
    expect(await configMaps()).toEqual(['configmap/before']);
    expect(await kubectl(workloadConfig, 'get', '--raw', '/readyz')).toBe('ok');
    expect((await management.get({ apiVersion: CLUSTER_API, kind: 'Cluster', name: CLUSTER, namespace: NAMESPACE }))?.spec?.paused).toBe(false);
    // Deleting the snapshot deletes its file: RKE2 no longer lists it.
    await kubectl(managementConfig, 'delete', 'etcdmachinesnapshots', 'manual-1', '-n', NAMESPACE, '--wait=true');
    expect(await kubectl(workloadConfig, 'get', 'etcdsnapshotfiles', '-o', 'jsonpath={.items[*].spec.snapshotName}')).not.toContain(file);
  });

  it('fails a restore of a snapshot that does not exist, leaving the cluster alone', async () => {
    await apply(`apiVersion: turtles-capi.cattle.io/v1alpha1
kind: ETCDSnapshotRestore
metadata: { name: restore-missing, namespace: ${NAMESPACE} }
spec: { clusterName: ${CLUSTER}, etcdMachineSnapshotName: no-such-snapshot }
`);
    await eventually(async () => (await phaseOf('etcdsnapshotrestores', 'restore-missing')) === 'Failed', WAIT_MS, 50);
    const message = await kubectl(
      managementConfig,
      'get',
      'etcdsnapshotrestores',
      'restore-missing',
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.status.conditions[0].message}',
    );
    expect(message).toContain('no-such-snapshot');
    expect((await management.get({ apiVersion: CLUSTER_API, kind: 'Cluster', name: CLUSTER, namespace: NAMESPACE }))?.spec?.paused).not.toBe(true);
    expect((await sim.kube.getApiServer(CLUSTER))?.serving).toBe(true);
  });
});
