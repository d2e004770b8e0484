/**
 * Which backups retention removes (docs/backups.md, "Retention"). Pure: the backups and the
 * policy in, the ids to prune out.
 *
 * - By count (RKE2's `etcd-snapshot-retention`, default 5): a schedule keeps its newest `count`
 *   good backups; an older good one is pruned, and so is a failed one once `count` good backups
 *   are newer than it (a failed backup never takes a good one's place).
 * - By days (Backup for GKE's `retainDays`): a backup expires `days` after it finished
 *   (`expiresAt`), and is pruned at that instant, not a tick later or earlier.
 * - An on-demand backup is pruned only at its own `expiresAt` (none: kept until deleted).
 * - Never pruned, whatever the policy: a backup a restore is reading now, a backup taken
 *   before an upgrade hop until that upgrade has succeeded (it is the way back if the hop fails),
 *   and a backup under Backup for GKE's delete lock until the lock expires.
 */
import type { Provider } from '../catalogue/provider';
import { UnprocessableError } from '../errors/domain-error';

export type BackupPurpose = 'scheduled' | 'on_demand' | 'pre_upgrade';
export type BackupState = 'pending' | 'running' | 'succeeded' | 'failed' | 'expired' | 'deleted';

export interface RetainedBackup {
  id: string;
  purpose: BackupPurpose;
  status: BackupState;
  /** When it finished (null while it runs). */
  completedAt: Date | null;
  createdAt: Date;
  expiresAt: Date | null;
  /** A restore is reading it now. */
  inUseByRestore: boolean;
  /** Pre-upgrade backups: whether the upgrade it guards has succeeded. */
  upgradeSucceeded?: boolean;
  /** Backup for GKE's delete lock: nobody may delete it before this instant. */
  deleteLockedUntil?: Date | null;
}

export interface RetentionPolicy {
  retentionCount: number | null;
  retainDays: number | null;
}

const DAY_MS = 86_400_000;

/** The moment a backup that finished at `completedAt` expires under `retainDays` (null: never by days). */
export function expiryOf(completedAt: Date, retainDays: number | null): Date | null {
  return retainDays === null ? null : new Date(completedAt.getTime() + retainDays * DAY_MS);
}

/**
 * The instant a backup that finished at `completedAt` stops being delete-locked (null: never
 * locked). Backup for GKE counts the lock from the backup's creation; counting from its finish
 * here keeps Capstan's lock at least as long as the provider's, so Capstan never asks the provider
 * for a deletion it must refuse.
 */
export function deleteLockedUntil(completedAt: Date, deleteLockDays: number | null | undefined): Date | null {
  return deleteLockDays ? new Date(completedAt.getTime() + deleteLockDays * DAY_MS) : null;
}

/**
 * Backup for GKE's rules for a delete lock (docs/backups.md, "Delete lock"): RKE2 has no lock (an
 * etcd snapshot file or a Velero backup can always be deleted), and a lock may not outlast the
 * backup's retention in days (GKE: `backupRetainDays` must be at least `backupDeleteLockDays`).
 */
export function assertDeleteLock(provider: Provider, spec: { deleteLockDays: number | null | undefined; retainDays: number | null | undefined }): void {
  if (!spec.deleteLockDays) return;
  if (provider !== 'gke') {
    throw new UnprocessableError('delete-lock-not-supported', `delete locks are Backup for GKE's; ${provider} backups have none`, {
      rule: 'delete locks only on gke',
      provider,
    });
  }
  if (spec.retainDays != null && spec.retainDays < spec.deleteLockDays) {
    throw new UnprocessableError(
      'delete-lock-exceeds-retention',
      `a backup kept for ${spec.retainDays} days cannot be locked against deletion for ${spec.deleteLockDays} days`,
      { rule: 'retain_days must be at least delete_lock_days', retain_days: spec.retainDays, delete_lock_days: spec.deleteLockDays },
    );
  }
}

/** Why a backup is kept whatever the policy says at `now`, or null when retention may remove it. */
export function protectionOf(backup: RetainedBackup, now: Date): string | null {
  if (backup.inUseByRestore) return 'a restore is reading it';
  if (backup.purpose === 'pre_upgrade' && !backup.upgradeSucceeded) return 'it is the way back from an upgrade that has not succeeded yet';
  if (backup.deleteLockedUntil && now.getTime() < backup.deleteLockedUntil.getTime())
    return `it is locked against deletion until ${backup.deleteLockedUntil.toISOString()}`;
  return null;
}

/**
 * The backups of one schedule (or the on-demand and pre-upgrade backups of a cluster, with a null
 * policy) that retention removes at `now`, oldest first. Backups still running are never touched.
 */
export function backupsToPrune(backups: readonly RetainedBackup[], policy: RetentionPolicy | null, now: Date): string[] {
  const finished = backups.filter((b) => (b.status === 'succeeded' || b.status === 'failed') && b.completedAt !== null);
  const prune = new Set<string>();
  for (const b of finished) if (b.expiresAt && b.expiresAt.getTime() <= now.getTime()) prune.add(b.id);
  if (policy?.retentionCount != null) {
    const count = policy.retentionCount;
    const newestFirst = [...finished].sort((a, b) => b.completedAt!.getTime() - a.completedAt!.getTime() || (a.id < b.id ? 1 : -1));
    let goodNewer = 0;
    for (const b of newestFirst) {
      if (b.purpose !== 'scheduled') continue;
      if (b.status === 'succeeded') {
        if (goodNewer >= count) prune.add(b.id);
        goodNewer++;
      } else if (goodNewer >= count) prune.add(b.id);
    }
  }
  return finished
    .filter((b) => prune.has(b.id) && protectionOf(b, now) === null)
    .sort((a, b) => a.completedAt!.getTime() - b.completedAt!.getTime())
    .map((b) => b.id);
}
