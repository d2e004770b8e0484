import { missingStepHandlers, type OperationStepSet } from '@capstan/operations';
import { UpgradeOperationSteps } from './upgrade-operation-steps';
import type { UpgradeVersions } from './upgrade-versions';

describe('UpgradeOperationSteps', () => {
  it('registers upgrade_cluster with a handler for every step kind an upgrade plan can contain but the pre-upgrade snapshot', () => {
    const sets = new Map(Object.entries(new UpgradeOperationSteps({} as UpgradeVersions).stepSets()) as [string, OperationStepSet][]);
    expect([...sets.keys()]).toEqual(['upgrade_cluster']);
    // The snapshot before each minor hop is registered by libs/backups (BackupOperationSteps).
    expect(missingStepHandlers(sets, ['upgrade_cluster'])).toEqual(['upgrade_cluster: backup_before_hop']);
  });
});
