import type { KubeObject } from '../../types';
import { durationMs } from './api';
import { combine } from './machine-faults';
import { rke2Node } from './node';

const machine = (labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'cluster.x-k8s.io/v1beta1',
  kind: 'Machine',
  metadata: {
    name: 'c1-workers-abc-x7k2q',
    namespace: 'capstan',
    labels,
    ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachineSet', name: 'c1-workers-abc', uid: 'u1', controller: true }],
  },
});

describe('the Node an RKE2 machine registers', () => {
  it('carries the server roles, RKE2Config labels and taints, the Machine taints and CAPI annotations', () => {
    const node = rke2Node({
      machine: machine({ 'node.cluster.x-k8s.io/tier': 'gold', 'capstan.io/other': 'not-synced' }),
      clusterName: 'c1',
      version: 'v1.35.4+rke2r1',
      providerID: 'in-memory://c1-workers-abc-x7k2q',
      internalIP: '10.1.2.3',
      controlPlane: true,
      nodeLabels: ['capstan.io/pool=workers'],
      nodeTaints: ['dedicated=db:NoSchedule', 'broken'],
      machineTaints: [{ key: 'gpu', value: 'true', effect: 'NoExecute' }, { key: 'bad' }],
    });
    expect(node.metadata.labels).toMatchObject({
      'node-role.kubernetes.io/control-plane': 'true',
      'node-role.kubernetes.io/etcd': 'true',
      'capstan.io/pool': 'workers',
      'node.cluster.x-k8s.io/tier': 'gold',
      'kubernetes.io/hostname': 'c1-workers-abc-x7k2q',
    });
    expect(node.metadata.labels).not.toHaveProperty('capstan.io/other');
    expect(node.spec!.taints).toEqual([
      { key: 'dedicated', value: 'db', effect: 'NoSchedule' },
      { key: 'gpu', value: 'true', effect: 'NoExecute' },
    ]);
    expect(node.metadata.annotations).toMatchObject({
      'cluster.x-k8s.io/machine': 'c1-workers-abc-x7k2q',
      'cluster.x-k8s.io/owner-kind': 'MachineSet',
      'cluster.x-k8s.io/cluster-name': 'c1',
    });
    expect(node.status!.nodeInfo).toMatchObject({ kubeletVersion: 'v1.35.4+rke2r1' });
    expect(node.spec!.providerID).toBe('in-memory://c1-workers-abc-x7k2q');
  });
});

describe('Go durations of CAPI timeouts', () => {
  it('reads what metav1.Duration writes and refuses the rest', () => {
    expect(durationMs('10m')).toBe(600_000);
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(durationMs('1.5s')).toBe(1500);
    expect(durationMs('0s')).toBe(0);
    expect(durationMs('10')).toBeNull();
    expect(durationMs('ten minutes')).toBeNull();
    expect(durationMs(undefined)).toBeNull();
  });
});

describe('machine faults of a cluster', () => {
  it('combine: any stuck or failed-bootstrap fault counts, and the slowest rollout factor wins', () => {
    expect(combine([])).toEqual({ stuck: false, failedBootstrap: false, slowFactor: 1 });
    expect(
      combine([
        { kind: 'slow_rollout', factor: 3 },
        { kind: 'slow_rollout', factor: 7 },
        { kind: 'stuck_machine', factor: null },
      ]),
    ).toEqual({ stuck: true, failedBootstrap: false, slowFactor: 7 });
  });
});
