import { DEFAULT_BACKUP_CRON } from '@capstan/domain';
import { operationSchema } from './clusters.routes';
import { dnsLabel, etag, idOf, page, paginationQuery, timestamp } from './common.schema';
import { defineRoute } from './route';
import { z } from './zod';

const clusterParams = z.object({ cluster_id: idOf('cl') }).strict();
const scheduleParams = z.object({ cluster_id: idOf('cl'), schedule_id: idOf('bks') }).strict();
const backupParams = z.object({ cluster_id: idOf('cl'), backup_id: idOf('bk') }).strict();

const backupKind = z
  .enum(['etcd_snapshot', 'workload'])
  .openapi({ description: "etcd_snapshot: the control plane's whole state (restored by a cluster reset); workload: namespaces and objects (Velero's model)" });
const backupState = z.enum(['pending', 'running', 'succeeded', 'failed', 'expired', 'deleted']);
const namespaceList = z.array(dnsLabel).max(100);
const labelSelector = z
  .string()
  .min(1)
  .max(1000)
  .openapi({ description: 'Workload backups only: a Kubernetes equality-based selector, e.g. app=web,tier!=cache' });
const cron = z
  .string()
  .min(9)
  .max(100)
  .openapi({ description: 'Five-field cron (minute hour day-of-month month day-of-week), read in time_zone', example: '0 */12 * * *' });
const timeZone = z.string().min(1).max(64).openapi({ description: 'IANA time zone the cron is read in', example: 'Europe/Zurich' });
const retentionCount = z.number().int().min(1).max(1000).openapi({ description: 'Keep the newest N good backups of the schedule' });
const retainDays = z.number().int().min(1).max(3650).openapi({ description: 'Keep each backup N days after it finished' });
const deleteLockDays = z.number().int().min(0).max(90).openapi({
  description: "GKE only (Backup for GKE's delete lock): nobody, nor retention, deletes a backup for this many days after it finished; at most retain_days",
});

export const backupScheduleSchema = z
  .object({
    id: z.string(),
    cluster_id: z.string(),
    name: z.string(),
    kind: backupKind,
    cron: z.string(),
    time_zone: z.string(),
    retention: z.object({ count: z.number().int().nullable(), days: z.number().int().nullable(), delete_lock_days: z.number().int().nullable() }),
    included_namespaces: z.array(z.string()),
    excluded_namespaces: z.array(z.string()),
    label_selector: z.string().nullable(),
    region: z.string(),
    paused: z.boolean(),
    last_run_at: timestamp.nullable().openapi({ description: 'The last window the scheduler handled' }),
    next_run_at: timestamp.nullable().openapi({ description: 'The next window (null while paused)' }),
    etag,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('BackupSchedule');

export const backupSchema = z
  .object({
    id: z.string(),
    cluster_id: z.string(),
    schedule_id: z.string().nullable(),
    kind: backupKind,
    purpose: z.enum(['scheduled', 'on_demand', 'pre_upgrade']),
    state: backupState,
    region: z.string(),
    location: z.string().nullable().openapi({ description: "Where the artefact lives (an object-store URL or the provider's resource name)" }),
    size_bytes: z.number().int().nullable(),
    cluster_version: z.string().openapi({ description: 'The Kubernetes version it was taken at: restores go only onto the same minor' }),
    included_namespaces: z.array(z.string()),
    excluded_namespaces: z.array(z.string()),
    label_selector: z.string().nullable(),
    operation_id: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
    expires_at: timestamp.nullable().openapi({ description: 'When retention removes it (null: by count, or kept until deleted)' }),
    delete_locked_until: timestamp.nullable().openapi({ description: 'GKE delete lock: it cannot be deleted before this instant' }),
    created_at: timestamp,
  })
  .openapi('Backup');

export const createBackupScheduleBody = z
  .object({
    name: dnsLabel,
    kind: backupKind.optional().openapi({ description: 'etcd_snapshot on RKE2 by default; GKE offers workload backups only' }),
    cron: cron.default(DEFAULT_BACKUP_CRON),
    time_zone: timeZone.default('UTC'),
    retention_count: retentionCount.optional(),
    retain_days: retainDays.optional(),
    delete_lock_days: deleteLockDays.optional(),
    included_namespaces: namespaceList.default([]),
    excluded_namespaces: namespaceList.default([]),
    label_selector: labelSelector.optional(),
    region: z.string().min(1).max(64).optional().openapi({ description: "Where backups are stored; the cluster's region by default" }),
    paused: z.boolean().default(false),
  })
  .strict()
  .openapi('CreateBackupScheduleRequest');

export const updateBackupScheduleBody = z
  .object({
    cron: cron.optional(),
    time_zone: timeZone.optional(),
    retention_count: retentionCount.nullable().optional(),
    retain_days: retainDays.nullable().optional(),
    delete_lock_days: deleteLockDays.nullable().optional(),
    included_namespaces: namespaceList.optional(),
    excluded_namespaces: namespaceList.optional(),
    label_selector: labelSelector.nullable().optional(),
    paused: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change')
  .openapi('UpdateBackupScheduleRequest');

export const createBackupBody = z
  .object({
    kind: backupKind.optional().openapi({ description: 'etcd_snapshot on RKE2 by default; GKE offers workload backups only' }),
    included_namespaces: namespaceList.default([]),
    excluded_namespaces: namespaceList.default([]),
    label_selector: labelSelector.optional(),
    retain_days: retainDays.optional().openapi({ description: 'Remove it this many days after it finished; kept until deleted without' }),
    delete_lock_days: deleteLockDays.optional(),
  })
  .strict()
  .openapi('CreateBackupRequest');

export const restoreBody = z
  .object({
    backup_id: idOf('bk'),
    scope: z.enum(['control_plane', 'workloads']),
    target_cluster_id: idOf('cl').optional().openapi({ description: 'Workloads only: another cluster of your organisation; this cluster by default' }),
    namespaces: namespaceList.default([]).openapi({ description: 'Workloads only: restore just these namespaces; everything the backup holds by default' }),
  })
  .strict()
  .openapi('RestoreRequest');

const backupAccepted = z.object({ backup: backupSchema, operation: operationSchema }).openapi('BackupOperation');

export const createBackupSchedule = defineRoute({
  operationId: 'createBackupSchedule',
  method: 'POST',
  path: '/v1/clusters/{cluster_id}/backup-schedules',
  summary: 'Schedule backups of a cluster (cron in its own time zone, retention by count or days)',
  description:
    'Without retention the schedule keeps the newest 5 good backups (RKE2 default). Missed windows (Capstan down) run once, not once each. ' +
    'Namespaces and label_selector are for workload schedules only. A region outside your residency is refused with 422. ' +
    'RKE2 workload backups and restores need the velero add-on on the cluster (PUT .../addons/velero), else 422 velero-addon-required. ' +
    'delete_lock_days is GKE only (422 delete-lock-not-supported) and at most retain_days (422 delete-lock-exceeds-retention).',
  tags: ['Backups'],
  access: 'customer:write',
  params: clusterParams,
  body: createBackupScheduleBody,
  idempotent: true,
  responses: {
    201: {
      description: 'The schedule',
      schema: backupScheduleSchema,
      headers: { Location: 'The new schedule (/v1/clusters/{cluster_id}/backup-schedules/{schedule_id})' },
    },
  },
  errors: [409, 422],
});

export const listBackupSchedules = defineRoute({
  operationId: 'listBackupSchedules',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/backup-schedules',
  summary: "A cluster's backup schedules, oldest first",
  tags: ['Backups'],
  access: 'customer:read',
  params: clusterParams,
  query: z.object(paginationQuery).strict(),
  responses: { 200: { description: 'A page of schedules', schema: page(backupScheduleSchema, 'BackupSchedulePage') } },
});

export const getBackupSchedule = defineRoute({
  operationId: 'getBackupSchedule',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/backup-schedules/{schedule_id}',
  summary: 'One backup schedule',
  tags: ['Backups'],
  access: 'customer:read',
  params: scheduleParams,
  responses: { 200: { description: 'The schedule', schema: backupScheduleSchema } },
});

export const updateBackupSchedule = defineRoute({
  operationId: 'updateBackupSchedule',
  method: 'PATCH',
  path: '/v1/clusters/{cluster_id}/backup-schedules/{schedule_id}',
  summary: "Change a schedule's cron, zone, retention, scope or pause it",
  tags: ['Backups'],
  access: 'customer:write',
  params: scheduleParams,
  body: updateBackupScheduleBody,
  conditional: true,
  responses: { 200: { description: 'The schedule', schema: backupScheduleSchema } },
  errors: [409, 412, 422],
});

export const deleteBackupSchedule = defineRoute({
  operationId: 'deleteBackupSchedule',
  method: 'DELETE',
  path: '/v1/clusters/{cluster_id}/backup-schedules/{schedule_id}',
  summary: 'Stop a schedule; the backups it took stay until their retention removes them',
  tags: ['Backups'],
  access: 'customer:write',
  params: scheduleParams,
  responses: { 204: { description: 'Deleted' } },
});

export const createBackup = defineRoute({
  operationId: 'createBackup',
  method: 'POST',
  path: '/v1/clusters/{cluster_id}/backups',
  summary: 'Take a backup now (an operation)',
  description: 'RKE2 workload backups and restores need the velero add-on on the cluster (PUT .../addons/velero), else 422 velero-addon-required.',
  tags: ['Backups'],
  access: 'customer:write',
  params: clusterParams,
  body: createBackupBody,
  idempotent: true,
  responses: {
    202: {
      description: 'Accepted: follow the operation',
      schema: backupAccepted,
      headers: { Location: 'The new backup (/v1/clusters/{cluster_id}/backups/{backup_id})' },
    },
  },
  errors: [409, 422],
});

export const listBackups = defineRoute({
  operationId: 'listBackups',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/backups',
  summary: "A cluster's backups, newest first",
  tags: ['Backups'],
  access: 'customer:read',
  params: clusterParams,
  query: z.object({ ...paginationQuery, state: backupState.optional(), schedule_id: idOf('bks').optional() }).strict(),
  responses: { 200: { description: 'A page of backups', schema: page(backupSchema, 'BackupPage') } },
});

export const getBackup = defineRoute({
  operationId: 'getBackup',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/backups/{backup_id}',
  summary: 'One backup: state, size, started/finished, location, expiry',
  tags: ['Backups'],
  access: 'customer:read',
  params: backupParams,
  responses: { 200: { description: 'The backup', schema: backupSchema } },
});

export const deleteBackup = defineRoute({
  operationId: 'deleteBackup',
  method: 'DELETE',
  path: '/v1/clusters/{cluster_id}/backups/{backup_id}',
  summary: 'Delete an on-demand backup',
  description:
    'The backup expires now and the worker removes it at the provider (its state becomes deleted). Scheduled and pre-upgrade backups ' +
    'are removed by their retention only (422); a backup still running, read by a restore or under its GKE delete lock (backup-delete-locked) is refused with 409.',
  tags: ['Backups'],
  access: 'customer:write',
  params: backupParams,
  responses: { 202: { description: 'Accepted: it is removed shortly', schema: backupSchema } },
  errors: [409, 422],
});

export const restoreBackup = defineRoute({
  operationId: 'restoreBackup',
  method: 'POST',
  path: '/v1/clusters/{cluster_id}/restore',
  summary: "Restore one of the cluster's backups (an operation)",
  description:
    'control_plane: an etcd snapshot restored into its own cluster (status restoring, then running). workloads: a workload backup into this ' +
    'cluster or another of your organisation in the same residency. Never across organisations (404), residency or Kubernetes minors (422). ' +
    'Into an RKE2 cluster, workloads need the velero add-on there (422 velero-addon-required); a snapshot kept on the nodes of a deleted cluster is gone (422 backup-not-restorable).',
  tags: ['Backups'],
  access: 'customer:write',
  params: clusterParams,
  body: restoreBody,
  idempotent: true,
  responses: { 202: { description: 'Accepted: follow the operation', schema: z.object({ operation: operationSchema }).openapi('RestoreAccepted') } },
  errors: [409, 422],
});

const adminBackupSchema = backupSchema.extend({ organization_id: z.string() }).openapi('AdminBackup');

export const adminListBackups = defineRoute({
  operationId: 'adminListBackups',
  method: 'GET',
  path: '/admin/v1/backups',
  summary: 'Backups across the fleet, newest first (e.g. ?state=failed)',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ ...paginationQuery, state: backupState.optional(), organization_id: idOf('org').optional(), cluster_id: idOf('cl').optional() }).strict(),
  responses: { 200: { description: 'A page of backups', schema: page(adminBackupSchema, 'AdminBackupPage') } },
});

export const backupHealthSchema = z
  .object({
    cluster_id: z.string(),
    organization_id: z.string(),
    last_good_backup_at: timestamp.nullable(),
    age_seconds: z.number().int().nullable().openapi({ description: 'Age of the last good backup; null when there is none' }),
    schedule_interval_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The longest gap between the windows of the cluster's most frequent active schedule" }),
    stale: z.boolean().openapi({ description: 'The last good backup is older than twice the schedule interval' }),
  })
  .openapi('BackupHealth');

export const adminBackupHealth = defineRoute({
  operationId: 'adminBackupHealth',
  method: 'GET',
  path: '/admin/v1/backup-health',
  summary: 'The age of the last good backup of every cluster with a backup schedule, stalest first',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ stale: z.enum(['true', 'false']).optional(), limit: paginationQuery.limit }).strict(),
  responses: { 200: { description: 'Per cluster', schema: z.object({ items: z.array(backupHealthSchema) }).openapi('BackupHealthList') } },
});
