import { createTestDatabase, eventually, type TestDatabase } from '@capstan/testing';
import { startSimulator, type RunningSimulator } from '../../src';
import { BOOTSTRAP_API, CLUSTER_API, INFRASTRUCTURE_API, LABEL } from '../../src/kube/controllers/capi/api';
import { clusterObjects, NAMESPACE } from './objects';

const STEP_MS = 30;
const WAIT_MS = 60_000;
// Above WAIT_MS: the preset's 30 s cut the wait for the machines short on a loaded machine, and
// the test failed on jest's timeout instead of the condition it waits for.
jest.setTimeout(120_000);

/**
 * Two simulators on one database run the same Cluster API controllers on the same objects at
 * once: the derived names make a second create of the same machine answer AlreadyExists, so no
 * machine, bootstrap config or node is made twice.
 */
describe('two simulators reconciling one management cluster', () => {
  let db: TestDatabase;
  let first: RunningSimulator;
  let second: RunningSimulator;

  beforeAll(async () => {
    db = await createTestDatabase();
    first = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: STEP_MS });
    second = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: STEP_MS });
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await db?.drop();
  });

  it('provisions each machine once', async () => {
    const management = first.kube.server('management');
    await management.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    for (const object of clusterObjects({ name: 'capstan-twice', version: 'v1.35.4+rke2r1', pools: [{ name: 'workers', replicas: 3 }] })) {
      await management.create(object);
    }
    const observer = second.kube.server('management');
    const selector = { namespace: NAMESPACE, labelSelector: `${LABEL.clusterName}=capstan-twice` };
    let most = 0;
    await eventually(
      async () => {
        const machines = await observer.list(CLUSTER_API, 'Machine', selector);
        most = Math.max(most, machines.length);
        return machines.length === 4 && machines.every((m) => m.status?.phase === 'Running');
      },
      WAIT_MS,
      20,
    );
    expect(most).toBe(4);
    expect(await observer.list(CLUSTER_API, 'MachineSet', selector)).toHaveLength(1);
    expect(await observer.list(BOOTSTRAP_API, 'RKE2Config', selector)).toHaveLength(4);
    expect(await observer.list(INFRASTRUCTURE_API, 'DevMachine', selector)).toHaveLength(4);
    expect(await second.kube.server('capstan-twice').list('v1', 'Node')).toHaveLength(4);
    expect(await observer.list('v1', 'Secret', { namespace: NAMESPACE, fieldSelector: 'metadata.name=capstan-twice-kubeconfig' })).toHaveLength(1);
  });
});
