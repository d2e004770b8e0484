import { type DB, etagOf } from '@capstan/platform';
import type { Selectable } from 'kysely';

export type BackupRow = Selectable<DB['backups']>;
export type BackupScheduleRow = Selectable<DB['backup_schedules']>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentSchedule(s: BackupScheduleRow) {
  return {
    id: s.id,
    cluster_id: s.cluster_id,
    name: s.name,
    kind: s.kind,
    cron: s.cron,
    time_zone: s.time_zone,
    retention: { count: s.retention_count, days: s.retain_days, delete_lock_days: s.delete_lock_days },
    included_namespaces: s.included_namespaces,
    excluded_namespaces: s.excluded_namespaces,
    label_selector: s.label_selector,
    region: s.region,
    paused: s.paused,
    last_run_at: iso(s.last_run_at),
    next_run_at: s.paused ? null : iso(s.next_run_at),
    etag: etagOf(s.resource_version),
    created_at: s.created_at.toISOString(),
    updated_at: s.updated_at.toISOString(),
  };
}

function presentError(error: unknown): { code: string; message: string } | null {
  if (!error || typeof error !== 'object') return null;
  const e = error as { code?: unknown; message?: unknown };
  return { code: typeof e.code === 'string' ? e.code : 'backup_failed', message: typeof e.message === 'string' ? e.message : 'the backup failed' };
}

export function presentBackup(b: BackupRow) {
  return {
    id: b.id,
    cluster_id: b.cluster_id,
    schedule_id: b.schedule_id,
    kind: b.kind,
    purpose: b.purpose,
    state: b.status,
    region: b.region,
    location: b.location,
    size_bytes: b.size_bytes === null ? null : Number(b.size_bytes),
    cluster_version: b.cluster_version,
    included_namespaces: b.included_namespaces ?? [],
    excluded_namespaces: b.excluded_namespaces ?? [],
    label_selector: b.label_selector,
    operation_id: b.operation_id,
    error: presentError(b.error),
    started_at: iso(b.started_at),
    finished_at: iso(b.completed_at),
    expires_at: iso(b.expires_at),
    delete_locked_until: iso(b.delete_locked_until),
    created_at: b.created_at.toISOString(),
  };
}

export function presentAdminBackup(b: BackupRow) {
  return { ...presentBackup(b), organization_id: b.organization_id };
}
