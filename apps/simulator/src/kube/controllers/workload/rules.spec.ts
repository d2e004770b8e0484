import type { KubeObject } from '../../types';
import { testPod } from '../../../../test/pod-fixture';
import { computeDisruptionStatus, decideEviction } from './disruption';
import { templateHash } from './names';
import { isNodeReady, nodeObject, withNodeReadiness, withSchedulingTaint } from './nodes';
import { choosePlacement } from './placement';
import { planRecreateStep, planRollingStep, type RolloutSettings } from './rollout';
import { nodeMatchesPod, selectorMatches, untoleratedTaint } from './selectors';

const NOW = new Date('2026-12-04T21:00:00Z');

function pod(
  name: string,
  options: { labels?: Record<string, string>; ready?: boolean; node?: string; owner?: string; phase?: string; spec?: Record<string, unknown> } = {},
): KubeObject {
  const ready = options.ready ?? true;
  return testPod(name, {
    ready,
    metadata: {
      labels: options.labels ?? { app: 'web' },
      ...(options.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: options.owner, uid: options.owner, controller: true }] } : {}),
    },
    spec: { containers: [{ name: 'c' }], ...(options.node ? { nodeName: options.node } : {}), ...options.spec },
    status: { phase: options.phase ?? (ready ? 'Running' : 'Pending') },
  });
}

function pdb(spec: Record<string, unknown>, status?: Record<string, unknown>, generation = 1): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'default', generation },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    ...(status ? { status } : {}),
  };
}

describe('label selectors and tolerations', () => {
  it('matches matchLabels and every matchExpressions operator; an absent selector selects nothing, an empty one everything', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorMatches({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'db' } }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
  });

  it('pins to a node by matchFields and refuses an empty term', () => {
    const node = { name: 'n1', labels: { zone: 'a' } };
    expect(nodeMatchesPod(node, undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }])).toBe(true);
    expect(nodeMatchesPod(node, undefined, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }])).toBe(false);
    expect(nodeMatchesPod(node, undefined, [{}])).toBe(false);
    expect(nodeMatchesPod(node, { zone: 'b' }, undefined)).toBe(false);
  });

  it('finds the taint a pod does not tolerate, ignoring PreferNoSchedule', () => {
    const taints = [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const },
      { key: 'soft', effect: 'PreferNoSchedule' as const },
    ];
    expect(untoleratedTaint(taints, [], ['NoSchedule', 'NoExecute'])?.key).toBe('dedicated');
    expect(untoleratedTaint(taints, [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }], ['NoSchedule'])).toBeUndefined();
    expect(untoleratedTaint(taints, [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }], ['NoSchedule'])?.key).toBe('dedicated');
    expect(untoleratedTaint(taints, [{ operator: 'Exists' }], ['NoSchedule'])).toBeUndefined();
  });
});

describe('pod-template-hash', () => {
  it('is stable for one template whatever the key order, and changes with the template or the collision count', () => {
    const a = templateHash({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
    const b = templateHash({ spec: { containers: [{ image: 'nginx:1.27', name: 'c' }] }, metadata: { labels: { app: 'web' } } });
    const c = templateHash({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.28' }] } });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(templateHash({ x: 1 }, 1)).not.toBe(templateHash({ x: 1 }, 0));
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
});

describe('rolling update arithmetic', () => {
  const settings: RolloutSettings = { replicas: 4, strategy: 'RollingUpdate', maxSurge: '25%', maxUnavailable: '25%' };
  const rs = (name: string, replicas: number, available: number, created = '2026-01-01T00:00:00Z') => ({ name, replicas, available, created });

  it('surges the new ReplicaSet first, within maxSurge', () => {
    const step = planRollingStep(settings, rs('new', 0, 0), [rs('old', 4, 4)]);
    expect([...step]).toEqual([['new', 1]]);
  });

  it('scales old ones down without going under the minimum available', () => {
    // 5 pods (4 old available, 1 new not yet): 3 must stay available, so one old one may go.
    const step = planRollingStep(settings, rs('new', 1, 0), [rs('old', 4, 4)]);
    expect([...step]).toEqual([['old', 3]]);
  });

  it('removes unhealthy old replicas first and never below zero', () => {
    const step = planRollingStep(settings, rs('new', 4, 4), [rs('old', 2, 0)]);
    expect(step.get('old')).toBe(0);
  });

  it('does nothing once the rollout is complete', () => {
    expect(planRollingStep(settings, rs('new', 4, 4), [rs('old', 0, 0)]).size).toBe(0);
  });

  it('with maxSurge 0 and maxUnavailable 0 still progresses one pod at a time', () => {
    const strict = { ...settings, maxSurge: 0, maxUnavailable: 0 };
    expect([...planRollingStep(strict, rs('new', 0, 0), [rs('old', 4, 4)])]).toEqual([['old', 3]]);
  });

  it('Recreate scales the old ReplicaSets to zero and waits for their pods before the new one', () => {
    const recreate = { ...settings, strategy: 'Recreate' as const };
    expect([...planRecreateStep(recreate, rs('new', 0, 0), [rs('old', 4, 4)], 4)]).toEqual([['old', 0]]);
    expect(planRecreateStep(recreate, rs('new', 0, 0), [rs('old', 0, 0)], 2).size).toBe(0);
    expect([...planRecreateStep(recreate, rs('new', 0, 0), [rs('old', 0, 0)], 0)]).toEqual([['new', 4]]);
  });
});

describe('disruption budgets', () => {
  const pods = [pod('a', { owner: 'rs1' }), pod('b', { owner: 'rs1' }), pod('c', { owner: 'rs1', ready: false }), pod('other', { labels: { app: 'db' } })];

  it('with minAvailable as a number counts the selected pods and their healthy ones', () => {
    const status = computeDisruptionStatus(pdb({ minAvailable: 2 }), pods, () => undefined, NOW);
    expect(status).toMatchObject({ currentHealthy: 2, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0 });
    expect(status.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });
  });

  it('with maxUnavailable takes the expected pods from the controller scale', () => {
    const status = computeDisruptionStatus(pdb({ maxUnavailable: 1 }), pods, (uid) => (uid === 'rs1' ? 5 : undefined), NOW);
    expect(status).toMatchObject({ expectedPods: 5, desiredHealthy: 4, currentHealthy: 2, disruptionsAllowed: 0 });
  });

  it('with a percentage rounds the desired healthy pods up', () => {
    const status = computeDisruptionStatus(pdb({ minAvailable: '50%' }), pods, () => 3, NOW);
    expect(status).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 0 });
  });

  it('refuses an eviction naming the budget, its needed and its current healthy pods', () => {
    const budget = pdb({ minAvailable: 3 }, { currentHealthy: 2, desiredHealthy: 3, disruptionsAllowed: 0, observedGeneration: 1 });
    expect(decideEviction(pods[0]!, [budget], NOW)).toEqual({
      allow: false,
      code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      cause: 'The disruption budget web needs 3 healthy pods and has 2 currently',
      retryAfterSeconds: 0,
    });
  });

  it('refuses while the budget is not yet observed, and allows with a decrement recorded in disruptedPods', () => {
    const unseen = pdb({ minAvailable: 1 }, { disruptionsAllowed: 1, observedGeneration: 1 }, 2);
    expect(decideEviction(pods[0]!, [unseen], NOW)).toMatchObject({
      allow: false,
      code: 429,
      cause: 'The disruption budget web is still being processed by the server.',
    });
    const seen = pdb({ minAvailable: 1 }, { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1, observedGeneration: 1 });
    const verdict = decideEviction(pods[0]!, [seen], NOW);
    expect(verdict).toMatchObject({ allow: true, decrement: true, status: { disruptionsAllowed: 0, disruptedPods: { a: '2026-12-04T21:00:00Z' } } });
  });

  it('lets unhealthy or unbudgeted pods go, and refuses two budgets for one pod', () => {
    const budget = pdb({ minAvailable: 3 }, { currentHealthy: 3, desiredHealthy: 3, disruptionsAllowed: 0, observedGeneration: 1 });
    expect(decideEviction(pod('x', { ready: false, phase: 'Running' }), [budget], NOW)).toEqual({ allow: true, decrement: false });
    expect(decideEviction(pods[3]!, [budget], NOW)).toEqual({ allow: true, decrement: false });
    expect(decideEviction(pods[0]!, [budget, { ...budget, metadata: { ...budget.metadata, name: 'second' } }], NOW)).toMatchObject({ allow: false, code: 500 });
  });

  it('does not count a pod an eviction already took until the controller sees it go', () => {
    const budget = pdb({ minAvailable: 1 }, { disruptedPods: { a: '2026-12-04T20:59:30Z' } });
    expect(computeDisruptionStatus(budget, pods, () => undefined, NOW)).toMatchObject({
      currentHealthy: 1,
      disruptionsAllowed: 0,
      disruptedPods: { a: '2026-12-04T20:59:30Z' },
    });
  });
});

describe('nodes and placement', () => {
  const nodes = ['n1', 'n2', 'n3'].map((name) => nodeObject({ name, kubeletVersion: '1.36.4+rke2r1', now: NOW }));

  it('builds a Ready node with the kubelet version and a cordon taint when unschedulable', () => {
    const node = nodeObject({ name: 'n9', kubeletVersion: '1.36.4+rke2r1', unschedulable: true, providerID: 'x://n9', now: NOW });
    expect(isNodeReady(node)).toBe(true);
    expect(node.status?.['nodeInfo']).toMatchObject({ kubeletVersion: 'v1.36.4+rke2r1', containerRuntimeVersion: expect.stringMatching(/^containerd:\/\//) });
    expect(node.spec).toMatchObject({ providerID: 'x://n9', unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] });
    const uncordoned = withSchedulingTaint({ ...node, spec: { ...node.spec, unschedulable: false } }, NOW);
    expect(uncordoned.spec?.['taints']).toBeUndefined();
  });

  it('a NotReady node is Unknown and tainted unreachable; Ready again drops the taints', () => {
    const down = withNodeReadiness(nodes[0]!, false, NOW);
    expect(isNodeReady(down)).toBe(false);
    expect((down.spec?.['taints'] as { key: string; effect: string }[]).map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
    ]);
    const up = withNodeReadiness(down, true, NOW);
    expect(isNodeReady(up)).toBe(true);
    expect(up.spec?.['taints']).toBeUndefined();
  });

  it('spreads pods over the least loaded Ready, schedulable node', () => {
    const running = [pod('a', { node: 'n1' }), pod('b', { node: 'n2' })];
    expect(choosePlacement(pod('new', { ready: false }), nodes, running)).toEqual({ node: 'n3' });
    const cordoned = nodes.map((n) => (n.metadata.name === 'n3' ? { ...n, spec: { ...n.spec, unschedulable: true } } : n));
    expect(choosePlacement(pod('new', { ready: false }), cordoned, running)).toEqual({ node: 'n1' });
  });

  it('explains why no node fits', () => {
    const tainted = nodes.map((n) => ({ ...n, spec: { ...n.spec, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } }));
    const placement = choosePlacement(pod('new', { ready: false }), tainted, []);
    expect(placement).toEqual({
      unschedulable:
        '0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    });
    const selective = choosePlacement(pod('new', { ready: false, spec: { nodeSelector: { disk: 'ssd' } } }), nodes, []);
    expect(selective).toMatchObject({ unschedulable: expect.stringContaining("3 node(s) didn't match Pod's node affinity/selector") });
  });
});
