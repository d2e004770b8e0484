import { idOf } from './common.schema';
import { defineRoute } from './route';
import { printableText } from './text.schema';
import { z } from './zod';

/** The simulated cloud's operations, one per ClusterProvider method: what a staff fault can match. */
export const PROVIDER_CALLS = [
  'ensureCluster',
  'getCluster',
  'deleteCluster',
  'ensureNodePool',
  'getNodePool',
  'updateNodePool',
  'deleteNodePool',
  'issueCredentials',
  'revokeCredentials',
  'upgradeControlPlane',
  'cordonNode',
  'drainNode',
  'upgradeNode',
  'uncordonNode',
  'snapshot',
  'restore',
  'installAddons',
  'listAddons',
  'listObjects',
] as const;

const reason = printableText(3, 500);

export const faultSchema = z
  .object({
    id: z.string(),
    match: z.object({ call: z.string(), cluster: z.string().nullable().optional() }),
    mode: z.enum(['fail_once', 'fail_always', 'slow']),
    delay_ms: z.number().int().nullable(),
    retryable: z.boolean(),
    hits: z.number().int(),
  })
  .openapi('SimulatorFault');

export const injectFault = defineRoute({
  operationId: 'adminInjectFault',
  method: 'POST',
  path: '/admin/v1/simulator/faults',
  summary: 'Simulated provider: make a provider call fail once, always, or slowly (demos and tests)',
  tags: ['Admin', 'Simulator'],
  access: 'staff:operator',
  body: z
    .object({
      call: z.enum(PROVIDER_CALLS),
      cluster_id: idOf('cl').optional(),
      mode: z.enum(['fail_once', 'fail_always', 'slow']),
      delay_ms: z.number().int().min(1).max(600_000).optional(),
      retryable: z.boolean().default(true),
      reason,
    })
    .strict()
    .refine((b) => b.mode !== 'slow' || b.delay_ms !== undefined, { message: 'slow faults need delay_ms', path: ['delay_ms'] })
    .openapi('InjectFaultRequest'),
  responses: { 201: { description: 'The fault', schema: faultSchema } },
  errors: [409],
});

export const listFaults = defineRoute({
  operationId: 'adminListFaults',
  method: 'GET',
  path: '/admin/v1/simulator/faults',
  summary: 'Simulated provider: faults in force',
  tags: ['Admin', 'Simulator'],
  access: 'staff:viewer',
  responses: { 200: { description: 'Faults', schema: z.object({ items: z.array(faultSchema) }).openapi('SimulatorFaultList') } },
  errors: [409],
});

export const clearFaults = defineRoute({
  operationId: 'adminClearFaults',
  method: 'DELETE',
  path: '/admin/v1/simulator/faults',
  summary: 'Simulated provider: remove every fault',
  tags: ['Admin', 'Simulator'],
  access: 'staff:operator',
  responses: { 204: { description: 'Cleared' } },
  errors: [409],
});

export const setApiServer = defineRoute({
  operationId: 'adminSetApiServer',
  method: 'POST',
  path: '/admin/v1/simulator/clusters/{cluster_id}/api-server',
  summary: "Simulated provider: take a cluster's API server down or bring it back (its /readyz answers 503 while down)",
  tags: ['Admin', 'Simulator'],
  access: 'staff:operator',
  params: z.object({ cluster_id: idOf('cl') }).strict(),
  body: z
    .object({ state: z.enum(['down', 'up']), reason })
    .strict()
    .openapi('SetApiServerRequest'),
  responses: {
    200: { description: 'The new state', schema: z.object({ cluster_id: z.string(), api_server: z.enum(['down', 'up']) }).openapi('ApiServerState') },
  },
  errors: [409],
});
