import { providerSchema } from './clusters.routes';
import { defineRoute } from './route';
import { z } from './zod';

const providerQuery = z.object({ provider: providerSchema.optional() }).strict();

export const regionSchema = z
  .object({ id: z.string(), provider: providerSchema, country: z.string(), display_name: z.string(), allowed: z.boolean().openapi({ description: "Whether your organisation's data residency allows it" }) })
  .openapi('Region');

export const versionSchema = z
  .object({
    provider: providerSchema,
    minor: z.string(),
    latest_patch: z.string(),
    state: z.enum(['preview', 'supported', 'deprecated', 'eol']),
    released_at: z.string(),
    maintenance_at: z.string().nullable(),
    end_of_support_at: z.string(),
    source: z.string(),
  })
  .openapi('KubernetesVersion');

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
