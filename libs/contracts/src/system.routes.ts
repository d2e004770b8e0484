import { noQuery } from './common.schema';
import { defineRoute } from './route';
import { z } from './zod';

const healthReport = z
  .object({
    status: z.enum(['ok', 'error']),
    checks: z.record(z.string(), z.object({ status: z.enum(['up', 'down']), message: z.string().optional() })).optional(),
  })
  .openapi('HealthReport');

export const liveness = defineRoute({
  operationId: 'getLiveness',
  method: 'GET',
  path: '/healthz',
  summary: 'Liveness: the process is up',
  description: 'For orchestrators: answers 200 while the process runs, whatever its dependencies do. No credential needed.',
  tags: ['System'],
  access: 'public',
  query: noQuery,
  responses: { 200: { description: 'The process is up', schema: healthReport } },
});

export const readiness = defineRoute({
  operationId: 'getReadiness',
  method: 'GET',
  path: '/readyz',
  summary: 'Readiness: PostgreSQL and Redis are reachable',
  description: 'For load balancers: 200 while both dependencies answer, 503 naming the one that does not. No credential needed.',
  tags: ['System'],
  access: 'public',
  query: noQuery,
  responses: { 200: { description: 'Ready to serve', schema: healthReport } },
  errors: [503],
});

export const metrics = defineRoute({
  operationId: 'getMetrics',
  method: 'GET',
  path: '/metrics',
  summary: 'Prometheus metrics',
  description: 'Open unless METRICS_TOKEN (then a bearer token is required) or METRICS_ALLOWED_NETWORKS (then only those clients) is set.',
  tags: ['System'],
  access: 'public',
  responses: {
    200: {
      description: 'Prometheus text exposition format',
      contentType: 'text/plain; version=0.0.4',
      headers: { 'Cache-Control': '`no-store`: every scrape reads the current values' },
    },
  },
  errors: [401, 403],
});
