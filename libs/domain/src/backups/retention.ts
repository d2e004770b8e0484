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
 * - Never pruned, whatever the policy: a backup a restore is reading now, and a backup taken
 *   before an upgrade hop until that upgrade has succeeded (it is the way back if the hop fails).
 */
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

/** Why a backup is kept whatever the policy says, or null when retention may remove it. */
export function protectionOf(backup: RetainedBackup): string | null {
  if (backup.inUseByRestore) return 'a restore is reading it';
  if (backup.purpose === 'pre_upgrade' && !backup.upgradeSucceeded) return 'it is the way back from an upgrade that has not succeeded yet';
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
    .filter((b) => prune.has(b.id) && protectionOf(b) === null)
    .sort((a, b) => a.completedAt!.getTime() - b.completedAt!.getTime())
    .map((b) => b.id);
}
