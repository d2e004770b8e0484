import { mapConcurrently } from './concurrency';
import { MIRROR_POD_ANNOTATION, type PodFacts, planDrain } from './drain-plan';
import { budgetNamedIn, budgetsCovering, selectorMatches } from './disruption-budgets';

const pod = (name: string, over: Partial<PodFacts> = {}): PodFacts => ({
  namespace: 'default',
  name,
  labels: {},
  annotations: {},
  ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', controller: true }],
  phase: 'Running',
  deleting: false,
  ...over,
});

describe('planDrain', () => {
  it('evicts controller-owned pods and leaves DaemonSet and mirror pods on the node', () => {
    const plan = planDrain(
      [
        pod('web-1'),
        pod('cilium-x', { namespace: 'kube-system', ownerReferences: [{ kind: 'DaemonSet', name: 'cilium', controller: true }] }),
        pod('kube-proxy-a', {
          namespace: 'kube-system',
          annotations: { [MIRROR_POD_ANNOTATION]: 'abc' },
          ownerReferences: [{ kind: 'Node', name: 'a', controller: true }],
        }),
      ],
      { force: false },
    );
    expect(plan.evict.map((p) => p.name)).toEqual(['web-1']);
    expect(plan.skipped.map((s) => [s.pod.name, s.why])).toEqual([
      ['cilium-x', 'daemonset'],
      ['kube-proxy-a', 'mirror'],
    ]);
  });

  it('evicts nothing while an unmanaged pod is there, unless forced', () => {
    const pods = [pod('web-1'), pod('loner', { ownerReferences: [] })];
    expect(planDrain(pods, { force: false })).toMatchObject({ evict: [], unmanaged: [{ name: 'loner' }] });
    expect(planDrain(pods, { force: true }).evict.map((p) => p.name)).toEqual(['web-1', 'loner']);
  });

  it('does not count a finished pod without a controller as unmanaged work to protect', () => {
    const plan = planDrain([pod('job-done', { ownerReferences: [], phase: 'Succeeded' })], { force: false });
    expect(plan).toMatchObject({ unmanaged: [], evict: [{ name: 'job-done' }] });
  });

  it('treats an owner that is not the controller as no controller', () => {
    const plan = planDrain([pod('adopted', { ownerReferences: [{ kind: 'DaemonSet', name: 'x' }] })], { force: false });
    expect(plan.unmanaged.map((p) => p.name)).toEqual(['adopted']);
  });
});

describe('disruption budgets', () => {
  it('reads the budget kube-apiserver names in a blocked eviction', () => {
    expect(budgetNamedIn(['The disruption budget web-budget needs 3 healthy pods and has 3 currently'])).toBe('web-budget');
    expect(budgetNamedIn(['something else'])).toBeNull();
  });

  it('matches label selectors as metav1.LabelSelector does', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorMatches({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'api' } }, labels)).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(null, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, labels)).toBe(false);
  });

  it('finds the budgets covering a pod in its own namespace only', () => {
    const budgets = [
      { namespace: 'default', name: 'web', selector: { matchLabels: { app: 'web' } } },
      { namespace: 'other', name: 'web', selector: { matchLabels: { app: 'web' } } },
      { namespace: 'default', name: 'api', selector: { matchLabels: { app: 'api' } } },
    ];
    expect(budgetsCovering({ namespace: 'default', labels: { app: 'web' } }, budgets)).toEqual(['web']);
  });
});

describe('mapConcurrently', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
