import { ENQUEUEABLE_OPERATION_TYPES } from '@capstan/domain';
import { missingStepHandlers, type OperationStepSet } from '@capstan/operations';
import { ClusterOperationSteps } from './cluster-operation-steps';

describe('ClusterOperationSteps', () => {
  it('has a handler for every step kind of every enqueueable operation type but upgrades and backups (libs/upgrades and libs/backups register those)', () => {
    const sets = new Map(Object.entries(new ClusterOperationSteps().stepSets()) as [string, OperationStepSet][]);
    const elsewhere = ['upgrade_cluster', 'update_addons', 'create_backup', 'restore_backup'];
    const types = ENQUEUEABLE_OPERATION_TYPES.filter((type) => !elsewhere.includes(type));
    // Forgetting the node-local etcd snapshots of a deleted cluster is libs/backups' step.
    expect(missingStepHandlers(sets, types)).toEqual(['delete_cluster: forget_local_snapshots']);
    expect([...sets.keys()].sort()).toEqual([...types].sort());
  });

  it('compensates creates and spec changes, not deletes', () => {
    const sets = new ClusterOperationSteps().stepSets();
    expect(
      Object.entries(sets)
        .filter(([, set]) => set?.compensate)
        .map(([type]) => type)
        .sort(),
    ).toEqual(['create_cluster', 'create_node_pool', 'scale_node_pool', 'update_node_pool']);
  });
});
