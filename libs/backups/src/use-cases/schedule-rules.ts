import { type BackupCron, nextOccurrence, parseLabelSelector, validateBackupCron, ValidationError } from '@capstan/domain';

/** Workload-only fields on an etcd snapshot schedule or backup are refused, naming each. */
export function assertWorkloadFields(
  kind: 'etcd_snapshot' | 'workload',
  fields: { included_namespaces?: string[]; excluded_namespaces?: string[]; label_selector?: string | null },
): void {
  if (fields.label_selector) parseLabelSelector(fields.label_selector);
  if (kind === 'workload') return;
  const set = (['included_namespaces', 'excluded_namespaces', 'label_selector'] as const).filter((f) => {
    const v = fields[f];
    return Array.isArray(v) ? v.length > 0 : v != null;
  });
  if (set.length > 0)
    throw new ValidationError(set.map((field) => ({ field, message: 'is for workload backups only: an etcd snapshot holds the whole control plane' })));
}

/** Retention by count or by days, not both (RKE2 counts snapshots, Backup for GKE counts days). */
export function retentionOf(count: number | null | undefined, days: number | null | undefined): { retention_count: number | null; retain_days: number | null } {
  if (count != null && days != null) throw new ValidationError([{ field: 'retain_days', message: 'give retention_count or retain_days, not both' }]);
  // RKE2's default (`etcd-snapshot-retention`: 5) when neither is given.
  if (count == null && days == null) return { retention_count: 5, retain_days: null };
  return { retention_count: count ?? null, retain_days: days ?? null };
}

export function nextWindow(spec: BackupCron, now: Date): Date | null {
  return nextOccurrence(validateBackupCron(spec), now);
}
