import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, eventually, type TestDatabase } from '@capstan/testing';
import { startSimulator, type RunningSimulator } from '../../src';
import { CLUSTER_API, CONTROL_PLANE_API, LABEL } from '../../src/kube/controllers/capi/api';
import type { ApiServerClient, KubeObject } from '../../src/kube/types';
import { clusterObjects, NAMESPACE } from './objects';

const run = promisify(execFile);
const STEP_MS = 40;
jest.setTimeout(120_000);
const WAIT_MS = 60_000;
const V135 = 'v1.35.4+rke2r1';
const V136 = 'v1.36.4+rke2r1';

/**
 * The management cluster as the RKE2 driver meets it: the objects it writes, moved by the emulated
 * Cluster API and CAPRKE2 controllers on the real store, to machines Running, Nodes in a workload
 * API server reached through the kubeconfig Secret, rollouts and deletion.
 */
describe('the emulated Cluster API management cluster', () => {
  let db: TestDatabase;
  let sim: RunningSimulator;
  let management: ApiServerClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ databaseUrl: db.url, host: '127.0.0.1', apiPort: 0, kubePort: 0, stepDelayMs: STEP_MS });
    management = sim.kube.server('management');
    await management.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  });

  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  const refOfMachine = (machine: KubeObject) => ({ apiVersion: CLUSTER_API, kind: 'Machine', name: machine.metadata.name, namespace: NAMESPACE });
  const create = async (objects: KubeObject[]) => {
    for (const object of objects) await management.create(object);
  };
  const machines = (cluster: string) => management.list(CLUSTER_API, 'Machine', { namespace: NAMESPACE, labelSelector: `${LABEL.clusterName}=${cluster}` });
  const get = (apiVersion: string, kind: string, name: string) => management.get({ apiVersion, kind, name, namespace: NAMESPACE });
  const running = async (cluster: string, count: number) => {
    const all = await machines(cluster);
    return all.length === count && all.every((m) => m.status?.phase === 'Running' && !m.metadata.deletionTimestamp);
  };

  /** The workload cluster as a customer reaches it: through the kubeconfig in `<cluster>-kubeconfig`. */
  const workloadNodes = async (cluster: string) => {
    const secret = await get('v1', 'Secret', `${cluster}-kubeconfig`);
    const config = new KubeConfig();
    config.loadFromString(Buffer.from(String((secret!.data as Record<string, string>).value), 'base64').toString());
    const nodes = await config.makeApiClient(CoreV1Api).listNode();
    return nodes.items.map((n) => ({ name: n.metadata!.name!, version: n.status!.nodeInfo!.kubeletVersion, unschedulable: n.spec?.unschedulable ?? false }));
  };

  it('provisions a cluster: machines Running, its nodes in a workload API server reached with the kubeconfig Secret', async () => {
    await create(clusterObjects({ name: 'capstan-c1', version: V135, controlPlaneReplicas: 1, pools: [{ name: 'workers', replicas: 2 }] }));
    await eventually(() => running('capstan-c1', 3), WAIT_MS, 50);

    const cluster = await get(CLUSTER_API, 'Cluster', 'capstan-c1');
    expect(cluster!.status).toMatchObject({ phase: 'Provisioned', infrastructureReady: true, controlPlaneReady: true });
    expect(cluster!.spec!.controlPlaneEndpoint).toEqual({ host: `capstan-c1.${sim.kube.kubeDomain}`, port: Number(new URL(sim.kube.url).port) });
    await eventually(
      async () =>
        ((await get(CLUSTER_API, 'Cluster', 'capstan-c1'))!.status!.conditions as { type: string; status: string }[]).every((c) => c.status === 'True'),
      WAIT_MS,
      50,
    );
    const cp = await get(CONTROL_PLANE_API, 'RKE2ControlPlane', 'capstan-c1-control-plane');
    expect(cp!.status).toMatchObject({ initialized: true, ready: true, replicas: 1, readyReplicas: 1, updatedReplicas: 1, version: V135 });
    const secret = await get('v1', 'Secret', 'capstan-c1-kubeconfig');
    expect(secret).toMatchObject({ type: 'cluster.x-k8s.io/secret', metadata: { labels: { [LABEL.clusterName]: 'capstan-c1' } } });
    await eventually(async () => (await get(CLUSTER_API, 'MachineDeployment', 'capstan-c1-workers'))?.status?.phase === 'Running', WAIT_MS, 50);

    const nodes = await workloadNodes('capstan-c1');
    expect(nodes.map((n) => n.name).sort()).toEqual((await machines('capstan-c1')).map((m) => m.metadata.name).sort());
    expect(nodes.every((n) => n.version === V135)).toBe(true);
    expect(await sim.kube.getApiServer('capstan-c1')).toMatchObject({ role: 'workload', distribution: 'rke2', version: '1.35.4+rke2r1' });
    for (const machine of await machines('capstan-c1')) {
      expect(machine.status).toMatchObject({ bootstrapReady: true, infrastructureReady: true, nodeRef: { kind: 'Node', name: machine.metadata.name } });
      expect(machine.spec!.providerID).toBe(`in-memory://${machine.metadata.name}`);
    }

    // Settled, the controllers write nothing more: every write would wake them again.
    await eventually(async () => (await get(CONTROL_PLANE_API, 'RKE2ControlPlane', 'capstan-c1-control-plane'))!.status?.conditions !== undefined, WAIT_MS, 50);
    await new Promise((resolve) => setTimeout(resolve, STEP_MS * 5));
    const writes: string[] = [];
    const stop = sim.kube.onChange((event) => {
      if (event.server === 'management') writes.push(`${event.type} ${event.object.kind}/${event.object.metadata.name}`);
    });
    await new Promise((resolve) => setTimeout(resolve, STEP_MS * 25));
    stop();
    expect(writes).toEqual([]);
  });

  it('scales a pool up and down by its MachineDeployment replicas', async () => {
    const deployment = { apiVersion: CLUSTER_API, kind: 'MachineDeployment', name: 'capstan-c1-workers', namespace: NAMESPACE };
    await management.mergePatch(deployment, { spec: { replicas: 3 } });
    await eventually(() => running('capstan-c1', 4), WAIT_MS, 50);
    expect(await workloadNodes('capstan-c1')).toHaveLength(4);

    await management.mergePatch(deployment, { spec: { replicas: 1 } });
    await eventually(async () => (await running('capstan-c1', 2)) && (await workloadNodes('capstan-c1')).length === 2, WAIT_MS, 50);
    const md = await management.get(deployment);
    await eventually(async () => (await management.get(deployment))!.status?.phase === 'Running', WAIT_MS, 50);
    expect(md!.spec!.replicas).toBe(1);
  });

  it('rolls the control plane to a new version, then the pool, one surge machine at a time', async () => {
    const cpRef = { apiVersion: CONTROL_PLANE_API, kind: 'RKE2ControlPlane', name: 'capstan-c1-control-plane', namespace: NAMESPACE };
    const before = new Set((await machines('capstan-c1')).map((m) => m.metadata.name));
    await management.mergePatch(cpRef, { spec: { version: V136 } });
    let most = 0;
    await eventually(
      async () => {
        const cpMachines = (await machines('capstan-c1')).filter((m) => m.metadata.labels?.[LABEL.controlPlane] !== undefined && !m.metadata.deletionTimestamp);
        most = Math.max(most, cpMachines.length);
        return (await sim.kube.getApiServer('capstan-c1'))!.version === '1.36.4+rke2r1';
      },
      WAIT_MS,
      20,
    );
    expect(most).toBeLessThanOrEqual(2);
    await eventually(
      async () => {
        const status = (await management.get(cpRef))!.status!;
        return status.version === V136 && status.replicas === 1 && status.updatedReplicas === 1 && status.readyReplicas === 1;
      },
      WAIT_MS,
      50,
    );

    const deployment = { apiVersion: CLUSTER_API, kind: 'MachineDeployment', name: 'capstan-c1-workers', namespace: NAMESPACE };
    await management.mergePatch(deployment, { spec: { replicas: 2 } });
    await eventually(() => running('capstan-c1', 3), WAIT_MS, 50);
    await management.mergePatch(deployment, { spec: { template: { spec: { version: V136 } } } });
    let mostWorkers = 0;
    await eventually(
      async () => {
        const workers = (await machines('capstan-c1')).filter((m) => m.metadata.labels?.[LABEL.controlPlane] === undefined);
        // maxSurge bounds the machines asked for; one being drained and deleted is on its way out (as upstream counts).
        mostWorkers = Math.max(mostWorkers, workers.filter((m) => !m.metadata.deletionTimestamp).length);
        const md = await management.get(deployment);
        return workers.length === 2 && workers.every((m) => m.spec!.version === V136 && m.status?.phase === 'Running') && md!.status?.phase === 'Running';
      },
      WAIT_MS,
      20,
    );
    expect(mostWorkers).toBeLessThanOrEqual(3);
    expect((await management.get(deployment))!.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    const nodes = await workloadNodes('capstan-c1');
    expect(nodes).toHaveLength(3);
    expect(nodes.every((n) => n.version === V136)).toBe(true);
    expect((await machines('capstan-c1')).some((m) => before.has(m.metadata.name))).toBe(false);
    // The old MachineSet went once emptied.
    const sets = () => management.list(CLUSTER_API, 'MachineSet', { namespace: NAMESPACE, labelSelector: `${LABEL.deploymentName}=capstan-c1-workers` });
    await eventually(async () => (await sets()).length === 1, WAIT_MS, 50);
    expect((await sets())[0]!.spec!.template).toMatchObject({ spec: { version: V136 } });
  });

  it('changes pool labels and taints in place: machines keep their names, nodes get and lose the taint', async () => {
    const deployment = { apiVersion: CLUSTER_API, kind: 'MachineDeployment', name: 'capstan-c1-workers', namespace: NAMESPACE };
    const workers = async () => (await machines('capstan-c1')).filter((m) => m.metadata.labels?.[LABEL.controlPlane] === undefined);
    const before = (await workers()).map((m) => m.metadata.name).sort();
    const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule', propagation: 'Always' };
    const nodeTaint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    await management.mergePatch(deployment, { spec: { template: { metadata: { labels: { tier: 'gold' } }, spec: { taints: [taint] } } } });
    const workerNodes = async () => {
      const nodes = await sim.kube.server('capstan-c1').list('v1', 'Node');
      return nodes.filter((n) => before.includes(n.metadata.name));
    };
    await eventually(
      async () => {
        const nodes = await workerNodes();
        return (
          nodes.length === 2 &&
          nodes.every((n) => ((n.spec?.taints as object[] | undefined) ?? []).some((t) => JSON.stringify(t) === JSON.stringify(nodeTaint)))
        );
      },
      WAIT_MS,
      50,
    );
    expect((await workers()).every((m) => m.metadata.labels?.tier === 'gold')).toBe(true);
    expect((await workers()).map((m) => m.metadata.name).sort()).toEqual(before);

    await management.mergePatch(deployment, { spec: { template: { spec: { taints: null } } } });
    await eventually(
      async () => (await workerNodes()).every((n) => !((n.spec?.taints as { key: string }[] | undefined) ?? []).some((t) => t.key === 'dedicated')),
      WAIT_MS,
      50,
    );
    expect((await workers()).map((m) => m.metadata.name).sort()).toEqual(before);
  });

  it('brings up a three-server control plane one server at a time and replaces them one at a time on an upgrade', async () => {
    await create(clusterObjects({ name: 'capstan-ha', version: V135, controlPlaneReplicas: 3 }));
    let mostProvisioning = 0;
    await eventually(
      async () => {
        const all = await machines('capstan-ha');
        mostProvisioning = Math.max(mostProvisioning, all.filter((m) => m.status?.phase !== 'Running').length);
        return running('capstan-ha', 3);
      },
      WAIT_MS,
      20,
    );
    expect(mostProvisioning).toBe(1);
    const nodes = sim.kube.server('capstan-ha');
    const servers = await nodes.list('v1', 'Node', { labelSelector: 'node-role.kubernetes.io/control-plane=true' });
    expect(servers.map((n) => n.metadata.labels?.['node-role.kubernetes.io/etcd'])).toEqual(['true', 'true', 'true']);

    const cpRef = { apiVersion: CONTROL_PLANE_API, kind: 'RKE2ControlPlane', name: 'capstan-ha-control-plane', namespace: NAMESPACE };
    await management.mergePatch(cpRef, { spec: { version: V136 } });
    let most = 0;
    let apiServerMovedEarly = false;
    await eventually(
      async () => {
        const active = (await machines('capstan-ha')).filter((m) => !m.metadata.deletionTimestamp);
        most = Math.max(most, active.length);
        const version = (await sim.kube.getApiServer('capstan-ha'))!.version;
        if (version === '1.36.4+rke2r1' && active.some((m) => m.spec!.version === V135)) apiServerMovedEarly = true;
        return version === '1.36.4+rke2r1' && (await running('capstan-ha', 3));
      },
      WAIT_MS,
      20,
    );
    expect(most).toBe(4);
    expect(apiServerMovedEarly).toBe(false);
    expect((await machines('capstan-ha')).every((m) => m.spec!.version === V136)).toBe(true);
  });

  it('keeps a machine Deleting while a PodDisruptionBudget blocks its drain, and finishes once the budget is relaxed', async () => {
    await create(clusterObjects({ name: 'capstan-drain', version: V135, pools: [{ name: 'workers', replicas: 2 }] }));
    await eventually(() => running('capstan-drain', 3), WAIT_MS, 50);
    const workload = sim.kube.server('capstan-drain');
    const workers = (await machines('capstan-drain')).filter((m) => m.metadata.labels?.[LABEL.controlPlane] === undefined);
    for (const [i, machine] of workers.entries()) {
      await workload.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${i}`, namespace: 'default', labels: { app: 'web' } },
        spec: { nodeName: String((machine.status!.nodeRef as { name: string }).name), containers: [{ name: 'web', image: 'nginx:1.29' }] },
      });
    }
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: 'web', namespace: 'default' };
    await workload.create({
      apiVersion: pdb.apiVersion,
      kind: pdb.kind,
      metadata: { name: 'web', namespace: 'default' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    });
    await eventually(async () => (await workload.get(pdb))?.status?.currentHealthy === 2, WAIT_MS, 50);

    await management.mergePatch(
      { apiVersion: CLUSTER_API, kind: 'MachineDeployment', name: 'capstan-drain-workers', namespace: NAMESPACE },
      { spec: { replicas: 1 } },
    );
    const draining = async () => (await machines('capstan-drain')).find((m) => m.metadata.deletionTimestamp);
    const blockedMessage = async () => {
      const machine = await draining();
      const condition = (machine?.status?.conditions as { type: string; status: string; message?: string }[] | undefined)?.find(
        (c) => c.type === 'DrainingSucceeded',
      );
      return condition?.status === 'False' ? (condition.message ?? '') : '';
    };
    await eventually(async () => (await blockedMessage()).includes('disruption budget web'), WAIT_MS, 50);
    const victim = (await draining())!;
    expect(victim.status!.phase).toBe('Deleting');
    const node = (await workload.get({ apiVersion: 'v1', kind: 'Node', name: victim.metadata.name }))!;
    expect(node.spec!.unschedulable).toBe(true);
    // Still held many steps later: a drain never forces past a budget.
    await new Promise((resolve) => setTimeout(resolve, STEP_MS * 10));
    const held = (await draining())!;
    expect(held.metadata.name).toBe(victim.metadata.name);
    expect(await blockedMessage()).toMatch(/web-\d/);
    // Waiting on a drain does not rewrite the machine on every pass (each write wakes every CAPI
    // controller, which starved the rest of the emulator on a loaded machine): Ready, True all
    // along, keeps the time it became True.
    const ready = (machine: KubeObject) => (machine.status?.conditions as { type: string; lastTransitionTime: string }[]).find((c) => c.type === 'Ready');
    expect(ready(held)).toEqual(ready(victim));

    await workload.mergePatch(pdb, { spec: { minAvailable: 1 } });
    await eventually(async () => (await running('capstan-drain', 2)) && (await workloadNodes('capstan-drain')).length === 2, WAIT_MS, 50);
    expect(await workload.get({ apiVersion: 'v1', kind: 'Node', name: victim.metadata.name })).toBeNull();
  });

  it('removes a machine whose drain a budget blocks once nodeDrainTimeout has passed, as CAPI does', async () => {
    const objects = clusterObjects({ name: 'capstan-timeout', version: V135, pools: [{ name: 'workers', replicas: 1 }] });
    const md = objects.find((o) => o.kind === 'MachineDeployment')!;
    (md.spec!.template as { spec: Record<string, unknown> }).spec.nodeDrainTimeout = '1s';
    await create(objects);
    await eventually(() => running('capstan-timeout', 2), WAIT_MS, 50);
    const workload = sim.kube.server('capstan-timeout');
    const worker = (await machines('capstan-timeout')).find((m) => m.metadata.labels?.[LABEL.controlPlane] === undefined)!;
    expect(worker.spec!.nodeDrainTimeout).toBe('1s');
    await workload.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db', namespace: 'default', labels: { app: 'db' } },
      spec: { nodeName: worker.metadata.name, containers: [{ name: 'db', image: 'postgres:18' }] },
    });
    await workload.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'db', namespace: 'default' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } },
    });
    await eventually(
      async () =>
        (await workload.get({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: 'db', namespace: 'default' }))?.status?.currentHealthy === 1,
      WAIT_MS,
      50,
    );

    await management.mergePatch(
      { apiVersion: CLUSTER_API, kind: 'MachineDeployment', name: 'capstan-timeout-workers', namespace: NAMESPACE },
      { spec: { replicas: 0 } },
    );
    await eventually(async () => (await management.get({ ...refOfMachine(worker) })) === null, WAIT_MS, 50);
    expect(await workload.get({ apiVersion: 'v1', kind: 'Node', name: worker.metadata.name })).toBeNull();
  });

  it('removes a pool with its MachineDeployment: machines drained and gone, nodes removed', async () => {
    // The budget of the drain test would now hold its last pod: gone, the drain can finish.
    await sim.kube.server('capstan-drain').delete({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: 'web', namespace: 'default' });
    const deployment = { apiVersion: CLUSTER_API, kind: 'MachineDeployment', name: 'capstan-drain-workers', namespace: NAMESPACE };
    await management.delete(deployment);
    await eventually(async () => (await management.get(deployment)) === null, WAIT_MS, 50);
    expect(await management.list(CLUSTER_API, 'MachineSet', { namespace: NAMESPACE, labelSelector: `${LABEL.deploymentName}=capstan-drain-workers` })).toEqual(
      [],
    );
    expect(await running('capstan-drain', 1)).toBe(true);
    const nodes = await workloadNodes('capstan-drain');
    expect(nodes).toHaveLength(1);
  });

  it('leaves a paused cluster alone until it is unpaused', async () => {
    const objects = clusterObjects({ name: 'capstan-paused', version: V135 });
    const cluster = objects.find((o) => o.kind === 'Cluster')!;
    cluster.spec = { ...cluster.spec, paused: true };
    await create(objects);
    await new Promise((resolve) => setTimeout(resolve, STEP_MS * 10));
    expect(await machines('capstan-paused')).toEqual([]);
    await management.mergePatch({ apiVersion: CLUSTER_API, kind: 'Cluster', name: 'capstan-paused', namespace: NAMESPACE }, { spec: { paused: false } });
    await eventually(() => running('capstan-paused', 1), WAIT_MS, 50);
  });

  it('shows the objects to the real kubectl with the upstream printer columns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'capstan-capi-kubectl-'));
    try {
      const kubeconfig = join(dir, 'management');
      await writeFile(kubeconfig, sim.managementKubeconfig);
      const { stdout } = await run(
        'kubectl',
        ['--kubeconfig', kubeconfig, '--request-timeout=20s', 'get', 'clusters.cluster.x-k8s.io,machinedeployments,machines', '-A'],
        {
          env: { ...process.env, HOME: dir },
        },
      );
      const lines = stdout.split('\n').map((line) => line.trim().split(/\s{2,}/));
      expect(lines).toContainEqual(['NAMESPACE', 'NAME', 'CLUSTERCLASS', 'PHASE', 'AGE', 'VERSION']);
      // DESIRED is a priority-10 column upstream: only `-o wide` shows it.
      expect(lines).toContainEqual(['NAMESPACE', 'NAME', 'CLUSTER', 'REPLICAS', 'READY', 'UPDATED', 'UNAVAILABLE', 'PHASE', 'AGE', 'VERSION']);
      expect(lines).toContainEqual(['NAMESPACE', 'NAME', 'CLUSTER', 'NODENAME', 'PROVIDERID', 'PHASE', 'AGE', 'VERSION']);
      expect(lines.find((line) => line[1] === 'cluster.cluster.x-k8s.io/capstan-c1')).toContain('Provisioned');
      expect(lines).toContainEqual([
        NAMESPACE,
        'machinedeployment.cluster.x-k8s.io/capstan-c1-workers',
        'capstan-c1',
        '2',
        '2',
        '2',
        '0',
        'Running',
        expect.any(String),
        V136,
      ]);
      const machineLines = lines.filter((l) => l[1]?.startsWith('machine.cluster.x-k8s.io/capstan-c1-'));
      expect(machineLines).toHaveLength(3);
      for (const line of machineLines)
        expect(line).toEqual([
          NAMESPACE,
          expect.any(String),
          'capstan-c1',
          expect.any(String),
          expect.stringMatching(/^in-memory:\/\//),
          'Running',
          expect.any(String),
          V136,
        ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('deletes a cluster with everything it made, the workload API server included', async () => {
    await create(clusterObjects({ name: 'capstan-gone', version: V135, pools: [{ name: 'p', replicas: 1 }] }));
    await eventually(() => running('capstan-gone', 2), WAIT_MS, 50);
    await management.delete({ apiVersion: CLUSTER_API, kind: 'Cluster', name: 'capstan-gone', namespace: NAMESPACE });
    await eventually(async () => (await get(CLUSTER_API, 'Cluster', 'capstan-gone')) === null, WAIT_MS, 50);

    const selector = { namespace: NAMESPACE, labelSelector: `${LABEL.clusterName}=capstan-gone` };
    for (const [apiVersion, kind] of [
      [CLUSTER_API, 'Machine'],
      [CLUSTER_API, 'MachineSet'],
      [CLUSTER_API, 'MachineDeployment'],
      [CONTROL_PLANE_API, 'RKE2ControlPlane'],
      ['bootstrap.cluster.x-k8s.io/v1beta1', 'RKE2Config'],
      ['infrastructure.cluster.x-k8s.io/v1beta1', 'DevMachine'],
      ['infrastructure.cluster.x-k8s.io/v1beta1', 'DevCluster'],
      ['v1', 'Secret'],
    ] as const) {
      expect([kind, await management.list(apiVersion, kind, selector)]).toEqual([kind, []]);
    }
    expect(await sim.kube.getApiServer('capstan-gone')).toBeNull();
    // The other cluster is untouched.
    expect(await running('capstan-c1', 3)).toBe(true);
  });

  describe('machine faults (the REST chaos routes)', () => {
    const chaos = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${sim.apiUrl}/v1/chaos/machine-faults${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };

    afterEach(async () => {
      expect((await chaos('DELETE', '')).status).toBe(204);
    });

    it('refuses a malformed fault with a 400 that says why', async () => {
      expect(await chaos('POST', '', { kind: 'melt' })).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
      expect(await chaos('POST', '', { kind: 'stuck_machine', factor: 3 })).toMatchObject({
        status: 400,
        body: { message: expect.stringContaining('factor') },
      });
      expect(await chaos('POST', '', { kind: 'stuck_machine', cluster: 'Not A Label' })).toMatchObject({ status: 400 });
      expect((await chaos('DELETE', '/12345')).status).toBe(404);
    });

    it('keeps a machine in Provisioning while a stuck-machine fault holds its cluster, and lets it go when removed', async () => {
      const fault = await chaos('POST', '', { kind: 'stuck_machine', cluster: 'capstan-stuck' });
      expect(fault).toMatchObject({ status: 201, body: { kind: 'stuck_machine', cluster: 'capstan-stuck' } });
      expect((await chaos('GET', '')).body.items).toHaveLength(1);
      await create(clusterObjects({ name: 'capstan-stuck', version: V135 }));
      await eventually(async () => (await machines('capstan-stuck'))[0]?.status?.phase === 'Provisioning', WAIT_MS, 50);
      await new Promise((resolve) => setTimeout(resolve, STEP_MS * 10));
      expect((await machines('capstan-stuck'))[0]!.status!.phase).toBe('Provisioning');
      expect((await chaos('DELETE', `/${fault.body.id}`)).status).toBe(204);
      await eventually(() => running('capstan-stuck', 1), WAIT_MS, 50);
    });

    it('fails a machine whose bootstrap fails, with failureReason and failureMessage', async () => {
      await chaos('POST', '', { kind: 'failed_bootstrap' });
      await create(clusterObjects({ name: 'capstan-failed', version: V135 }));
      await eventually(async () => (await machines('capstan-failed'))[0]?.status?.phase === 'Failed', WAIT_MS, 50);
      const [machine] = await machines('capstan-failed');
      expect(machine!.status).toMatchObject({ failureReason: 'CreateError', failureMessage: expect.stringContaining('RKE2Config') });
      expect((await get(CLUSTER_API, 'Cluster', 'capstan-failed'))!.status).toMatchObject({ controlPlaneReady: false });
    });

    it('reports a failed machine on the Machine and MachinesReady, not as a MachineSet failure, so a rollback leaves no Failed behind', async () => {
      await create(clusterObjects({ name: 'capstan-rollback', version: V136, pools: [{ name: 'workers', replicas: 1, version: V135 }] }));
      await eventually(() => running('capstan-rollback', 2), WAIT_MS, 50);
      const deployment = { apiVersion: CLUSTER_API, kind: 'MachineDeployment', name: 'capstan-rollback-workers', namespace: NAMESPACE };
      const sets = () =>
        management.list(CLUSTER_API, 'MachineSet', { namespace: NAMESPACE, labelSelector: `${LABEL.deploymentName}=capstan-rollback-workers` });
      const phases = new Set<string>();
      const phase = async () => {
        const md = await management.get(deployment);
        phases.add(String(md!.status?.phase));
        return md!;
      };

      await chaos('POST', '', { kind: 'failed_bootstrap', cluster: 'capstan-rollback' });
      await management.mergePatch(deployment, { spec: { template: { spec: { version: V136 } } } });
      const failedMachine = async () => (await machines('capstan-rollback')).find((m) => m.spec!.version === V136 && m.status?.phase === 'Failed');
      await eventually(
        async () => {
          await phase();
          return (await failedMachine()) !== undefined;
        },
        WAIT_MS,
        20,
      );
      const failed = (await failedMachine())!;
      expect(failed.status).toMatchObject({ failureReason: 'CreateError' });
      await eventually(
        async () => {
          await phase();
          const set = (await sets()).find((s) => (s.spec!.template as { spec: { version: string } }).spec.version === V136);
          const ready = (set?.status?.conditions as { type: string; status: string; severity?: string; reason?: string }[] | undefined)?.find(
            (c) => c.type === 'MachinesReady',
          );
          return ready?.status === 'False' && ready.severity === 'Error' && ready.reason === 'BootstrapFailed';
        },
        WAIT_MS,
        20,
      );
      for (const set of await sets()) expect(set.status).not.toHaveProperty('failureReason');

      await chaos('DELETE', '');
      await management.mergePatch(deployment, { spec: { template: { spec: { version: V135 } } } });
      await eventually(
        async () => {
          const md = await phase();
          const workers = (await machines('capstan-rollback')).filter((m) => m.metadata.labels?.[LABEL.controlPlane] === undefined);
          const settled =
            md.status?.observedGeneration === md.metadata.generation &&
            md.status?.replicas === 1 &&
            md.status?.updatedReplicas === 1 &&
            md.status?.readyReplicas === 1;
          return settled && workers.length === 1 && workers[0]!.spec!.version === V135 && workers[0]!.status?.phase === 'Running';
        },
        WAIT_MS,
        20,
      );
      expect((await machines('capstan-rollback')).some((m) => m.metadata.name === failed.metadata.name)).toBe(false);
      // Upstream's MachineDeployment reads Failed only for a MachineSet's own failureReason, which
      // its MachineSet controller never derives from a machine.
      expect(phases).not.toContain('Failed');
      await eventually(async () => (await phase()).status?.phase === 'Running', WAIT_MS, 50);
    });

    it('stretches each machine transition by the slow-rollout factor', async () => {
      await chaos('POST', '', { kind: 'slow_rollout', cluster: 'capstan-slow', factor: 4 });
      const started = Date.now();
      await create(clusterObjects({ name: 'capstan-slow', version: V135 }));
      await eventually(() => running('capstan-slow', 1), WAIT_MS, 50);
      // Pending, Provisioning and Provisioned each take at least 4 steps.
      expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 4 * STEP_MS);
    });
  });
});
