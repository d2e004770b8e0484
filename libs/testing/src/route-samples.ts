import type { RouteContract } from '@capstan/contracts';

/** The objects a route's path parameters can name, all belonging to one organisation. */
export interface OwnedObjects {
  organizationId: string;
  clusterId: string;
  nodePoolId: string;
  operationId: string;
  tokenId: string;
  webhookId: string;
}

/** Fills `{param}` placeholders with the ids of `objects`. */
export function pathFor(route: RouteContract, objects: OwnedObjects): string {
  const ids: Record<string, string> = {
    organization_id: objects.organizationId,
    cluster_id: objects.clusterId,
    node_pool_id: objects.nodePoolId,
    operation_id: objects.operationId,
    token_id: objects.tokenId,
    webhook_id: objects.webhookId,
    // the version catalogue is shared by every organisation: its keys are names, not owned ids
    provider: 'rke2',
    minor: '1.36',
  };
  return route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const id = ids[name];
    if (!id) throw new Error(`no sample id for path parameter ${name} of ${route.operationId}`);
    return id;
  });
}

/**
 * A valid body for every route that takes one, so suites generated from the route table test
 * what they mean to (tenancy, bad input) instead of tripping over validation. A route without a
 * sample fails those suites: a new write route cannot slip through untested.
 */
export const SAMPLE_BODIES: Record<string, unknown> = {
  createToken: { name: 'ci', scopes: ['read'] },
  createCluster: {
    name: 'sample-cluster',
    provider: 'rke2',
    region: 'nine-cz41',
    labels: { env: 'test' },
    node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 2 }],
  },
  updateCluster: { labels: { env: 'staging' } },
  createNodePool: { name: 'extra', machine_type: 'nine-standard-2', count: 1 },
  updateNodePool: { count: 2 },
  adminCreateOrganization: { name: 'sample-org', display_name: 'Sample AG', residency: 'CH', quota: { max_clusters: 5, max_nodes: 20 } },
  adminUpdateQuota: { max_clusters: 6, reason: 'growth plan' },
  adminSuspendOrganization: { reason: 'unpaid invoices' },
  adminResumeOrganization: { reason: 'invoices paid' },
  adminIssueToken: { name: 'first', scopes: ['read', 'write'], reason: 'onboarding' },
  adminRetryOperation: { reason: 'provider outage over' },
  adminCancelOperation: { reason: 'customer asked' },
  adminInjectFault: { call: 'ensureNodePool', mode: 'fail_once', reason: 'demo of a failed step' },
  adminSetApiServer: { state: 'down', reason: 'SLA demo' },
  adminCreateVersion: {
    provider: 'rke2',
    minor: '1.99',
    latest_patch: '1.99.0',
    released_at: '2026-01-01',
    maintenance_at: '2027-01-28',
    end_of_support_at: '2027-03-28',
    preview: true,
    sources: { releasedAt: 'sample', maintenanceAt: 'sample', endOfSupportAt: 'sample', latestPatch: 'sample' },
    reason: 'sample minor',
  },
  adminUpdateVersion: { preview: false, reason: 'qualified' },
  createWebhook: { url: 'https://hooks.example.com/capstan', event_types: ['dev.capstan.operation.succeeded'], description: 'CI notifications' },
};

export function sampleBody(route: RouteContract): unknown {
  if (!route.body) return undefined;
  if (!(route.operationId in SAMPLE_BODIES)) throw new Error(`no sample body for ${route.operationId}: add one to SAMPLE_BODIES`);
  return structuredClone(SAMPLE_BODIES[route.operationId]);
}
