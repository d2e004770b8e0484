import { z } from 'zod';
import { invalidArgument } from './rpc-status';

/**
 * Request bodies of the emulated Container API, validated as GKE validates them, and normalised:
 * google-gax's REST transport sends enums as numbers (`$alt=json;enum-encoding=int`) and leaves
 * out fields at their proto3 default (an enum at 0), while curl users send names; both are read
 * here into names.
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

export const CHANNELS = ['UNSPECIFIED', 'RAPID', 'REGULAR', 'STABLE', 'EXTENDED'] as const;
export const EXCLUSION_SCOPES = ['NO_UPGRADES', 'NO_MINOR_UPGRADES', 'NO_MINOR_OR_NODE_UPGRADES'] as const;
export const TAINT_EFFECTS = ['EFFECT_UNSPECIFIED', 'NO_SCHEDULE', 'PREFER_NO_SCHEDULE', 'NO_EXECUTE'] as const;

/** GKE: "must start with a lowercase letter followed by up to 39 lowercase letters, numbers, or hyphens". */
const clusterName = z.string().regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, 'must be 1 to 40 lower-case letters, digits or hyphens, starting with a letter');
const poolName = clusterName;
const count = z.number().int().min(0).max(1000);
const timestamp = z.string().datetime({ offset: true, message: 'must be an RFC 3339 timestamp' });
const labelKey = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'label keys are lower-case letters, digits, _ and -, starting with a letter');
const labelValue = z.string().regex(/^[a-z0-9_-]{0,63}$/, 'label values are up to 63 lower-case letters, digits, _ and -');
const version = z.string().max(64).optional();

const taint = z
  .object({ key: z.string().min(1).max(253), value: z.string().max(63).default(''), effect: enumOf(TAINT_EFFECTS).default('EFFECT_UNSPECIFIED') })
  .refine((t) => t.effect !== 'EFFECT_UNSPECIFIED', 'taint effect must be NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE');

export const autoscaling = z
  .object({ enabled: z.boolean().default(false), minNodeCount: count.default(0), maxNodeCount: count.default(0) })
  .refine(
    (a) => !a.enabled || (a.maxNodeCount >= 1 && a.minNodeCount <= a.maxNodeCount),
    'autoscaling needs 1 <= maxNodeCount and minNodeCount <= maxNodeCount',
  );

export const upgradeSettings = z
  .object({ maxSurge: count.default(1), maxUnavailable: count.default(0) })
  .refine((u) => u.maxSurge + u.maxUnavailable > 0, 'maxSurge and maxUnavailable cannot both be 0');

const nodeConfig = z.object({
  machineType: z.string().min(1).max(128).default('e2-medium'),
  diskSizeGb: z.number().int().min(10).max(65536).default(100),
  imageType: z.string().min(1).default('COS_CONTAINERD'),
  labels: z.record(z.string(), z.string()).default({}),
  taints: z.array(taint).default([]),
});

export const nodePoolInput = z.object({
  name: poolName,
  config: nodeConfig.optional(),
  initialNodeCount: count.default(0),
  locations: z.array(z.string()).default([]),
  version,
  autoscaling: autoscaling.optional(),
  upgradeSettings: upgradeSettings.optional(),
  management: z.object({ autoUpgrade: z.boolean().default(true), autoRepair: z.boolean().default(true) }).optional(),
});
export type NodePoolInput = z.infer<typeof nodePoolInput>;

const timeWindow = z
  .object({
    startTime: timestamp,
    endTime: timestamp,
    maintenanceExclusionOptions: z.object({ scope: enumOf(EXCLUSION_SCOPES).default('NO_UPGRADES') }).optional(),
  })
  .refine((w) => Date.parse(w.endTime) > Date.parse(w.startTime), 'a time window must end after it starts');

export const maintenancePolicy = z.object({
  window: z
    .object({
      recurringWindow: z
        .object({
          window: timeWindow,
          recurrence: z
            .string()
            .regex(
              /^FREQ=(DAILY|WEEKLY)(;BYDAY=(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*)?$/,
              'must be an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=SA,SU',
            ),
        })
        .optional(),
      dailyMaintenanceWindow: z.object({ startTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM') }).optional(),
      maintenanceExclusions: z
        .record(z.string().regex(/^[-a-zA-Z0-9_.]{1,63}$/, 'exclusion names are up to 63 letters, digits, -, _ and .'), timeWindow)
        .default({}),
    })
    .refine((w) => !(w.recurringWindow && w.dailyMaintenanceWindow), 'set either recurringWindow or dailyMaintenanceWindow, not both')
    .optional(),
  resourceVersion: z.string().optional(),
});
export type MaintenancePolicyInput = z.infer<typeof maintenancePolicy>;

export const createClusterRequest = z.object({
  cluster: z.object({
    name: clusterName,
    description: z.string().max(1024).optional(),
    initialNodeCount: count.optional(),
    nodeConfig: nodeConfig.optional(),
    nodePools: z.array(nodePoolInput).default([]),
    locations: z.array(z.string()).default([]),
    initialClusterVersion: version,
    resourceLabels: z.record(labelKey, labelValue).default({}),
    releaseChannel: z.object({ channel: enumOf(CHANNELS).default('UNSPECIFIED') }).optional(),
    maintenancePolicy: maintenancePolicy.optional(),
    // Only the add-on Capstan sets: the Backup for GKE agent (AddonsConfig.gkeBackupAgentConfig).
    addonsConfig: z.object({ gkeBackupAgentConfig: z.object({ enabled: z.boolean().default(false) }).optional() }).optional(),
    databaseEncryption: z
      .object({
        state: enumOf(['UNKNOWN', 'ENCRYPTED', 'DECRYPTED'] as const),
        keyName: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/),
      })
      .optional(),
  }),
  parent: z.string().optional(),
});
export type CreateClusterInput = z.infer<typeof createClusterRequest>['cluster'];

export const createNodePoolRequest = z.object({ nodePool: nodePoolInput, parent: z.string().optional() });
export const updateMasterRequest = z.object({ masterVersion: z.string().min(1).max(64), name: z.string().optional() });
export const setMaintenancePolicyRequest = z.object({ maintenancePolicy, name: z.string().optional() });
export const setLabelsRequest = z.object({
  resourceLabels: z.record(labelKey, labelValue).default({}),
  labelFingerprint: z.string().min(1, 'labelFingerprint is required: read the cluster and send its labelFingerprint'),
  name: z.string().optional(),
});
export const setNodePoolSizeRequest = z.object({ nodeCount: count, name: z.string().optional() });
export const setNodePoolAutoscalingRequest = z.object({ autoscaling, name: z.string().optional() });

export const updateClusterRequest = z.object({
  update: z
    .object({
      desiredMasterVersion: z.string().max(64).optional(),
      desiredNodeVersion: z.string().max(64).optional(),
      desiredNodePoolId: poolName.optional(),
      desiredReleaseChannel: z.object({ channel: enumOf(CHANNELS).default('UNSPECIFIED') }).optional(),
      desiredNodePoolAutoscaling: autoscaling.optional(),
    })
    .passthrough(),
  name: z.string().optional(),
});
export type ClusterUpdateInput = z.infer<typeof updateClusterRequest>['update'];

export const updateNodePoolRequest = z
  .object({
    nodeVersion: z.string().max(64).optional(),
    imageType: z.string().max(64).optional(),
    labels: z.object({ labels: z.record(z.string(), z.string()).default({}) }).optional(),
    taints: z.object({ taints: z.array(taint).default([]) }).optional(),
    upgradeSettings: upgradeSettings.optional(),
    locations: z.array(z.string()).optional(),
    name: z.string().optional(),
  })
  .passthrough();
export type UpdateNodePoolInput = z.infer<typeof updateNodePoolRequest>;

/** Parses `body` with `schema`, answering INVALID_ARGUMENT with the first problem's field path. */
export function parseRequest<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw invalidArgument(`Invalid value at '${issue.path.join('.') || 'body'}': ${issue.message}`);
}
