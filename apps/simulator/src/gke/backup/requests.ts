import { z } from 'zod';

/**
 * Request bodies of the emulated Backup for GKE API, validated as Google documents them
 * (google/cloud/gkebackup/v1): resource ids, the oneof scopes (exactly one member), enums by
 * name or number (a gax client sends numbers), and the refusals the service makes.
 */
const enumOf = <T extends string>(names: readonly T[]) =>
  z.union([z.enum(names as [T, ...T[]]), z.number().int()]).transform((value, ctx) => {
    if (typeof value === 'string') return value;
    const name = names[value];
    if (name === undefined) {
      ctx.addIssue({ code: 'custom', message: `${value} is not one of ${names.join(', ')}` });
      return z.NEVER;
    }
    return name;
  });

/** "1 to 63 lower-case ASCII letters, numbers and dashes, starting with a letter, ending with a letter or number." */
export const RESOURCE_ID = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'namespaces are DNS-1123 labels');
const namespaces = z.object({ namespaces: z.array(dnsLabel).min(1, 'name at least one namespace') });
const labels = z.record(z.string(), z.string()).default({});
const days = z.number().int().min(0).max(90);
export const CLUSTER_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/;

const oneOf = (value: Record<string, unknown>, members: readonly string[]) => members.filter((m) => value[m] !== undefined && value[m] !== false).length;

export const backupPlanInput = z
  .object({
    description: z.string().max(2048).optional(),
    cluster: z.string().regex(CLUSTER_NAME, 'must be projects/*/locations/*/clusters/*'),
    retentionPolicy: z
      .object({ backupDeleteLockDays: days.default(0), backupRetainDays: z.number().int().min(0).max(365).default(0), locked: z.boolean().default(false) })
      .refine((r) => r.backupRetainDays === 0 || r.backupRetainDays >= r.backupDeleteLockDays, 'backupRetainDays must be >= backupDeleteLockDays')
      .optional(),
    labels,
    backupSchedule: z.object({ cronSchedule: z.string().max(200).optional(), paused: z.boolean().default(false) }).optional(),
    deactivated: z.boolean().default(false),
    backupConfig: z
      .object({
        allNamespaces: z.boolean().optional(),
        selectedNamespaces: namespaces.optional(),
        selectedApplications: z.unknown().optional(),
        includeVolumeData: z.boolean().default(false),
        includeSecrets: z.boolean().default(false),
        permissiveMode: z.boolean().default(false),
      })
      .refine(
        (c) => oneOf(c, ['allNamespaces', 'selectedNamespaces', 'selectedApplications']) === 1,
        'backupConfig needs exactly one of allNamespaces, selectedNamespaces, selectedApplications',
      )
      .refine((c) => c.selectedApplications === undefined, 'selectedApplications (ProtectedApplications) is not emulated')
      .optional(),
  })
  .passthrough();
export type BackupPlanInput = z.infer<typeof backupPlanInput>;

export const backupInput = z
  .object({ labels, deleteLockDays: days.optional(), retainDays: z.number().int().min(0).max(365).optional(), description: z.string().max(2048).optional() })
  .passthrough();
export type BackupInput = z.infer<typeof backupInput>;

export const NAMESPACED_RESTORE_MODES = [
  'NAMESPACED_RESOURCE_RESTORE_MODE_UNSPECIFIED',
  'DELETE_AND_RESTORE',
  'FAIL_ON_CONFLICT',
  'MERGE_SKIP_ON_CONFLICT',
  'MERGE_REPLACE_VOLUME_ON_CONFLICT',
  'MERGE_REPLACE_ON_CONFLICT',
] as const;
const VOLUME_POLICIES = [
  'VOLUME_DATA_RESTORE_POLICY_UNSPECIFIED',
  'RESTORE_VOLUME_DATA_FROM_BACKUP',
  'REUSE_VOLUME_HANDLE_FROM_BACKUP',
  'NO_VOLUME_DATA_RESTORATION',
] as const;
const CONFLICT_POLICIES = ['CLUSTER_RESOURCE_CONFLICT_POLICY_UNSPECIFIED', 'USE_EXISTING_VERSION', 'USE_BACKUP_VERSION'] as const;
const groupKind = z.object({ resourceGroup: z.string().default(''), resourceKind: z.string().min(1) });
/** Group kinds RestoreConfig.ClusterResourceRestoreScope refuses: not restorable, or driven by other settings. */
const FORBIDDEN_GROUP_KINDS = new Set([
  '/Node',
  '/ComponentStatus',
  '/Namespace',
  '/PersistentVolume',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
]);

export const restoreConfig = z
  .object({
    volumeDataRestorePolicy: enumOf(VOLUME_POLICIES).default('VOLUME_DATA_RESTORE_POLICY_UNSPECIFIED'),
    clusterResourceConflictPolicy: enumOf(CONFLICT_POLICIES).default('CLUSTER_RESOURCE_CONFLICT_POLICY_UNSPECIFIED'),
    namespacedResourceRestoreMode: enumOf(NAMESPACED_RESTORE_MODES).default('NAMESPACED_RESOURCE_RESTORE_MODE_UNSPECIFIED'),
    clusterResourceRestoreScope: z
      .object({
        selectedGroupKinds: z.array(groupKind).optional(),
        excludedGroupKinds: z.array(groupKind).optional(),
        allGroupKinds: z.boolean().optional(),
        noGroupKinds: z.boolean().optional(),
      })
      .refine(
        (s) => oneOf(s, ['selectedGroupKinds', 'excludedGroupKinds', 'allGroupKinds', 'noGroupKinds']) <= 1,
        'clusterResourceRestoreScope: its fields are mutually exclusive',
      )
      .refine(
        (s) => !(s.selectedGroupKinds ?? []).some((g) => FORBIDDEN_GROUP_KINDS.has(`${g.resourceGroup}/${g.resourceKind}`)),
        'clusterResourceRestoreScope.selectedGroupKinds names a group kind that cannot be selected (Node, ComponentStatus, Namespace, PersistentVolume, CSINode, VolumeAttachment)',
      )
      .optional(),
    allNamespaces: z.boolean().optional(),
    selectedNamespaces: namespaces.optional(),
    selectedApplications: z.unknown().optional(),
    noNamespaces: z.boolean().optional(),
    excludedNamespaces: namespaces.optional(),
    substitutionRules: z.array(z.unknown()).max(0, 'substitutionRules are not emulated').optional(),
    transformationRules: z.array(z.unknown()).max(0, 'transformationRules are not emulated').optional(),
  })
  .passthrough()
  .refine(
    (c) => oneOf(c, ['allNamespaces', 'selectedNamespaces', 'selectedApplications', 'noNamespaces', 'excludedNamespaces']) === 1,
    'restoreConfig needs exactly one of allNamespaces, selectedNamespaces, selectedApplications, noNamespaces, excludedNamespaces',
  )
  .refine((c) => c.selectedApplications === undefined, 'selectedApplications (ProtectedApplications) is not emulated')
  .refine(
    (c) => c.noNamespaces === true || c.namespacedResourceRestoreMode !== 'NAMESPACED_RESOURCE_RESTORE_MODE_UNSPECIFIED',
    'restoreConfig.namespacedResourceRestoreMode is required when namespaced resources are restored',
  )
  .refine(
    (c) =>
      !c.clusterResourceRestoreScope ||
      c.clusterResourceRestoreScope.noGroupKinds === true ||
      c.clusterResourceConflictPolicy !== 'CLUSTER_RESOURCE_CONFLICT_POLICY_UNSPECIFIED',
    'restoreConfig.clusterResourceConflictPolicy is required when cluster-scoped resources are restored',
  );
export type RestoreConfigInput = z.infer<typeof restoreConfig>;

export const restorePlanInput = z
  .object({
    description: z.string().max(2048).optional(),
    backupPlan: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/backupPlans\/[^/]+$/, 'must be projects/*/locations/*/backupPlans/*'),
    cluster: z.string().regex(CLUSTER_NAME, 'must be projects/*/locations/*/clusters/*'),
    restoreConfig,
    labels,
  })
  .passthrough();
export type RestorePlanInput = z.infer<typeof restorePlanInput>;

export const restoreInput = z
  .object({
    description: z.string().max(2048).optional(),
    backup: z
      .string()
      .regex(/^projects\/[^/]+\/locations\/[^/]+\/backupPlans\/[^/]+\/backups\/[^/]+$/, 'must be projects/*/locations/*/backupPlans/*/backups/*'),
    labels,
    filter: z.unknown().optional(),
  })
  .passthrough()
  .refine((r) => r.filter === undefined, 'restore filters are not emulated');
export type RestoreInput = z.infer<typeof restoreInput>;
