import { falseCondition, setConditions, summary, trueCondition } from './conditions';

describe('Cluster API conditions', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:05:00Z');

  it('keeps the transition time while the status holds, and moves it when the status changes', () => {
    const first = setConditions([], [falseCondition('InfrastructureReady', 'WaitingForInfrastructure', 'Info')], t0);
    const same = setConditions(first, [falseCondition('InfrastructureReady', 'WaitingForInfrastructure', 'Info')], t1);
    expect(same).toEqual(first);
    const flipped = setConditions(same, [trueCondition('InfrastructureReady')], t1);
    expect(flipped).toEqual([{ type: 'InfrastructureReady', status: 'True', lastTransitionTime: t1.toISOString() }]);
  });

  it('lists Ready first and summarises the first failing condition into it', () => {
    const parts = [trueCondition('InfrastructureReady'), falseCondition('ControlPlaneReady', 'WaitingForControlPlane', 'Info')];
    const conditions = setConditions([], [...parts, summary(parts)], t0);
    expect(conditions.map((c) => c.type)).toEqual(['Ready', 'ControlPlaneReady', 'InfrastructureReady']);
    expect(conditions[0]).toMatchObject({ status: 'False', reason: 'WaitingForControlPlane', severity: 'Info' });
    expect(summary([trueCondition('A')])).toEqual(trueCondition('Ready'));
  });
});
