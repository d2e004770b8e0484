import { newId } from '@capstan/platform';
import { type RunningSimulator, startSimulator } from '@capstan/simulator';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { type ExternalClusterSpec, type ExternalNodePoolSpec, externalClusterName, externalNodePoolName, ProviderError } from '../cluster-provider';
import { AUTOSCALER_MAX_ANNOTATION, CLUSTER_API_VERSION, CLUSTER_LABEL, MANAGED_BY_LABEL, ORGANIZATION_LABEL } from './api-versions';
import { nodePoolObjectNames } from './naming';
import { Rke2Driver } from './rke2-driver';
import { DEFAULT_RKE2_SETTINGS, devInfrastructure } from './rke2-settings';

/**
 * What the RKE2 driver decides by itself against the emulated management cluster, beyond the
 * provider contract (rke2-driver.contract.spec.ts): which requests it refuses before writing, how
 * it treats objects it finds, what it writes where.
 */
describe('Rke2Driver', () => {
  const NAMESPACE = 'capstan-driver';
  let db: TestDatabase;
  let simulator: RunningSimulator;
  let driver: Rke2Driver;

  const clusterSpec = (name: string, overrides: Partial<ExternalClusterSpec> = {}): ExternalClusterSpec => ({
    name,
    flavour: 'rke2',
    region: 'nine-cz41',
    version: '1.35.4',
    labels: {},
    organizationId: 'org_driver',
    ...overrides,
  });
  const poolSpec = (name: string, overrides: Partial<ExternalNodePoolSpec> = {}): ExternalNodePoolSpec => ({
    name,
    machineType: 'standard-4',
    count: 2,
    autoscaling: null,
    version: '1.35.4',
    labels: {},
    taints: [],
    maxSurge: 1,
    maxUnavailable: 0,
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
  const management = () => simulator.kube.server('management');

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: 20 });
    await management().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    driver = new Rke2Driver({
      kubeconfig: simulator.managementKubeconfig,
      settings: { ...DEFAULT_RKE2_SETTINGS, namespace: NAMESPACE, controlPlaneReplicas: 1, infrastructure: devInfrastructure() },
      timeoutMs: 15_000,
    });
  }, 120_000);
  afterAll(async () => {
    await simulator?.close();
    await db?.drop();
  }, 60_000);

  it('writes the cluster into the configured namespace with the organisation and cluster labels', async () => {
    const name = externalClusterName(newId('cl'));
    await driver.ensureCluster(clusterSpec(name));
    const cluster = await management().get({ apiVersion: CLUSTER_API_VERSION, kind: 'Cluster', name, namespace: NAMESPACE });
    expect(cluster?.metadata.labels).toMatchObject({
      [MANAGED_BY_LABEL]: 'capstan',
      [ORGANIZATION_LABEL]: 'org_driver',
      [CLUSTER_LABEL]: `cl_${name.slice('capstan-'.length)}`,
    });
  });

  it('refuses, for good, a name another party already uses on the management cluster', async () => {
    const name = externalClusterName(newId('cl'));
    await management().create({ apiVersion: CLUSTER_API_VERSION, kind: 'Cluster', metadata: { name, namespace: NAMESPACE }, spec: { paused: true } });
    const error = await rejection(driver.ensureCluster(clusterSpec(name)));
    expect({ retryable: error.retryable, code: error.code }).toEqual({ retryable: false, code: 'name_taken' });
  });

  it('refuses a GKE cluster and writes nothing', async () => {
    const name = externalClusterName(newId('cl'));
    expect((await rejection(driver.ensureCluster(clusterSpec(name, { flavour: 'gke' })))).retryable).toBe(false);
    expect(await driver.getCluster(name)).toBeNull();
  });

  it('refuses a downgrade and a skipped minor before writing anything', async () => {
    const name = externalClusterName(newId('cl'));
    await driver.ensureCluster(clusterSpec(name, { version: '1.35.4' }));
    expect((await rejection(driver.upgradeControlPlane(name, '1.37.1'))).code).toBe('version_skip');
    expect((await rejection(driver.upgradeControlPlane(name, '1.34.2'))).code).toBe('downgrade');
    const controlPlane = await management().get({ apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'RKE2ControlPlane', name, namespace: NAMESPACE });
    expect(controlPlane?.spec?.version).toBe('v1.35.4+rke2r1');
  });

  it('brings a node pool found from an earlier attempt to the spec asked for', async () => {
    const name = externalClusterName(newId('cl'));
    const pool = externalNodePoolName(newId('np'));
    await driver.ensureCluster(clusterSpec(name));
    await driver.ensureNodePool(name, poolSpec(pool, { count: 1 }));
    expect((await driver.ensureNodePool(name, poolSpec(pool, { count: 3 }))).count).toBe(3);
    // With autoscaling the autoscaler owns the count: only pulled inside the new bounds.
    expect((await driver.ensureNodePool(name, poolSpec(pool, { count: 3, autoscaling: { min: 4, max: 6 } }))).count).toBe(4);
    const md = await management().get({
      apiVersion: CLUSTER_API_VERSION,
      kind: 'MachineDeployment',
      name: nodePoolObjectNames(name, pool).machineDeployment,
      namespace: NAMESPACE,
    });
    expect(md?.metadata.annotations?.[AUTOSCALER_MAX_ANNOTATION]).toBe('6');
  });

  it('refuses, for good, to change a pool that does not exist or to follow a handle that is not its own', async () => {
    const name = externalClusterName(newId('cl'));
    expect((await rejection(driver.updateNodePool(name, poolSpec(externalNodePoolName(newId('np')))))).code).toBe('node_pool_missing');
    const foreign = await rejection(driver.getOperation({ provider: 'gke', kind: 'gke-operation', name: 'operation-1', target: name, version: '1.36.4' }));
    expect({ retryable: foreign.retryable, code: foreign.code }).toEqual({ retryable: false, code: 'unknown_operation' });
  });
});
