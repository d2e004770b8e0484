import { isLabelKey, isLabelValue } from '@capstan/domain';
import { dnsLabel, etag, idOf, labels, noInputBody, page, paginationQuery, timestamp } from './common.schema';
import { defineRoute } from './route';
import { printableText } from './text.schema';
import { z } from './zod';

export const providerSchema = z
  .enum(['rke2', 'gke'])
  .openapi({ description: "rke2: the provider's own infrastructure (99.5% SLA); gke: Managed GKE (99.95% SLA)" });
const clusterStatus = z.enum(['provisioning', 'running', 'updating', 'upgrading', 'restoring', 'degraded', 'error', 'deleting', 'deleted']);
const nodePoolStatus = z.enum(['provisioning', 'running', 'updating', 'upgrading', 'error', 'deleting', 'deleted']);
const operationStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'needs_attention']);
const operationType = z.enum([
  'create_cluster',
  'update_cluster',
  'delete_cluster',
  'create_node_pool',
  'update_node_pool',
  'delete_node_pool',
  'scale_node_pool',
  'upgrade_cluster',
  'rotate_credentials',
  'create_backup',
  'restore_backup',
  'update_addons',
]);
const day = z.enum(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']);

const taint = z
  .object({
    // A taint's key and value follow the syntax of a label's (Kubernetes validates them alike).
    key: z.string().min(1).max(253).refine(isLabelKey, 'is not a valid taint key: [prefix/]name as for label keys'),
    value: z.string().max(63).default('').refine(isLabelValue, 'is not a valid taint value: as for label values'),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  })
  .strict();

// The bounds are checked together here, so a create and a PATCH refuse min > max alike (a 400).
const autoscaling = z
  .object({ min: z.number().int().min(0).max(1000), max: z.number().int().min(1).max(1000) })
  .strict()
  .refine((bounds) => bounds.min <= bounds.max, { path: ['min'], message: 'must not exceed autoscaling.max' });

/** Either a fixed `count` or `autoscaling` bounds: the surge rules then apply per upgrade. */
export const nodePoolSpec = z
  .object({
    name: dnsLabel,
    machine_type: z.string().min(1).max(63),
    count: z.number().int().min(1).max(1000).optional(),
    autoscaling: autoscaling.optional(),
    labels: labels.optional(),
    taints: z.array(taint).max(50).optional(),
    max_surge: z.number().int().min(0).max(100).default(1),
    max_unavailable: z.number().int().min(0).max(100).default(0),
  })
  .strict()
  .superRefine((pool, ctx) => {
    if ((pool.count === undefined) === (pool.autoscaling === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['count'], message: 'give either count or autoscaling' });
    }
    if (pool.max_surge === 0 && pool.max_unavailable === 0) {
      ctx.addIssue({ code: 'custom', path: ['max_surge'], message: 'max_surge and max_unavailable cannot both be 0' });
    }
  })
  .openapi('NodePoolSpec');

export const maintenanceWindow = z
  .object({
    time_zone: z
      .string()
      .min(1)
      .max(64)
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone such as Europe/Zurich'),
    days: z
      .array(day)
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, 'must not repeat a day'),
    start_time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
    duration_minutes: z.number().int().min(240, 'must be at least 240 (4 hours)').max(1440),
  })
  .strict()
  .openapi('MaintenanceWindow', { description: 'Recurring window (RFC 5545 BYDAY style) in which automatic maintenance may run' });

export const createClusterBody = z
  .object({
    name: dnsLabel,
    provider: providerSchema,
    region: z.string().min(1).max(63),
    version: z
      .string()
      .max(32)
      .regex(/^v?\d+\.\d+(\.\d+(-gke\.\d+|\+rke2r\d+)?)?$/, 'must be a Kubernetes version such as 1.35, 1.35.4, v1.35.4+rke2r1 or 1.35.4-gke.1200')
      .optional()
      .openapi({
        description:
          "A minor, or its latest patch in the provider's own spelling (RKE2 `v1.36.4+rke2r1`; GKE `1.35.8-gke.1225000` or its alias `1.35.8`); the default version without it",
      }),
    release_channel: z.enum(['rapid', 'regular', 'stable', 'extended']).default('regular'),
    auto_upgrade: z.boolean().default(true),
    deletion_protection: z.boolean().default(false),
    labels: labels.default({}),
    maintenance_window: maintenanceWindow.optional(),
    node_pools: z
      .array(nodePoolSpec)
      .min(1)
      .max(10)
      .refine((pools) => new Set(pools.map((p) => p.name)).size === pools.length, 'node pool names must be unique'),
  })
  .strict()
  .openapi('CreateClusterRequest');

export const updateClusterBody = z
  .object({
    labels: labels.optional(),
    auto_upgrade: z.boolean().optional(),
    deletion_protection: z.boolean().optional(),
    release_channel: z.enum(['rapid', 'regular', 'stable', 'extended']).optional(),
    maintenance_window: maintenanceWindow.nullable().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change')
  .openapi('UpdateClusterRequest');

export const nodePoolSchema = z
  .object({
    id: z.string(),
    cluster_id: z.string(),
    name: z.string(),
    machine_type: z.string(),
    count: z.number().int(),
    autoscaling: z.object({ min: z.number().int(), max: z.number().int() }).nullable(),
    version: z.string(),
    labels: z.record(z.string(), z.string()),
    taints: z.array(z.object({ key: z.string(), value: z.string(), effect: z.string() })),
    max_surge: z.number().int(),
    max_unavailable: z.number().int(),
    status: nodePoolStatus,
    etag,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('NodePool');

export const clusterSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    provider: providerSchema,
    region: z.string(),
    release_channel: z.string(),
    status: clusterStatus.openapi({
      description:
        'What the cluster is doing. An operation sets provisioning, updating, upgrading, restoring, deleting and error while it runs or when it fails. ' +
        'degraded: the SLA monitor saw the API server down for several consecutive minutes (3 by default); ' +
        'it goes back to running once a probe minute is up again. An operation that ends while the monitor still sees the API server down leaves the cluster degraded, not running. ' +
        'A degraded cluster accepts every change but an upgrade.',
    }),
    status_reason: z.string().nullable().openapi({
      description:
        'Why the cluster is in its status, when there is more to say: for degraded, what failed and since when (e.g. "API server unreachable since 2026-12-06T05:20Z (down 3 consecutive minutes)"). Null when there is nothing to add (a running cluster).',
    }),
    degraded_since: z.string().datetime().nullable().openapi({
      description:
        'While the cluster is degraded: since when the SLA monitor has seen its API server unreachable (the start of the run of down minutes, to the minute). Null in every other status.',
      example: '2026-12-06T05:20:00.000Z',
    }),
    current_version: z.string(),
    desired_version: z.string(),
    endpoint: z.string().nullable(),
    auto_upgrade: z.boolean(),
    deletion_protection: z.boolean(),
    labels: z.record(z.string(), z.string()),
    sla: z.object({ target_percent: z.number() }),
    maintenance_window: maintenanceWindow.nullable(),
    node_pools: z.array(nodePoolSchema),
    warnings: z.array(z.string()).optional(),
    etag,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Cluster');

export const operationSchema = z
  .object({
    id: z.string(),
    type: operationType,
    status: operationStatus,
    target: z.object({ type: z.string(), id: z.string() }),
    cluster_id: z.string().nullable(),
    progress: z.number().int().min(0).max(100),
    steps: z.array(
      z.object({
        name: z.string(),
        status: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'compensated']),
        attempts: z.number().int(),
        started_at: timestamp.nullable(),
        finished_at: timestamp.nullable(),
        error: z.unknown().nullable().openapi({
          description: "The last attempt's error ({code, message}); on a step that then succeeded, the error of an earlier attempt that was retried",
        }),
        progress: z
          .object({
            summary: z.string().openapi({ description: 'Where the provider stands, e.g. "1 of 2 machines at 1.36.5; draining node ..."' }),
            nodes: z
              .array(
                z.object({
                  machine: z.string(),
                  node: z.string().nullable(),
                  version: z.string().nullable(),
                  state: z.enum(['waiting', 'draining', 'removing', 'joining', 'ready']),
                }),
              )
              .optional(),
          })
          .nullable()
          .optional()
          .openapi({ description: 'Node-level progress of a step that follows a provider rollout, while it runs and as it ended' }),
      }),
    ),
    error: z.object({ code: z.string(), message: z.string() }).catchall(z.unknown()).nullable(),
    requested_by: z.object({ type: z.string(), id: z.string() }),
    cancel_requested: z.boolean(),
    created_at: timestamp,
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
  })
  .openapi('Operation');

const clusterAccepted = z.object({ cluster: clusterSchema, operation: operationSchema }).openapi('ClusterOperation');
const nodePoolAccepted = z.object({ node_pool: nodePoolSchema, operation: operationSchema }).openapi('NodePoolOperation');
const accepted = z.object({ operation: operationSchema }).openapi('OperationAccepted');

const clusterParams = z.object({ cluster_id: idOf('cl') }).strict();
const poolParams = z.object({ cluster_id: idOf('cl'), node_pool_id: idOf('np') }).strict();

export const createCluster = defineRoute({
  operationId: 'createCluster',
  method: 'POST',
  path: '/v1/clusters',
  summary: 'Create a cluster with its node pools',
  description: 'Answers 202 with the cluster (status provisioning) and the operation creating it.',
  tags: ['Clusters'],
  access: 'customer:write',
  body: createClusterBody,
  idempotent: true,
  responses: {
    202: { description: 'Accepted: follow the operation', schema: clusterAccepted, headers: { Location: 'The new cluster (/v1/clusters/{cluster_id})' } },
  },
  errors: [409, 422],
});

export const listClusters = defineRoute({
  operationId: 'listClusters',
  method: 'GET',
  path: '/v1/clusters',
  summary: 'List clusters, oldest first',
  tags: ['Clusters'],
  access: 'customer:read',
  query: z
    .object({
      ...paginationQuery,
      status: clusterStatus.optional(),
      provider: providerSchema.optional(),
      label_selector: z.string().max(1000).optional().openapi({ description: 'Kubernetes equality-based selector, e.g. env=prod,tier!=web' }),
    })
    .strict(),
  responses: { 200: { description: 'A page of clusters', schema: page(clusterSchema, 'ClusterPage') } },
});

export const getCluster = defineRoute({
  operationId: 'getCluster',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}',
  summary: 'One cluster',
  tags: ['Clusters'],
  access: 'customer:read',
  params: clusterParams,
  responses: { 200: { description: 'The cluster', schema: clusterSchema } },
});

export const updateCluster = defineRoute({
  operationId: 'updateCluster',
  method: 'PATCH',
  path: '/v1/clusters/{cluster_id}',
  summary: "Change a cluster's settings (labels, auto-upgrade, deletion protection, channel, maintenance window)",
  description:
    "Answers 200 with the cluster when the change is Capstan's alone. A change the provider must apply (on gke: the release channel, " +
    "the maintenance window and the labels, which GKE holds as the cluster's own) answers 202 with the cluster (status updating) and " +
    'the `update_cluster` operation applying it; such a change is refused with 409 while another operation holds the cluster, ' +
    'or while its status accepts no update_cluster.',
  tags: ['Clusters'],
  access: 'customer:write',
  params: clusterParams,
  body: updateClusterBody,
  conditional: true,
  idempotent: true,
  responses: {
    200: { description: 'The cluster: nothing had to reach the provider', schema: clusterSchema },
    202: { description: 'Accepted: the provider applies the change; follow the operation', schema: clusterAccepted },
  },
  errors: [409, 412],
});

export const deleteCluster = defineRoute({
  operationId: 'deleteCluster',
  method: 'DELETE',
  path: '/v1/clusters/{cluster_id}',
  summary: 'Delete a cluster (refused while deletion protection is on)',
  tags: ['Clusters'],
  access: 'customer:write',
  params: clusterParams,
  idempotent: true,
  responses: { 202: { description: 'Accepted: follow the operation', schema: accepted } },
  errors: [409],
});

export const listNodePools = defineRoute({
  operationId: 'listNodePools',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/node-pools',
  summary: "A cluster's node pools",
  tags: ['Node pools'],
  access: 'customer:read',
  params: clusterParams,
  query: z.object(paginationQuery).strict(),
  responses: { 200: { description: 'A page of node pools', schema: page(nodePoolSchema, 'NodePoolPage') } },
});

export const createNodePool = defineRoute({
  operationId: 'createNodePool',
  method: 'POST',
  path: '/v1/clusters/{cluster_id}/node-pools',
  summary: 'Add a node pool',
  tags: ['Node pools'],
  access: 'customer:write',
  params: clusterParams,
  body: nodePoolSpec,
  idempotent: true,
  responses: {
    202: {
      description: 'Accepted: follow the operation',
      schema: nodePoolAccepted,
      headers: { Location: 'The new node pool (/v1/clusters/{cluster_id}/node-pools/{node_pool_id})' },
    },
  },
  errors: [409, 422],
});

export const getNodePool = defineRoute({
  operationId: 'getNodePool',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/node-pools/{node_pool_id}',
  summary: 'One node pool',
  tags: ['Node pools'],
  access: 'customer:read',
  params: poolParams,
  responses: { 200: { description: 'The node pool', schema: nodePoolSchema } },
});

export const updateNodePool = defineRoute({
  operationId: 'updateNodePool',
  method: 'PATCH',
  path: '/v1/clusters/{cluster_id}/node-pools/{node_pool_id}',
  summary: 'Scale a node pool or change its labels, taints and surge settings',
  tags: ['Node pools'],
  access: 'customer:write',
  params: poolParams,
  conditional: true,
  idempotent: true,
  body: z
    .object({
      count: z.number().int().min(1).max(1000).optional(),
      autoscaling: autoscaling.nullable().optional(),
      labels: labels.optional(),
      taints: z.array(taint).max(50).optional(),
      max_surge: z.number().int().min(0).max(100).optional(),
      max_unavailable: z.number().int().min(0).max(100).optional(),
    })
    .strict()
    .refine((body) => Object.keys(body).length > 0, 'give at least one field to change')
    .superRefine((body, ctx) => {
      // The same rules as at create (autoscaling bounds are checked by their own schema); a value
      // left out is checked against the pool's own in the use case.
      if (body.max_surge === 0 && body.max_unavailable === 0) {
        ctx.addIssue({ code: 'custom', path: ['max_surge'], message: 'max_surge and max_unavailable cannot both be 0' });
      }
    })
    .openapi('UpdateNodePoolRequest'),
  responses: { 202: { description: 'Accepted: follow the operation', schema: nodePoolAccepted } },
  errors: [409, 412, 422],
});

export const deleteNodePool = defineRoute({
  operationId: 'deleteNodePool',
  method: 'DELETE',
  path: '/v1/clusters/{cluster_id}/node-pools/{node_pool_id}',
  summary: 'Delete a node pool (its nodes are drained first)',
  tags: ['Node pools'],
  access: 'customer:write',
  params: poolParams,
  idempotent: true,
  responses: { 202: { description: 'Accepted: follow the operation', schema: accepted } },
  errors: [409],
});

const exclusionScope = z.enum(['no_upgrades', 'no_minor_upgrades', 'no_minor_or_node_upgrades']).openapi({
  description:
    'no_upgrades: no automatic upgrade at all; no_minor_upgrades: patches only; no_minor_or_node_upgrades: control-plane patches only (node pools untouched)',
});

export const createMaintenanceExclusionBody = z
  .object({
    name: dnsLabel,
    scope: exclusionScope,
    starts_at: timestamp,
    ends_at: timestamp,
  })
  .strict()
  .openapi('CreateMaintenanceExclusionRequest');

export const maintenanceExclusionSchema = z
  .object({
    id: z.string(),
    cluster_id: z.string(),
    name: z.string(),
    scope: exclusionScope,
    starts_at: timestamp,
    ends_at: timestamp,
    created_at: timestamp,
    overrides: z
      .array(
        z.object({
          at: timestamp,
          operation_id: z.string().nullable(),
          advisory_id: z.string().nullable(),
          reason: z.string().nullable(),
        }),
      )
      .openapi({
        description:
          "Staff's critical-security upgrades that ran over this exclusion while it was in force (the cluster.exclusion_override audit events), oldest first",
      }),
  })
  .openapi('MaintenanceExclusion');

const exclusionAccepted = z.object({ maintenance_exclusion: maintenanceExclusionSchema, operation: operationSchema }).openapi('MaintenanceExclusionOperation');
const exclusionParams = z.object({ cluster_id: idOf('cl'), exclusion_id: idOf('mx') }).strict();

const providerApplies =
  "On gke, where GKE holds the exclusions in the cluster's maintenance policy, the change answers 202 with the `update_cluster` " +
  'operation applying it (the cluster is updating until it is done; 409 while another operation holds the cluster). On rke2 only Capstan ' +
  'honours exclusions and the change is complete at once.';

export const listMaintenanceExclusions = defineRoute({
  operationId: 'listMaintenanceExclusions',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/maintenance-exclusions',
  summary: "A cluster's maintenance exclusions, earliest start first (ended ones included)",
  tags: ['Clusters'],
  access: 'customer:read',
  params: clusterParams,
  responses: { 200: { description: 'The exclusions', schema: z.object({ items: z.array(maintenanceExclusionSchema) }).openapi('MaintenanceExclusionList') } },
});

export const createMaintenanceExclusion = defineRoute({
  operationId: 'createMaintenanceExclusion',
  method: 'POST',
  path: '/v1/clusters/{cluster_id}/maintenance-exclusions',
  summary: 'Add a maintenance exclusion: a span in which automatic upgrades of its scope do not start',
  description:
    'Refused with 422 naming the rule when it ends in the past, overlaps an exclusion of the same scope, or (on gke) breaks a limit of ' +
    "GKE's: no_upgrades at most 30 days, at most 3 in any 32 days, leaving 48 h of maintenance window in any 32 days; the other scopes " +
    "end at the latest when the cluster's version leaves support. Names are unique per cluster (409). " +
    providerApplies,
  tags: ['Clusters'],
  access: 'customer:write',
  params: clusterParams,
  body: createMaintenanceExclusionBody,
  idempotent: true,
  responses: {
    201: {
      description: 'The exclusion (rke2: Capstan alone honours it)',
      schema: maintenanceExclusionSchema,
      headers: { Location: 'The new exclusion (/v1/clusters/{cluster_id}/maintenance-exclusions/{exclusion_id})' },
    },
    202: {
      description: 'Accepted: GKE applies the exclusion; follow the operation',
      schema: exclusionAccepted,
      headers: { Location: 'The new exclusion (/v1/clusters/{cluster_id}/maintenance-exclusions/{exclusion_id})' },
    },
  },
  errors: [409, 422],
});

export const getMaintenanceExclusion = defineRoute({
  operationId: 'getMaintenanceExclusion',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/maintenance-exclusions/{exclusion_id}',
  summary: 'One maintenance exclusion',
  tags: ['Clusters'],
  access: 'customer:read',
  params: exclusionParams,
  responses: { 200: { description: 'The exclusion', schema: maintenanceExclusionSchema } },
});

export const deleteMaintenanceExclusion = defineRoute({
  operationId: 'deleteMaintenanceExclusion',
  method: 'DELETE',
  path: '/v1/clusters/{cluster_id}/maintenance-exclusions/{exclusion_id}',
  summary: 'Remove a maintenance exclusion',
  description: providerApplies,
  tags: ['Clusters'],
  access: 'customer:write',
  params: exclusionParams,
  idempotent: true,
  responses: {
    204: { description: 'Deleted (rke2)' },
    202: { description: 'Accepted: GKE removes the exclusion; follow the operation', schema: accepted },
  },
  errors: [409],
});

export const getKubeconfig = defineRoute({
  operationId: 'getKubeconfig',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/kubeconfig',
  summary: 'A kubeconfig with a short-lived credential (audited)',
  description: 'The credential expires after expiry_seconds (default 1 hour, at most 24 hours). Each download is recorded in the audit log.',
  tags: ['Clusters'],
  access: 'customer:write',
  params: clusterParams,
  query: z.object({ expiry_seconds: z.coerce.number().int().min(600).max(86_400).default(3_600) }).strict(),
  responses: {
    200: {
      description: 'The kubeconfig (YAML)',
      contentType: 'application/yaml',
      headers: { 'Cache-Control': '`no-store`: the kubeconfig carries a credential that no cache may keep' },
    },
  },
  errors: [409],
});

const operationsQuery = z
  .object({ ...paginationQuery, cluster_id: idOf('cl').optional(), status: operationStatus.optional(), type: operationType.optional() })
  .strict();

export const listOperations = defineRoute({
  operationId: 'listOperations',
  method: 'GET',
  path: '/v1/operations',
  summary: 'Long-running operations, newest first',
  tags: ['Operations'],
  access: 'customer:read',
  query: operationsQuery,
  responses: { 200: { description: 'A page of operations', schema: page(operationSchema, 'OperationPage') } },
});

export const getOperation = defineRoute({
  operationId: 'getOperation',
  method: 'GET',
  path: '/v1/operations/{operation_id}',
  summary: 'One operation, with its steps',
  tags: ['Operations'],
  access: 'customer:read',
  params: z.object({ operation_id: idOf('op') }).strict(),
  responses: { 200: { description: 'The operation', schema: operationSchema } },
});

export const cancelOperation = defineRoute({
  operationId: 'cancelOperation',
  method: 'POST',
  path: '/v1/operations/{operation_id}/cancel',
  summary: 'Cancel an operation: a pending one at once, a running one at its next step boundary',
  description:
    'A finished operation is a 409 `operation-finished`; an `update_cluster` is a 409 `operation-not-cancellable` ' +
    '(it applies settings already saved: change them back with another PATCH of the cluster).',
  tags: ['Operations'],
  access: 'customer:write',
  params: z.object({ operation_id: idOf('op') }).strict(),
  body: noInputBody,
  responses: { 200: { description: 'The operation', schema: operationSchema } },
  errors: [409],
});

export const resumeOperation = defineRoute({
  operationId: 'resumeOperation',
  method: 'POST',
  path: '/v1/operations/{operation_id}/resume',
  summary: 'Continue an operation that needs attention (e.g. after relaxing the PodDisruptionBudget that blocked a drain)',
  description:
    'The operation goes back to the workers and resumes at the step that paused, which looks again at where the provider stands. ' +
    'Only an operation in `needs_attention` resumes; anything else is a 409 naming the rule.',
  tags: ['Operations'],
  access: 'customer:write',
  params: z.object({ operation_id: idOf('op') }).strict(),
  body: noInputBody,
  responses: { 200: { description: 'The operation, pending again', schema: operationSchema } },
  errors: [409],
});

// ------------------------------------------------------------------ staff

export const adminClusterSchema = clusterSchema
  .extend({
    organization_id: z.string(),
    support: z
      .object({
        status: z.enum(['eol', 'deprecated', 'supported', 'unknown']).openapi({
          description: 'What the support filter matches; unknown when the catalogue has no entry for the minor',
        }),
        state: z
          .enum(['preview', 'supported', 'maintenance', 'deprecated', 'eol'])
          .nullable()
          .openapi({ description: "The catalogue's state of the minor today" }),
        end_of_support_at: z.string().nullable().openapi({ description: 'The end-of-support day (YYYY-MM-DD) of the minor', example: '2027-02-28' }),
      })
      .openapi({ description: "Where the control plane's version stands in the provider's version catalogue today" }),
  })
  .openapi('AdminCluster');

export const adminListClusters = defineRoute({
  operationId: 'adminListClusters',
  method: 'GET',
  path: '/admin/v1/clusters',
  summary: 'Clusters across every organisation',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z
    .object({
      ...paginationQuery,
      organization_id: idOf('org').optional(),
      status: clusterStatus.optional(),
      provider: providerSchema.optional(),
      q: z.string().max(63).optional(),
      version: z
        .string()
        .max(32)
        .regex(/^\d+\.\d+(\.\d+)?$/, 'must be a minor (1.31) or a version (1.31.4)')
        .optional()
        .openapi({
          description: 'Only clusters whose control plane runs this minor (1.31: any patch) or this version (1.31.4), e.g. a minor past its end of support',
        }),
      support: z
        .enum(['eol', 'deprecated', 'supported'])
        .optional()
        .openapi({
          description:
            "Only clusters whose control plane's minor is, in the provider's version catalogue today: past end of support (eol), " +
            'in maintenance mode or past standard support (deprecated: end of support is near), or supported (preview included)',
        }),
    })
    .strict(),
  responses: { 200: { description: 'A page of clusters', schema: page(adminClusterSchema, 'AdminClusterPage') } },
});

export const adminListOperations = defineRoute({
  operationId: 'adminListOperations',
  method: 'GET',
  path: '/admin/v1/operations',
  summary: 'Operations across every organisation (e.g. status=failed)',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: operationsQuery
    .extend({
      organization_id: idOf('org').optional(),
      created_before: timestamp.optional().openapi({
        description: 'Only operations created before this instant (RFC 3339); with status=running or pending, the ones stuck longer than you expect',
      }),
    })
    .strict(),
  responses: { 200: { description: 'A page of operations', schema: page(operationSchema.extend({ organization_id: z.string() }), 'AdminOperationPage') } },
});

const staffReason = z.object({ reason: printableText(3, 500) }).strict();

export const adminRetryOperation = defineRoute({
  operationId: 'adminRetryOperation',
  method: 'POST',
  path: '/admin/v1/operations/{operation_id}/retry',
  summary: 'Retry a failed or stuck operation from its first unfinished step',
  tags: ['Admin'],
  access: 'staff:operator',
  params: z.object({ operation_id: idOf('op') }).strict(),
  body: staffReason.openapi('RetryOperationRequest'),
  responses: { 200: { description: 'The operation', schema: operationSchema } },
  errors: [409],
});

export const adminCancelOperation = defineRoute({
  operationId: 'adminCancelOperation',
  method: 'POST',
  path: '/admin/v1/operations/{operation_id}/cancel',
  summary: 'Cancel any operation',
  tags: ['Admin'],
  access: 'staff:operator',
  params: z.object({ operation_id: idOf('op') }).strict(),
  body: staffReason.openapi('CancelOperationRequest'),
  responses: { 200: { description: 'The operation', schema: operationSchema } },
  errors: [409],
});

/** What a failed create left at the provider when undoing it failed too (docs/operations-engine.md). */
export const orphanSchema = z
  .object({
    id: z.string(),
    organization_id: z.string(),
    cluster_id: z.string().nullable(),
    operation_id: z.string().openapi({ description: 'The failed operation whose undoing left it' }),
    provider: providerSchema,
    kind: z.enum(['cluster', 'node_pool']),
    external_cluster: z.string().openapi({ description: "The cluster's name at the provider" }),
    external_name: z.string().openapi({ description: "The object's name at the provider (the cluster's own for a cluster)" }),
    reason: z.string(),
    status: z.enum(['open', 'resolved']).openapi({ description: 'open: the reconciler is still deleting it; resolved: the provider has it no more' }),
    attempts: z.number().int().openapi({ description: 'Cleanup attempts by the reconciler so far' }),
    last_error: z.string().nullable(),
    next_attempt_at: timestamp.nullable().openapi({ description: 'When the reconciler tries again; null once resolved' }),
    created_at: timestamp,
    resolved_at: timestamp.nullable(),
  })
  .openapi('Orphan');

export const adminListOrphans = defineRoute({
  operationId: 'adminListOrphans',
  method: 'GET',
  path: '/admin/v1/orphans',
  summary: 'Provider objects left by failed creates that could not be undone, newest first',
  description: 'The reconciler deletes each one with backoff and marks it resolved once the provider has it no more.',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z
    .object({
      ...paginationQuery,
      status: z.enum(['open', 'resolved']).optional(),
      organization_id: idOf('org').optional(),
      cluster_id: idOf('cl').optional(),
      operation_id: idOf('op').optional(),
    })
    .strict(),
  responses: { 200: { description: 'A page of orphans', schema: page(orphanSchema, 'OrphanPage') } },
});
