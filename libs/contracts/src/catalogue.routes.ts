import { providerSchema } from './clusters.routes';
import { defineRoute } from './route';
import { z } from './zod';

const providerQuery = z.object({ provider: providerSchema.optional() }).strict();

export const regionSchema = z
  .object({
    id: z.string(),
    provider: providerSchema,
    country: z.string(),
    display_name: z.string(),
    allowed: z.boolean().openapi({ description: "Whether your organisation's data residency allows it" }),
  })
  .openapi('Region');

export const versionSchema = z
  .object({
    provider: providerSchema,
    minor: z.string(),
    latest_patch: z.string(),
    state: z.enum(['preview', 'supported', 'maintenance', 'deprecated', 'eol']).openapi({
      description:
        "maintenance: upstream maintenance mode (critical fixes only); deprecated: past the provider's end of standard support. Both warn on create; eol is refused.",
    }),
    released_at: z.string(),
    maintenance_at: z.string().nullable(),
    standard_support_ends_at: z.string().nullable(),
    end_of_support_at: z.string(),
    source: z.string(),
    sources: z.record(z.string(), z.string()).openapi({ description: 'Where each date comes from, by field' }),
    patches: z.array(z.string()).openapi({ description: 'Patches offered over time, oldest first; only latest_patch is offered for new clusters' }),
    default_for_new: z.boolean(),
    channels: z.array(z.string()).openapi({ description: 'Release channels offering this minor (rke2: latest, stable; gke: rapid, regular, stable)' }),
    addons: z.array(z.object({ name: z.string(), version: z.string() })).openapi({ description: 'The managed add-on versions that go with this minor' }),
  })
  .openapi('KubernetesVersion');

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day written as YYYY-MM-DD');
const minorSchema = z.string().regex(/^(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$/, 'a minor such as 1.35');
const versionSources = z
  .object({
    releasedAt: z.string().min(3).max(500).optional(),
    maintenanceAt: z.string().min(3).max(500).optional(),
    standardSupportEndsAt: z.string().min(3).max(500).optional(),
    endOfSupportAt: z.string().min(3).max(500).optional(),
    latestPatch: z.string().min(3).max(500).optional(),
    preview: z.string().min(3).max(500).optional(),
  })
  .strict()
  .openapi({ description: 'Where each given date comes from (a URL or a named document), by field' });
const staffReason = z.string().min(3).max(500).openapi({ description: 'Why; kept in the audit log' });
const versionParams = z.object({ provider: providerSchema, minor: minorSchema }).strict();

export const machineTypeSchema = z
  .object({ id: z.string(), provider: providerSchema, vcpus: z.number(), memory_gib: z.number(), monthly_price_cents: z.number().int() })
  .openapi('MachineType');

export const listRegions = defineRoute({
  operationId: 'listRegions',
  method: 'GET',
  path: '/v1/regions',
  summary: 'Regions per provider, and which your data residency allows',
  tags: ['Catalogue'],
  access: 'customer:read',
  query: providerQuery,
  responses: { 200: { description: 'Regions', schema: z.object({ items: z.array(regionSchema) }).openapi('RegionList') } },
});

export const listVersions = defineRoute({
  operationId: 'listVersions',
  method: 'GET',
  path: '/v1/versions',
  summary: 'Kubernetes versions per provider, with state and support dates',
  tags: ['Catalogue'],
  access: 'customer:read',
  query: providerQuery,
  responses: { 200: { description: 'Versions', schema: z.object({ items: z.array(versionSchema) }).openapi('VersionList') } },
});

export const listMachineTypes = defineRoute({
  operationId: 'listMachineTypes',
  method: 'GET',
  path: '/v1/machine-types',
  summary: 'Machine types per provider',
  tags: ['Catalogue'],
  access: 'customer:read',
  query: providerQuery,
  responses: { 200: { description: 'Machine types', schema: z.object({ items: z.array(machineTypeSchema) }).openapi('MachineTypeList') } },
});

export const adminCreateVersion = defineRoute({
  operationId: 'adminCreateVersion',
  method: 'POST',
  path: '/admin/v1/versions',
  summary: "Add a Kubernetes minor to a provider's catalogue",
  tags: ['Admin'],
  access: 'staff:operator',
  body: z
    .object({
      provider: providerSchema,
      minor: minorSchema,
      latest_patch: z.string().max(64),
      released_at: isoDay,
      maintenance_at: isoDay.nullable().default(null),
      standard_support_ends_at: isoDay.nullable().default(null),
      end_of_support_at: isoDay,
      preview: z.boolean().default(false),
      sources: versionSources,
      reason: staffReason,
    })
    .strict()
    .openapi('CreateVersionRequest'),
  responses: {
    201: { description: 'The version', schema: versionSchema, headers: { Location: 'The new version (/admin/v1/versions/{provider}/{minor}), to PATCH' } },
  },
  errors: [409, 422],
});

export const adminUpdateVersion = defineRoute({
  operationId: 'adminUpdateVersion',
  method: 'PATCH',
  path: '/admin/v1/versions/{provider}/{minor}',
  summary: 'Add a patch, correct a date or set the default for new clusters',
  description:
    'A changed date needs its source in `sources`. `latest_patch` adds a patch (newer than the current one). `default_for_new: true` makes this minor the default of its provider.',
  tags: ['Admin'],
  access: 'staff:operator',
  params: versionParams,
  body: z
    .object({
      latest_patch: z.string().max(64).optional(),
      released_at: isoDay.optional(),
      maintenance_at: isoDay.nullable().optional(),
      standard_support_ends_at: isoDay.nullable().optional(),
      end_of_support_at: isoDay.optional(),
      preview: z.boolean().optional(),
      default_for_new: z.literal(true).optional(),
      sources: versionSources.default({}),
      reason: staffReason,
    })
    .strict()
    .openapi('UpdateVersionRequest'),
  responses: { 200: { description: 'The version', schema: versionSchema } },
  errors: [404, 422],
});
