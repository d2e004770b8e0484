import { missingStepHandlers, type OperationStepSet } from '@capstan/operations';
import { EngineConfig } from '@capstan/platform';
import { UpgradeOperationSteps } from './upgrade-operation-steps';
import type { UpgradeVersions } from './upgrade-versions';

describe('UpgradeOperationSteps', () => {
  it('registers upgrade_cluster with a handler for every step kind an upgrade plan can contain', () => {
    const sets = new Map(
      Object.entries(new UpgradeOperationSteps({} as UpgradeVersions, new EngineConfig(1, 1, 1, 1, 1_000, 1_000)).stepSets()) as [string, OperationStepSet][],
    );
    expect([...sets.keys()]).toEqual(['upgrade_cluster']);
    expect(missingStepHandlers(sets, ['upgrade_cluster'])).toEqual([]);
  });
});
