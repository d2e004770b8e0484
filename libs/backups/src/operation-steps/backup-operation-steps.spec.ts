import { missingStepHandlers, type OperationStepSet } from '@capstan/operations';
import type { BackupDrivers } from '@capstan/providers';
import type { RestoredClusters } from '../backup-cluster-source';
import type { BackupsRepository } from '../backups.repository';
import { BackupOperationSteps } from './backup-operation-steps';

describe('BackupOperationSteps', () => {
  it('registers create_backup and restore_backup whole, the pre-upgrade snapshot kind of upgrade_cluster and the snapshot step of delete_cluster', () => {
    const steps = new BackupOperationSteps({} as BackupDrivers, {} as BackupsRepository, {} as RestoredClusters);
    const sets = new Map(Object.entries(steps.stepSets()) as [string, OperationStepSet][]);
    expect([...sets.keys()]).toEqual(['create_backup', 'restore_backup', 'upgrade_cluster', 'delete_cluster']);
    expect(missingStepHandlers(sets, ['create_backup', 'restore_backup'])).toEqual([]);
    expect(Object.keys(sets.get('upgrade_cluster')!.steps)).toEqual(['backup_before_hop']);
    expect(Object.keys(sets.get('delete_cluster')!.steps)).toEqual(['forget_local_snapshots']);
  });
});
