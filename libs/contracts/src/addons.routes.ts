import { operationSchema } from './clusters.routes';
import { idOf } from './common.schema';
import { defineRoute } from './route';
import { z } from './zod';

const addonName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/)
  .openapi({ example: 'keda' });
const tier = z.enum(['always_on', 'default', 'optional']);
const minor = z.string().regex(/^1\.\d{1,3}$/);
const clusterAddonParams = z.object({ cluster_id: idOf('cl'), name: addonName }).strict();
/** A setting's name, as the add-on's settings schema spells it. */
const settingName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);
const settings = z
  .record(settingName, z.union([z.string().max(1000), z.number(), z.boolean()]))
  .refine((value) => Object.keys(value).length <= 32, 'at most 32 settings')
  .openapi({ description: "Values for the add-on's settings schema (see GET /v1/addons)" });
/** A JSON Schema keyword (`type`, `minimum`, `x-helm-value`, ...). */
const keyword = z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,39}$/);
const settingsSchema = z
  .object({
    type: z.literal('object'),
    additionalProperties: z.literal(false),
    properties: z.record(settingName, z.record(keyword, z.unknown())).refine((value) => Object.keys(value).length <= 32, 'at most 32 settings'),
    required: z.array(settingName).max(32).optional(),
  })
  .strict()
  .openapi({ description: 'JSON Schema of the settings: an object of named properties, each with `x-helm-value` naming the chart value it sets' });

export const addonReleaseSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    tier,
    chart_repo: z.string(),
    chart: z.string(),
    namespace: z.string(),
    version: z.string().openapi({ description: 'The chart version a HelmChart installs' }),
    app_version: z.string().nullable(),
    min_minor: z.string(),
    max_minor: z.string(),
    settings_schema: z.record(z.string(), z.unknown()).openapi({ description: "JSON Schema of the add-on's settings" }),
    checked: z.boolean().openapi({ description: 'False when the compatibility claim was not re-checked against its source' }),
    source: z.string().openapi({ description: 'The public source of the compatibility claim' }),
  })
  .openapi('AddonRelease');

export const clusterAddonSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    tier,
    enabled: z.boolean(),
    removable: z.boolean(),
    desired_version: z
      .string()
      .nullable()
      .openapi({ description: "The catalogue's chart version for the cluster's minor; null when disabled or none is qualified" }),
    installed_version: z
      .string()
      .nullable()
      .openapi({ description: "Read back from the cluster's own objects (the release's workloads carry `helm.sh/chart`); null when not installed" }),
    managed_by: z.enum(['capstan', 'distribution']),
    status: z.enum(['installed', 'installing', 'pending', 'failed', 'removed', 'disabled', 'bundled', 'unknown']),
    message: z.string().nullable(),
    observed: z
      .enum(['live', 'last_operation'])
      .openapi({ description: 'Whether installed_version and status were read from the cluster now or by the last add-on operation' }),
    settings: z.record(z.string(), z.unknown()),
  })
  .openapi('ClusterAddon');

export const listAddonCatalogue = defineRoute({
  operationId: 'listAddonCatalogue',
  method: 'GET',
  path: '/v1/addons',
  summary: 'The managed add-on catalogue: every chart version, its tier, the Kubernetes minors it is qualified for and the source of that claim',
  tags: ['Add-ons'],
  access: 'customer:read',
  responses: { 200: { description: 'Catalogue rows', schema: z.object({ items: z.array(addonReleaseSchema) }).openapi('AddonCatalogue') } },
});

export const listClusterAddons = defineRoute({
  operationId: 'listClusterAddons',
  method: 'GET',
  path: '/v1/clusters/{cluster_id}/addons',
  summary: "A cluster's add-ons: tier, enabled, desired version, installed version read back from the cluster, status and settings",
  tags: ['Add-ons'],
  access: 'customer:read',
  params: z.object({ cluster_id: idOf('cl') }).strict(),
  responses: { 200: { description: 'Add-ons', schema: z.object({ items: z.array(clusterAddonSchema) }).openapi('ClusterAddonList') } },
});

export const putClusterAddon = defineRoute({
  operationId: 'putClusterAddon',
  method: 'PUT',
  path: '/v1/clusters/{cluster_id}/addons/{name}',
  summary: "Enable an add-on or change its settings: an operation installs the catalogue's version for the cluster's minor",
  description:
    "Settings are validated against the add-on's settings schema (422 `addon-settings-invalid` naming each violation). An add-on with no release qualified for the cluster's minor is refused with 422 `addon-incompatible`.",
  tags: ['Add-ons'],
  access: 'customer:write',
  params: clusterAddonParams,
  body: z.object({ settings: settings.default({}) }).strict(),
  idempotent: true,
  responses: { 202: { description: 'Accepted: follow the operation', schema: z.object({ operation: operationSchema }).openapi('AddonChangeAccepted') } },
  errors: [404, 409, 422],
});

export const deleteClusterAddon = defineRoute({
  operationId: 'deleteClusterAddon',
  method: 'DELETE',
  path: '/v1/clusters/{cluster_id}/addons/{name}',
  summary: 'Remove a default or optional add-on (an operation); always-on add-ons are refused with 422 `addon-always-on`',
  description: 'An add-on that is not enabled on the cluster (never enabled, or already removed) is a 404, and no operation starts.',
  tags: ['Add-ons'],
  access: 'customer:write',
  params: clusterAddonParams,
  idempotent: true,
  responses: { 202: { description: 'Accepted: follow the operation', schema: z.object({ operation: operationSchema }).openapi('AddonRemovalAccepted') } },
  errors: [404, 409, 422],
});

export const adminListAddonVersions = defineRoute({
  operationId: 'adminListAddonVersions',
  method: 'GET',
  path: '/admin/v1/addon-versions',
  summary: 'The add-on catalogue as staff edit it, withdrawn rows included',
  tags: ['Admin'],
  access: 'staff:viewer',
  responses: {
    200: {
      description: 'Catalogue rows',
      schema: z
        .object({ items: z.array(addonReleaseSchema.extend({ withdrawn_at: z.string().nullable(), from_seed: z.boolean() })) })
        .openapi('AdminAddonCatalogue'),
    },
  },
});

export const adminPutAddonVersion = defineRoute({
  operationId: 'adminPutAddonVersion',
  method: 'PUT',
  path: '/admin/v1/addon-versions/{name}/{version}',
  summary: 'Add or correct one chart version of an add-on: its minors, chart, tier and settings schema, with the source of the claim',
  tags: ['Admin'],
  access: 'staff:operator',
  params: z.object({ name: addonName, version: z.string().min(1).max(64) }).strict(),
  body: z
    .object({
      title: z.string().min(1).max(200),
      tier,
      chart_repo: z.string().url().max(500),
      chart: z.string().min(1).max(100),
      namespace: z.string().min(1).max(63),
      app_version: z.string().max(64).nullable().default(null),
      min_minor: minor,
      max_minor: minor,
      settings_schema: settingsSchema,
      checked: z.boolean().default(true),
      source: z.string().min(3).max(500),
      reason: z.string().min(3).max(500).openapi({ description: 'Why; kept in the audit log' }),
    })
    .strict()
    .openapi('PutAddonVersionRequest'),
  responses: { 200: { description: 'The row', schema: addonReleaseSchema } },
  errors: [422],
});
