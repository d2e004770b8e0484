import { operationSchema } from './clusters.routes';
import { idOf, noInputBody } from './common.schema';
import { defineRoute } from './route';
import { z } from './zod';

const clusterParams = z.object({ cluster_id: idOf('cl') }).strict();

const skewCheck = z.object({
  ok: z.boolean(),
  control_plane: z.string(),
  violations: z.array(z.object({ pool: z.string(), version: z.string(), reason: z.string() })),
});

const upgradeStep = z
  .object({
    kind: z.enum(['node_pool_catch_up', 'control_plane', 'node_pool', 'addons']),
    from: z.string().nullable(),
    to: z.string().nullable(),
    node_pool: z.object({ id: z.string(), name: z.string(), max_surge: z.number().int(), max_unavailable: z.number().int() }).nullable(),
    addon_changes: z.array(z.object({ name: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
    skew_after: skewCheck,
  })
  .openapi('UpgradeStep');

export const upgradePlanSchema = z
  .object({
    cluster_id: z.string(),
    from: z.string(),
    to: z.string(),
    hops: z.array(z.object({ from: z.string(), to: z.string(), minor: z.boolean(), steps: z.array(upgradeStep) })),
    blockers: z.array(
      z.object({
        kind: z.enum(['removed_api', 'addon_incompatible', 'pool_outside_skew', 'pdb_blocks_drain', 'active_exclusion']),
        reason: z.string(),
        details: z.record(z.string(), z.unknown()),
      }),
    ),
    runnable: z.boolean().openapi({ description: 'True when nothing blocks the plan' }),
    removed_api_scan: z.object({ ran: z.boolean(), note: z.string() }),
    disruption_budget_scan: z.object({ ran: z.boolean(), note: z.string() }),
    next_window: z
      .object({ starts_at: z.string(), ends_at: z.string() })
      .nullable()
      .openapi({ description: "The next occurrence of the cluster's maintenance window; null without a window" }),
  })
  .openapi('UpgradePlan');

export const upgradeOption = z
  .object({
    version: z.string(),
    minor: z.string(),
    state: z.enum(['preview', 'supported', 'maintenance', 'deprecated', 'eol']),
    hops: z.number().int(),
    runnable: z.boolean(),
    blockers: z.array(z.string()),
  })
  .openapi('UpgradeOption');

export const listClusterUpgrades = defineRoute({
  operationId: 'listClusterUpgrades',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/upgrades',
  summary: 'The versions a cluster may be upgraded to, each with its hop count and blockers',
  tags: ['Upgrades'],
  access: 'customer:read',
  params: clusterParams,
  responses: { 200: { description: 'Upgrade targets, nearest first', schema: z.object({ items: z.array(upgradeOption) }).openapi('UpgradeOptionList') } },
});

export const getUpgradePlan = defineRoute({
  operationId: 'getUpgradePlan',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/upgrade-plan',
  summary: 'An explainable upgrade plan: hops, steps, skew checks, blockers and the next window',
  description: 'Without `version`, plans to the version new clusters get. A skip or a downgrade is refused with 422 naming the rule.',
  tags: ['Upgrades'],
  access: 'customer:read',
  params: clusterParams,
  query: z.object({ version: z.string().min(1).max(64).optional() }).strict(),
  responses: { 200: { description: 'The plan', schema: upgradePlanSchema } },
  errors: [422],
});

export const startClusterUpgrade = defineRoute({
  operationId: 'startClusterUpgrade',
  method: 'POST',
  path: '/v1/clusters/{cluster_id}/upgrade',
  summary: 'Upgrade a cluster to a catalogue version: one minor hop at a time, control plane first, then each node pool',
  description:
    "The plan is computed when the request is accepted (as GET .../upgrade-plan shows it) and becomes the operation's steps. " +
    'A skip, a downgrade, a version the catalogue does not offer and a plan with blockers (objects written through APIs the target removes, ' +
    'an active maintenance exclusion...) are refused with 422 naming the rule; a busy cluster with 409.',
  tags: ['Upgrades'],
  access: 'customer:write',
  params: clusterParams,
  body: z
    .object({
      version: z.string().min(1).max(64).openapi({ description: 'A minor ("1.36") or the latest patch the catalogue offers for it' }),
      start: z
        .enum(['now', 'next_window'])
        .default('now')
        .openapi({
          description:
            "now: at once. next_window: in the cluster's next maintenance window free of exclusions covering the work (at once when one is running now): " +
            'the operation waits `pending` until then, and every later step starts only inside a window (work that would overrun it pauses at a step boundary ' +
            'and resumes in the next one). Without a maintenance window: 422.',
        }),
    })
    .strict(),
  idempotent: true,
  responses: { 202: { description: 'Accepted: follow the operation', schema: z.object({ operation: operationSchema }).openapi('UpgradeAccepted') } },
  errors: [409, 422],
});

export const rollbackUpgrade = defineRoute({
  operationId: 'rollbackUpgrade',
  method: 'POST',
  path: '/v1/operations/{operation_id}/rollback',
  summary: 'Roll the node pools of a failed or cancelled upgrade back to the version they ran; the control plane stays',
  description:
    'Starts an `upgrade_cluster` operation whose steps move each pool the upgrade left unfinished back to its recorded version ' +
    '(one minor down at most, within the skew the control plane allows). A control plane is never rolled back: its failure names the ' +
    "backup taken before the hop, to restore from. Anything else is a 409 naming the rule; another organisation's operation is a 404.",
  tags: ['Upgrades'],
  access: 'customer:write',
  params: z.object({ operation_id: idOf('op') }).strict(),
  body: noInputBody,
  idempotent: true,
  responses: { 202: { description: 'Accepted: follow the operation', schema: z.object({ operation: operationSchema }).openapi('RollbackAccepted') } },
  errors: [409, 422],
});
