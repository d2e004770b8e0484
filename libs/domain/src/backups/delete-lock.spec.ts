/**
 * Backup for GKE's delete lock (docs/backups.md: retain days and delete-lock days): a locked
 * backup cannot be deleted, by hand or by retention, until its lock expires; the lock may not
 * outlast the retention, and RKE2 has no such lock.
 */
import { UnprocessableError } from '../errors/domain-error';
import { caught } from '../test/thrown';
import { assertDeleteLock, backupsToPrune, deleteLockedUntil, protectionOf, type RetainedBackup } from './retention';

const at = (iso: string) => new Date(iso);
const backup = (i: number, over: Partial<RetainedBackup> = {}): RetainedBackup => ({
  id: `bk_${i}`,
  purpose: 'scheduled',
  status: 'succeeded',
  completedAt: new Date(Date.UTC(2026, 11, i)),
  createdAt: new Date(Date.UTC(2026, 11, i)),
  expiresAt: null,
  inUseByRestore: false,
  ...over,
});

describe('the delete lock', () => {
  it('locks a backup for its lock days from when it finished', () => {
    expect(deleteLockedUntil(at('2026-12-01T03:00:00Z'), 7)).toEqual(at('2026-12-08T03:00:00Z'));
    expect(deleteLockedUntil(at('2026-12-01T03:00:00Z'), 0)).toBeNull();
    expect(deleteLockedUntil(at('2026-12-01T03:00:00Z'), null)).toBeNull();
  });

  it('keeps a locked backup from retention by count until the instant its lock expires', () => {
    // five newer good backups would push bk_1 out; its lock holds it until 2026-12-15
    const backups = [backup(1, { deleteLockedUntil: at('2026-12-15T00:00:00Z') }), ...[2, 3, 4, 5, 6].map((i) => backup(i))];
    expect(backupsToPrune(backups, { retentionCount: 5, retainDays: null }, at('2026-12-14T23:59:59.999Z'))).toEqual([]);
    expect(backupsToPrune(backups, { retentionCount: 5, retainDays: null }, at('2026-12-15T00:00:00Z'))).toEqual(['bk_1']);
    expect(protectionOf(backups[0]!, at('2026-12-10T00:00:00Z'))).toContain('2026-12-15T00:00:00.000Z');
  });

  it('refuses a lock longer than the retention days, as Backup for GKE does, naming the rule', () => {
    const e = caught(() => assertDeleteLock('gke', { deleteLockDays: 10, retainDays: 7 }));
    expect(e).toBeInstanceOf(UnprocessableError);
    expect(e.extensions).toMatchObject({ rule: 'retain_days must be at least delete_lock_days' });
    expect(() => assertDeleteLock('gke', { deleteLockDays: 7, retainDays: 7 })).not.toThrow();
    expect(() => assertDeleteLock('gke', { deleteLockDays: 7, retainDays: null })).not.toThrow();
  });

  it('refuses a delete lock on RKE2, which has none, and accepts none or 0 anywhere', () => {
    expect(caught(() => assertDeleteLock('rke2', { deleteLockDays: 3, retainDays: 7 })).type).toBe('delete-lock-not-supported');
    expect(() => assertDeleteLock('rke2', { deleteLockDays: 0, retainDays: 7 })).not.toThrow();
    expect(() => assertDeleteLock('rke2', { deleteLockDays: null, retainDays: null })).not.toThrow();
  });
});
