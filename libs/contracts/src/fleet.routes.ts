import { operationSchema } from './clusters.routes';
import { idOf, page, paginationQuery, timestamp } from './common.schema';
import { defineRoute } from './route';
import { z } from './zod';

const rolloutState = z.enum(['active', 'paused', 'halted', 'completed']);
const rolloutParams = z.object({ rollout_id: idOf('ro') }).strict();
const staffReason = z.object({ reason: z.string().min(3).max(500).openapi({ description: 'Why; kept in the audit log' }) }).strict();

const rolloutCluster = z
  .object({
    cluster_id: z.string(),
    organization_id: z.string(),
    from: z.string(),
    to: z.string(),
    need: z.enum(['end_of_life', 'end_of_support_near', 'patch']),
    window_starts_at: timestamp,
    window_ends_at: timestamp,
    announced_at: timestamp,
    state: z.enum(['planned', 'running', 'succeeded', 'failed', 'skipped']),
    operation_id: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .openapi('RolloutCluster');

export const rolloutSummarySchema = z
  .object({
    id: z.string(),
    state: rolloutState,
    reason: z.string().nullable().openapi({ description: 'Why it halted or was paused' }),
    trigger: z.string(),
    current_wave: z.number().int(),
    max_failure_rate: z.number(),
    clusters: z.record(z.string(), z.number().int()).openapi({ description: 'Clusters per state' }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('RolloutSummary');

export const rolloutSchema = rolloutSummarySchema
  .extend({
    waves: z.array(
      z.object({
        index: z.number().int(),
        tier: z.enum(['non_production', 'production']),
        state: z.enum(['waiting', 'current', 'done']),
        clusters: z.array(rolloutCluster),
      }),
    ),
  })
  .openapi('Rollout');

export const adminListRollouts = defineRoute({
  operationId: 'adminListRollouts',
  method: 'GET',
  path: '/admin/v1/rollouts',
  summary: 'Fleet auto-upgrade rollouts, newest first',
  tags: ['Admin'],
  access: 'staff:viewer',
  query: z.object({ ...paginationQuery, state: rolloutState.optional() }).strict(),
  responses: { 200: { description: 'A page of rollouts', schema: page(rolloutSummarySchema, 'RolloutPage') } },
});

export const adminGetRollout = defineRoute({
  operationId: 'adminGetRollout',
  method: 'GET',
  path: '/admin/v1/rollouts/{rollout_id}',
  summary: 'A rollout with its waves, their clusters and the state of each',
  tags: ['Admin'],
  access: 'staff:viewer',
  params: rolloutParams,
  responses: { 200: { description: 'The rollout', schema: rolloutSchema } },
  errors: [404],
});

const rolloutAction = (action: 'pause' | 'resume' | 'halt', summary: string) =>
  defineRoute({
    operationId: `admin${action[0]!.toUpperCase()}${action.slice(1)}Rollout`,
    method: 'POST',
    path: `/admin/v1/rollouts/{rollout_id}/${action}`,
    summary,
    tags: ['Admin'],
    access: 'staff:operator',
    params: rolloutParams,
    body: staffReason,
    responses: { 200: { description: 'The rollout', schema: rolloutSchema } },
    errors: [404, 409],
  });

export const adminPauseRollout = rolloutAction('pause', 'Pause a rollout: upgrades already running go on, nothing new starts (audited)');
export const adminResumeRollout = rolloutAction('resume', 'Resume a paused rollout (audited)');
export const adminHaltRollout = rolloutAction('halt', 'Halt a rollout for good: its planned clusters are skipped (audited)');

export const advisorySchema = z
  .object({
    id: z.string(),
    kind: z.enum(['vulnerability', 'retirement']),
    component: z.string(),
    title: z.string(),
    severity: z.enum(['critical', 'high', 'medium', 'low']),
    cvss: z.number().nullable(),
    affected: z.array(z.object({ introduced: z.string().optional(), fixed: z.string().optional() })),
    fixed_in: z.array(z.string()),
    remedy: z.string(),
    published_on: z.string(),
    sources: z.array(z.string()),
  })
  .openapi('Advisory');

const affectedCluster = z.object({
  cluster_id: z.string(),
  name: z.string(),
  component: z.string(),
  version: z
    .string()
    .nullable()
    .openapi({ description: 'The version found; null when the image names none (pinned by digest only): "retired, version unknown"' }),
  source: z.enum(['capstan', 'scan']).openapi({
    description:
      "capstan: Kubernetes, Capstan's add-ons and what the distribution bundles; scan: found running in the cluster's Deployments and DaemonSets by the component scan",
  }),
  workload: z
    .object({ kind: z.string(), namespace: z.string(), name: z.string(), image: z.string() })
    .nullable()
    .openapi({ description: 'The workload the scan found the component in (null for source capstan)' }),
  as_of: z.string().nullable().openapi({ description: 'When the scan that found it read the cluster (null for source capstan)' }),
  last_scan_failed_at: z
    .string()
    .nullable()
    .openapi({ description: 'A later scan could not read the cluster (e.g. its API server was unreachable): when it tried; the finding stands as of as_of' }),
});

export const listAdvisories = defineRoute({
  operationId: 'listAdvisories',
  method: 'GET',
  path: '/v1/advisories',
  summary: 'Advisories (vulnerable or retired components) that affect your clusters',
  tags: ['Upgrades'],
  access: 'customer:read',
  query: z.object({ cluster_id: idOf('cl').optional() }).strict(),
  responses: {
    200: {
      description: 'Each advisory with your affected clusters',
      schema: z.object({ items: z.array(advisorySchema.extend({ clusters: z.array(affectedCluster) })) }).openapi('AdvisoryList'),
    },
  },
});

export const adminListAdvisories = defineRoute({
  operationId: 'adminListAdvisories',
  method: 'GET',
  path: '/admin/v1/advisories',
  summary: 'Every advisory with the clusters it affects fleet-wide',
  tags: ['Admin'],
  access: 'staff:viewer',
  responses: {
    200: {
      description: 'Advisories and the fleet exposure',
      schema: z
        .object({ items: z.array(advisorySchema.extend({ clusters: z.array(affectedCluster.extend({ organization_id: z.string() })) })) })
        .openapi('AdminAdvisoryList'),
    },
  },
});

export const adminSecurityUpgrade = defineRoute({
  operationId: 'adminSecurityUpgrade',
  method: 'POST',
  path: '/admin/v1/clusters/{cluster_id}/security-upgrade',
  summary: "Upgrade a cluster for a critical advisory, overriding the customer's maintenance exclusions (audited and announced)",
  description:
    'Only for an advisory of severity critical that affects the cluster. Every other rule of an upgrade holds (no skip, no downgrade, removed APIs); ' +
    'active exclusions are overridden, which is recorded in the audit log and announced to the customer (`dev.capstan.upgrade.exclusion_overridden`).',
  tags: ['Admin'],
  access: 'staff:operator',
  params: z.object({ cluster_id: idOf('cl') }).strict(),
  body: z
    .object({
      version: z.string().min(1).max(64),
      advisory_id: z.string().min(1).max(64),
      reason: z.string().min(3).max(500),
    })
    .strict(),
  responses: { 202: { description: 'Accepted: follow the operation', schema: z.object({ operation: operationSchema }).openapi('SecurityUpgradeAccepted') } },
  errors: [404, 409, 422],
});
