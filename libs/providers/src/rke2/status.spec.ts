import fc from 'fast-check';
import type { Manifest } from './manifest';
import { parseDrainMessage, presentCluster, presentNodePool, rolloutStatus } from './status';

const CLUSTER = 'capstan-01jf8zq3w6e4m0t9d4x7c2v5b8';
const access = { server: 'https://127.0.0.1:6443', caCertificate: 'PEM' };

const object = (
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown> = {},
  metadata: Partial<Manifest['metadata']> = {},
): Manifest => ({
  apiVersion: 'x/v1beta1',
  kind,
  metadata: { name, namespace: 'capstan-clusters', generation: 1, ...metadata },
  spec,
  status,
});

const readyCluster = (status: Record<string, unknown> = {}) =>
  object('Cluster', CLUSTER, {}, { phase: 'Provisioned', controlPlaneReady: true, infrastructureReady: true, observedGeneration: 1, ...status });
const controlPlane = (version: string, status: Record<string, unknown>, metadata: Partial<Manifest['metadata']> = {}) =>
  object('RKE2ControlPlane', CLUSTER, { replicas: 3, version: `v${version}+rke2r1` }, { observedGeneration: 1, ...status }, metadata);
const settledControlPlane = (version: string) =>
  controlPlane(version, { ready: true, initialized: true, version: `v${version}+rke2r1`, replicas: 3, updatedReplicas: 3, readyReplicas: 3 });

const machine = (name: string, version: string, options: { ready?: boolean; deleting?: boolean; failed?: string; node?: boolean } = {}) =>
  object(
    'Machine',
    name,
    { version: `v${version}+rke2r1` },
    {
      phase: options.failed ? 'Failed' : 'Running',
      ...(options.node === false ? {} : { nodeRef: { name: `node-${name}` }, nodeInfo: { kubeletVersion: `v${version}+rke2r1` } }),
      conditions: [{ type: 'NodeHealthy', status: options.ready === false ? 'False' : 'True', lastTransitionTime: '2026-12-04T20:00:00Z' }],
      ...(options.failed ? { failureReason: 'BootstrapFailed', failureMessage: options.failed } : {}),
    },
    options.deleting ? { deletionTimestamp: '2026-12-04T20:00:00Z' } : {},
  );

const deployment = (version: string, replicas: number, status: Record<string, unknown>, metadata: Partial<Manifest['metadata']> = {}) =>
  object(
    'MachineDeployment',
    `${CLUSTER}-pool`,
    { replicas, template: { spec: { version: `v${version}+rke2r1` } } },
    { observedGeneration: 1, ...status },
    metadata,
  );

describe('presentCluster', () => {
  it('is null without a Cluster object', () => {
    expect(presentCluster(CLUSTER, { cluster: null, controlPlane: null, access: null })).toBeNull();
  });

  it('is provisioning until the control plane is ready and its kubeconfig written', () => {
    expect(
      presentCluster(CLUSTER, { cluster: object('Cluster', CLUSTER, {}, { phase: 'Provisioning' }), controlPlane: controlPlane('1.35.4', {}), access: null }),
    ).toMatchObject({
      status: 'provisioning',
      version: '1.35.4',
      endpoint: null,
    });
    expect(presentCluster(CLUSTER, { cluster: readyCluster(), controlPlane: settledControlPlane('1.35.4'), access: null })?.status).toBe('provisioning');
  });

  it('is running with the endpoint and CA of its kubeconfig once every server is ready at its version', () => {
    expect(presentCluster(CLUSTER, { cluster: readyCluster(), controlPlane: settledControlPlane('1.35.4'), access })).toEqual({
      name: CLUSTER,
      status: 'running',
      version: '1.35.4',
      endpoint: access.server,
      caCertificate: 'PEM',
    });
  });

  it('is upgrading while the servers move to a new version, reporting the lowest version they run', () => {
    const moving = controlPlane('1.36.0', { ready: true, initialized: true, version: 'v1.35.4+rke2r1', replicas: 4, updatedReplicas: 1, readyReplicas: 4 });
    expect(presentCluster(CLUSTER, { cluster: readyCluster(), controlPlane: moving, access })).toMatchObject({ status: 'upgrading', version: '1.35.4' });
  });

  it('is in error when Cluster API reports a failure, and deleting once deletion started', () => {
    expect(
      presentCluster(CLUSTER, { cluster: readyCluster({ failureReason: 'InvalidConfiguration' }), controlPlane: settledControlPlane('1.35.4'), access })
        ?.status,
    ).toBe('error');
    const deleting = object('Cluster', CLUSTER, {}, { phase: 'Deleting' }, { deletionTimestamp: '2026-12-04T20:00:00Z' });
    expect(presentCluster(CLUSTER, { cluster: deleting, controlPlane: settledControlPlane('1.35.4'), access })?.status).toBe('deleting');
  });
});

describe('presentNodePool', () => {
  const settled = (replicas: number) => ({ replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });

  it('lists the nodes of machines that have one, with their kubelet version and readiness', () => {
    const pool = presentNodePool('pool-a', deployment('1.35.4', 2, settled(2)), [
      machine('m1', '1.35.4'),
      machine('m2', '1.35.4', { ready: false }),
      machine('m3', '1.35.4', { node: false }),
    ]);
    expect(pool).toMatchObject({ name: 'pool-a', count: 2, version: '1.35.4', status: 'updating' });
    expect(pool?.nodes).toEqual([
      { name: 'node-m1', version: '1.35.4', ready: true, unschedulable: false },
      { name: 'node-m2', version: '1.35.4', ready: false, unschedulable: false },
    ]);
  });

  it('is running when every replica is up to date and ready', () => {
    expect(presentNodePool('pool-a', deployment('1.35.4', 2, settled(2)), [machine('m1', '1.35.4'), machine('m2', '1.35.4')])?.status).toBe('running');
  });

  it('is updating while a removed machine still drains (its node cordoned)', () => {
    const pool = presentNodePool('pool-a', deployment('1.35.4', 1, { replicas: 2, updatedReplicas: 2, readyReplicas: 2 }), [
      machine('m1', '1.35.4'),
      machine('m2', '1.35.4', { deleting: true }),
    ]);
    expect(pool?.status).toBe('updating');
    expect(pool?.nodes.find((n) => n.name === 'node-m2')?.unschedulable).toBe(true);
  });

  it('is upgrading while nodes run another version, in error when a machine failed', () => {
    expect(presentNodePool('pool-a', deployment('1.36.0', 1, settled(1)), [machine('m1', '1.35.4')])?.status).toBe('upgrading');
    expect(presentNodePool('pool-a', deployment('1.35.4', 1, settled(1)), [machine('m1', '1.35.4', { failed: 'cloud-init exited 1' })])?.status).toBe('error');
  });

  it('is provisioning before Cluster API has seen it', () => {
    expect(presentNodePool('pool-a', deployment('1.35.4', 2, { observedGeneration: undefined }), [])?.status).toBe('provisioning');
  });
});

describe('rolloutStatus', () => {
  it('is not done while machines still run the old version, and says how far it got', () => {
    const moving = controlPlane('1.36.0', { version: 'v1.35.4+rke2r1', replicas: 4, updatedReplicas: 1, readyReplicas: 4 });
    expect(
      rolloutStatus('control-plane', moving, [machine('a', '1.35.4'), machine('b', '1.35.4'), machine('c', '1.35.4'), machine('d', '1.36.0')], '1.36.0'),
    ).toMatchObject({
      done: false,
      progress: '1 of 3 control-plane machines at 1.36.0',
      drains: [],
    });
  });

  it('is done once every machine runs the version, is ready, and none is left over', () => {
    const done = settledControlPlane('1.36.0');
    expect(rolloutStatus('control-plane', done, [machine('b', '1.36.0'), machine('c', '1.36.0'), machine('d', '1.36.0')], '1.36.0')).toMatchObject({
      done: true,
      progress: '3 of 3 control-plane machines at 1.36.0',
    });
    expect(
      rolloutStatus(
        'control-plane',
        done,
        [machine('a', '1.35.4', { deleting: true }), machine('b', '1.36.0'), machine('c', '1.36.0'), machine('d', '1.36.0')],
        '1.36.0',
      ).done,
    ).toBe(false);
  });

  it('follows a node pool by its MachineDeployment', () => {
    const md = deployment('1.36.0', 2, { replicas: 2, updatedReplicas: 2, readyReplicas: 2 });
    expect(rolloutStatus('node-pool', md, [machine('x', '1.36.0'), machine('y', '1.36.0')], '1.36.0').done).toBe(true);
    expect(rolloutStatus('node-pool', md, [machine('x', '1.36.0'), machine('y', '1.36.0', { ready: false })], '1.36.0').done).toBe(false);
  });

  it('is not done while the MachineDeployment reads Failed, when the pool reads error, and done once it no longer does', () => {
    // A rollback's reading: the failed machine of the version rolled away from is gone, but the
    // deployment still rolls up the failure of its old MachineSet.
    const machines = [machine('x', '1.35.4')];
    const rolledBack = (phase: string) => deployment('1.35.4', 1, { replicas: 1, updatedReplicas: 1, readyReplicas: 1, phase });
    expect(presentNodePool('pool-a', rolledBack('Failed'), machines)?.status).toBe('error');
    expect(rolloutStatus('node-pool', rolledBack('Failed'), machines, '1.35.4')).toMatchObject({
      done: false,
      progress: `1 of 1 machines at 1.35.4; MachineDeployment ${CLUSTER}-pool reads Failed`,
    });
    expect(rolloutStatus('node-pool', rolledBack('Failed'), machines, '1.35.4').error).toBeUndefined();
    expect(presentNodePool('pool-a', rolledBack('Running'), machines)?.status).toBe('running');
    expect(rolloutStatus('node-pool', rolledBack('Running'), machines, '1.35.4')).toMatchObject({ done: true, progress: '1 of 1 machines at 1.35.4' });
  });

  it('is done without an error only on a reading of which the node pool reads running at the version', () => {
    const versions = ['1.35.4', '1.36.0'];
    // Half the time a counter equals the replicas asked for, so settled readings come up often.
    const counter = fc.oneof(fc.constant('asked' as const), fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }));
    const reading = fc.record({
      version: fc.constantFrom(...versions),
      replicas: fc.integer({ min: 0, max: 3 }),
      generation: fc.integer({ min: 1, max: 2 }),
      status: fc.record({
        observedGeneration: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
        replicas: counter,
        updatedReplicas: counter,
        readyReplicas: counter,
        phase: fc.constantFrom('Running', 'ScalingUp', 'ScalingDown', 'Failed', undefined),
      }),
      machines: fc.array(
        fc.record({
          version: fc.constantFrom(...versions),
          ready: fc.boolean(),
          deleting: fc.boolean(),
          node: fc.boolean(),
          failed: fc.option(fc.constant('cloud-init exited 1'), { nil: undefined }),
        }),
        { maxLength: 4 },
      ),
    });
    fc.assert(
      fc.property(reading, (r) => {
        const counted = (value: number | 'asked' | undefined) => (value === 'asked' ? r.replicas : value);
        const status = {
          ...r.status,
          replicas: counted(r.status.replicas),
          updatedReplicas: counted(r.status.updatedReplicas),
          readyReplicas: counted(r.status.readyReplicas),
        };
        const md = deployment(r.version, r.replicas, status, { generation: r.generation });
        const machines = r.machines.map((m, i) => machine(`m${i}`, m.version, m));
        const rollout = rolloutStatus('node-pool', md, machines, r.version);
        if (!rollout.done || rollout.error) return;
        const pool = presentNodePool('pool-a', md, machines);
        expect({ status: pool?.status, version: pool?.version, ready: pool?.nodes.filter((n) => n.ready).length }).toEqual({
          status: 'running',
          version: r.version,
          ready: r.replicas,
        });
      }),
      { numRuns: 5000 },
    );
  });

  it('fails for good when a machine fails, when the object is gone, or when its version was changed meanwhile', () => {
    const md = deployment('1.36.0', 2, {});
    expect(rolloutStatus('node-pool', md, [machine('x', '1.36.0', { failed: 'bootstrap timed out' })], '1.36.0')).toMatchObject({
      done: true,
      error: { retryable: false, code: 'rollout_failed', message: expect.stringContaining('machine x: BootstrapFailed: bootstrap timed out') },
    });
    expect(rolloutStatus('node-pool', null, [], '1.36.0').error?.code).toBe('rollout_target_gone');
    expect(rolloutStatus('node-pool', deployment('1.37.1', 2, {}), [], '1.36.0').error).toMatchObject({ code: 'rollout_superseded', retryable: false });
  });
});

describe('node-level progress and drains', () => {
  const drainMessage = [
    'Drain not completed yet (started at 2026-12-04T20:00:00Z):',
    "* Pod shop/web-0: Cannot evict pod as it would violate the pod's disruption budget. The disruption budget web needs 1 healthy pods and has 1 currently",
    '* Pods shop/cache-0, shop/cache-1: deletionTimestamp set, but still not removed from the Node',
  ].join('\n');
  const draining = (message: string, reason = 'Draining') => {
    const m = machine('old', '1.35.4', { deleting: true });
    m.status = {
      ...m.status,
      deletion: { nodeDrainStartTime: '2026-12-04T20:00:00Z' },
      conditions: [{ type: 'DrainingSucceeded', status: 'False', reason, severity: 'Info', message, lastTransitionTime: '2026-12-04T20:00:00Z' }],
    };
    return m;
  };

  it('says node by node which machines wait, drain, join and are ready', () => {
    const md = deployment('1.36.0', 2, { replicas: 3, updatedReplicas: 1, readyReplicas: 2 });
    const status = rolloutStatus(
      'node-pool',
      md,
      [draining(drainMessage), machine('kept', '1.35.4'), machine('new', '1.36.0'), machine('joining', '1.36.0', { ready: false })],
      '1.36.0',
    );
    expect(status.nodes).toEqual([
      { machine: 'old', node: 'node-old', version: '1.35.4', state: 'draining' },
      { machine: 'kept', node: 'node-kept', version: '1.35.4', state: 'waiting' },
      { machine: 'new', node: 'node-new', version: '1.36.0', state: 'ready' },
      { machine: 'joining', node: 'node-joining', version: '1.36.0', state: 'joining' },
    ]);
    expect(status.progress).toBe('1 of 2 machines at 1.36.0; draining node-old, joining node-joining');
  });

  it('reports a drain Cluster API has not finished with the pods and budgets that hold it, since it started', () => {
    const md = deployment('1.36.0', 1, {});
    expect(rolloutStatus('node-pool', md, [draining(drainMessage)], '1.36.0').drains).toEqual([
      {
        machine: 'old',
        node: 'node-old',
        since: '2026-12-04T20:00:00Z',
        message: drainMessage,
        pods: [
          { namespace: 'shop', name: 'web-0', reason: expect.stringContaining('The disruption budget web needs 1 healthy pods') },
          { namespace: 'shop', name: 'cache-0', reason: 'deletionTimestamp set, but still not removed from the Node' },
          { namespace: 'shop', name: 'cache-1', reason: 'deletionTimestamp set, but still not removed from the Node' },
        ],
        budgets: [{ namespace: 'shop', name: 'web' }],
      },
    ]);
    // A drain that failed outright (the workload API unreachable) is not a drain in progress.
    expect(rolloutStatus('node-pool', md, [draining('Drain failed: unreachable', 'DrainingFailed')], '1.36.0').drains).toEqual([]);
  });

  it("reads Cluster API 1.11's grouped drain message too", () => {
    const grouped = [
      'Drain not completed yet (started at 2026-12-04T20:00:00Z):',
      '* Pods with deletionTimestamp that still exist: shop/a',
      '* Pods with eviction failed:',
      "  * Cannot evict pod as it would violate the pod's disruption budget. The disruption budget db needs 2 healthy pods and has 2 currently: data/db-0, data/db-1, ... (3 more)",
    ].join('\n');
    expect(parseDrainMessage(grouped)).toEqual({
      pods: [
        { namespace: 'shop', name: 'a', reason: 'deletionTimestamp set, but still not removed from the Node' },
        { namespace: 'data', name: 'db-0', reason: expect.stringContaining('disruption budget db') },
        { namespace: 'data', name: 'db-1', reason: expect.stringContaining('disruption budget db') },
      ],
      budgets: [{ namespace: 'data', name: 'db' }],
    });
  });
});
