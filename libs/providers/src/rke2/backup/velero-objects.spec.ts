import { ProviderError } from '../../cluster-provider';
import type { Manifest } from '../manifest';
import { buildVeleroBackup, buildVeleroRestore, labelSelectorFrom, presentVeleroBackup, veleroOperationStatus } from './velero-objects';

const veleroObject = (kind: string, status: Record<string, unknown>): Manifest => ({
  apiVersion: 'velero.io/v1',
  kind,
  metadata: { name: 'bk-01jf', namespace: 'velero' },
  spec: { storageLocation: 'default' },
  status,
});

describe('Velero objects of RKE2 workload backups', () => {
  it('turns a kubectl label selector into the LabelSelector Velero takes', () => {
    expect(labelSelectorFrom('app=web,tier!=cache,env in (prod, stage),!legacy,owner')).toEqual({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['cache'] },
        { key: 'env', operator: 'In', values: ['prod', 'stage'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'owner', operator: 'Exists' },
      ],
    });
    expect(labelSelectorFrom('app.kubernetes.io/name==shop')).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'shop' } });
  });

  it.each(['app in (a', 'a=b,,c', 'bad key=x', 'a=b c', '=x'])('refuses the malformed selector %p for good', (selector) => {
    let caught: unknown;
    try {
      labelSelectorFrom(selector);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProviderError);
    expect({ code: (caught as ProviderError).code, retryable: (caught as ProviderError).retryable }).toEqual({
      code: 'invalid_label_selector',
      retryable: false,
    });
  });

  it('backs up what the spec names, in Velero namespace, named from the backup id', () => {
    const backup = buildVeleroBackup({
      backupId: 'bk_01JF',
      cluster: 'capstan-01jf',
      kind: 'workload',
      includedNamespaces: ['web'],
      excludedNamespaces: [],
      labelSelector: 'app=shop',
    });
    expect(backup).toMatchObject({
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      metadata: { name: 'bk-01jf', namespace: 'velero', labels: { 'capstan.io/backup': 'bk_01JF' } },
      spec: { includedNamespaces: ['web'], labelSelector: { matchLabels: { app: 'shop' } }, storageLocation: 'default' },
    });
    expect(backup.spec).not.toHaveProperty('excludedNamespaces');
    const restore = buildVeleroRestore({
      restoreId: 'op_01JG',
      backup: { backupId: 'bk_01JF', cluster: 'capstan-01jf', kind: 'workload', location: null },
      targetCluster: 'capstan-01jh',
      scope: 'workloads',
      includedNamespaces: [],
    });
    expect(restore).toMatchObject({ kind: 'Restore', metadata: { name: 'restore-op-01jg' }, spec: { backupName: 'bk-01jf' } });
  });

  it('reports only a Completed backup as succeeded, and says why others failed', () => {
    expect(presentVeleroBackup('bk_1', veleroObject('Backup', { phase: 'Completed', completionTimestamp: '2026-12-05T00:00:00Z' }))).toEqual({
      backupId: 'bk_1',
      state: 'succeeded',
      location: 'velero://default/backups/bk-01jf',
      sizeBytes: null,
      completedAt: new Date('2026-12-05T00:00:00Z'),
    });
    expect(presentVeleroBackup('bk_1', veleroObject('Backup', { phase: 'InProgress' })).state).toBe('running');
    expect(presentVeleroBackup('bk_1', veleroObject('Backup', { phase: 'PartiallyFailed', errors: 2 }))).toMatchObject({
      state: 'failed',
      error: 'the Velero backup partially failed with 2 errors',
    });
    expect(presentVeleroBackup('bk_1', veleroObject('Backup', { phase: 'FailedValidation', validationErrors: ['bad ttl'] })).error).toContain('bad ttl');
  });

  it('follows a restore to its end', () => {
    expect(veleroOperationStatus(veleroObject('Restore', { phase: 'InProgress', progress: { totalItems: 4, itemsRestored: 1 } }), 'restore', 'c')).toEqual({
      done: false,
      progress: 'Velero restore InProgress (1 of 4 items)',
    });
    expect(veleroOperationStatus(veleroObject('Restore', { phase: 'Completed' }), 'restore', 'c')).toEqual({ done: true });
    expect(veleroOperationStatus(veleroObject('Restore', { phase: 'Failed', failureReason: 'backup gone' }), 'restore', 'c').error).toMatchObject({
      message: 'the Velero restore failed: backup gone',
      retryable: false,
    });
    expect(veleroOperationStatus(null, 'restore', 'c').error?.code).toBe('restore_missing');
  });
});
