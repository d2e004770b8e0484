import type { Manifest } from '../manifest';
import { parseQuantity, presentEtcdBackup, restoreObjectName, restoreOperationStatus, snapshotObjectName, snapshotOperationStatus } from './etcd-objects';

const snapshot = (status: Record<string, unknown>): Manifest => ({
  apiVersion: 'turtles-capi.cattle.io/v1alpha1',
  kind: 'ETCDMachineSnapshot',
  metadata: { name: 'bk-01jf8zq3w6e4m0t9d4x7c2v5b8' },
  spec: { clusterName: 'capstan-01jf8zq3w6e4m0t9d4x7c2v5b8' },
  status,
});
const file = (location: string, status: Record<string, unknown>, s3 = false): Manifest => ({
  apiVersion: 'k3s.cattle.io/v1',
  kind: 'ETCDSnapshotFile',
  metadata: { name: location.replace(/\W+/g, '-').toLowerCase() },
  spec: { snapshotName: 'bk-01jf-node-1', location, ...(s3 ? { s3: { bucket: 'b' } } : {}) },
  status,
});
const done = snapshot({
  phase: 'Done',
  snapshots: [{ name: 'bk-01jf-node-1', machineName: 'm', location: 'file:///snap/bk-01jf-node-1', creationTime: '2026-12-05T00:00:00Z' }],
});

describe('RKE2 etcd backup objects', () => {
  it('names objects from Capstan ids, the same every time', () => {
    expect(snapshotObjectName('bk_01JF8ZQ3W6E4M0T9D4X7C2V5B8')).toBe('bk-01jf8zq3w6e4m0t9d4x7c2v5b8');
    expect(restoreObjectName('op_01JF8ZQ3W6E4M0T9D4X7C2V5B8')).toBe('restore-op-01jf8zq3w6e4m0t9d4x7c2v5b8');
    expect(() => snapshotObjectName('bk/../x')).toThrow(/cannot name/);
  });

  it('reads sizes as Kubernetes quantities', () => {
    expect(parseQuantity('12345')).toBe(12345n);
    expect(parseQuantity('12Mi')).toBe(12n * 1024n * 1024n);
    expect(parseQuantity('1.5Gi')).toBe(1610612736n);
    expect(parseQuantity('2k')).toBe(2000n);
    expect(parseQuantity(42)).toBe(42n);
    expect(parseQuantity('-1')).toBeNull();
    expect(parseQuantity('lots')).toBeNull();
    expect(parseQuantity(undefined)).toBeNull();
  });

  it('is running until the snapshot is done, failed with its error, succeeded from the file RKE2 lists', () => {
    expect(presentEtcdBackup('bk_1', snapshot({ phase: 'Running' }), [])).toMatchObject({ state: 'running', location: null });
    expect(presentEtcdBackup('bk_1', snapshot({ phase: 'Failed', error: 'etcd is down' }), [])).toMatchObject({ state: 'failed', error: 'etcd is down' });
    const local = file('file:///snap/bk-01jf-node-1', { readyToUse: true, size: '2Ki', creationTime: '2026-12-05T00:00:01Z' });
    expect(presentEtcdBackup('bk_1', done, [local])).toEqual({
      backupId: 'bk_1',
      state: 'succeeded',
      location: 'file:///snap/bk-01jf-node-1',
      sizeBytes: 2048n,
      completedAt: new Date('2026-12-05T00:00:01Z'),
    });
  });

  it('prefers the S3 copy, which outlives the server that took it', () => {
    const local = file('file:///snap/bk-01jf-node-1', { readyToUse: true, size: '10' });
    const s3 = file('s3://b/f/bk-01jf-node-1', { readyToUse: true, size: '10' }, true);
    expect(presentEtcdBackup('bk_1', done, [local, s3]).location).toBe('s3://b/f/bk-01jf-node-1');
  });

  it('fails a done snapshot whose file RKE2 no longer lists, or that RKE2 reports in error', () => {
    expect(presentEtcdBackup('bk_1', done, [])).toMatchObject({ state: 'failed' });
    expect(presentEtcdBackup('bk_1', done, [file('file:///x', { readyToUse: false, error: { message: 'upload failed' } })])).toMatchObject({
      state: 'failed',
      error: 'upload failed',
    });
  });

  it('keeps what the management cluster recorded when the workload cluster cannot be asked', () => {
    expect(presentEtcdBackup('bk_1', done, null)).toMatchObject({ state: 'succeeded', location: 'file:///snap/bk-01jf-node-1', sizeBytes: null });
  });

  it('follows snapshot and restore operations to their end', () => {
    expect(snapshotOperationStatus(snapshot({ phase: 'Running' }), 'c')).toMatchObject({ done: false });
    expect(snapshotOperationStatus(done, 'c')).toEqual({ done: true });
    expect(snapshotOperationStatus(null, 'c')).toMatchObject({ done: true, error: { retryable: false, code: 'backup_missing' } });
    const restore = (status: Record<string, unknown>): Manifest => ({ apiVersion: 'v', kind: 'ETCDSnapshotRestore', metadata: { name: 'r' }, status });
    expect(restoreOperationStatus(restore({ phase: 'Shutdown' }), 'c')).toEqual({ done: false, progress: 'etcd restore: Shutdown (3 of 8)' });
    expect(restoreOperationStatus(restore({ phase: 'Done' }), 'c')).toEqual({ done: true });
    expect(restoreOperationStatus(restore({ phase: 'Failed', conditions: [{ message: 'snapshot gone' }] }), 'c')).toMatchObject({
      done: true,
      error: { message: 'snapshot gone', retryable: false },
    });
  });
});
