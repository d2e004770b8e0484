import type { RouteContract } from '@capstan/contracts';

/** The objects a route's path parameters can name, all belonging to one organisation. */
export interface OwnedObjects {
  organizationId: string;
  clusterId: string;
  nodePoolId: string;
  operationId: string;
  tokenId: string;
  webhookId: string;
  scheduleId: string;
  backupId: string;
  exclusionId?: string;
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
    schedule_id: objects.scheduleId,
    backup_id: objects.backupId,
    // an exclusion id under the cluster: another organisation's cluster is not found before it is looked at
    exclusion_id: objects.exclusionId ?? 'mx_01jd3z6q4e5k8w2x9v7b0c1n2m',
    // the version catalogue is shared by every organisation: its keys are names, not owned ids
    provider: 'rke2',
    minor: '1.36',
    // so is the add-on catalogue: an add-on's name and a chart version
    name: 'keda',
    version: '9.9.9',
    // fleet rollouts are staff's and fleet-wide: no organisation owns one (this one does not exist)
    rollout_id: 'ro_01jd3z6q4e5k8w2x9v7b0c1n2m',
    // staff tokens are no organisation's either (this one does not exist)
    staff_token_id: 'stok_01jd3z6q4e5k8w2x9v7b0c1n2m',
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
    node_pools: [
      { name: 'default', machine_type: 'nine-standard-4', count: 2, taints: [{ key: 'example.com/dedicated', value: 'gpu', effect: 'NoSchedule' }] },
    ],
    maintenance_window: { time_zone: 'Europe/Zurich', days: ['SA'], start_time: '02:00', duration_minutes: 240 },
  },
  updateCluster: { labels: { env: 'staging' } },
  createNodePool: { name: 'extra', machine_type: 'nine-standard-2', count: 1 },
  startClusterUpgrade: { version: '1.36', start: 'now' },
  updateNodePool: { count: 2, taints: [{ key: 'dedicated', value: '', effect: 'NoExecute' }] },
  adminCreateOrganization: { name: 'sample-org', display_name: 'Sample AG', residency: 'CH', quota: { max_clusters: 5, max_nodes: 20 } },
  adminUpdateQuota: { max_clusters: 6, reason: 'growth plan' },
  adminSuspendOrganization: { reason: 'unpaid invoices' },
  adminResumeOrganization: { reason: 'invoices paid' },
  adminIssueToken: { name: 'first', scopes: ['read', 'write'], reason: 'onboarding' },
  adminRevokeToken: { reason: 'secret leaked' },
  adminRevokeLeakedToken: { secret: `cap_${'A'.repeat(43)}`, reason: 'secret scanning alert' },
  adminRevokeStaffToken: { reason: 'secret leaked' },
  adminRevokeLeakedStaffToken: { secret: `capstaff_${'A'.repeat(43)}`, reason: 'secret scanning alert' },
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
  putClusterAddon: { settings: { operator_replicas: 2 } },
  adminPutAddonVersion: {
    title: 'KEDA',
    tier: 'optional',
    chart_repo: 'https://kedacore.github.io/charts',
    chart: 'keda',
    namespace: 'keda',
    app_version: '9.9.9',
    min_minor: '1.34',
    max_minor: '1.36',
    settings_schema: { type: 'object', additionalProperties: false, properties: {} },
    source: 'sample source',
    reason: 'sample release',
  },
  adminPauseRollout: { reason: 'holiday freeze' },
  adminResumeRollout: { reason: 'freeze over' },
  adminHaltRollout: { reason: 'bad patch' },
  adminSecurityUpgrade: { version: '1.36', advisory_id: 'CVE-2025-1974', reason: 'critical advisory' },
  // Far ahead, so the sample never falls in a closed month whatever the test clock says.
  adminCreatePrice: { kind: 'addon', sku: 'sample-addon', unit_price: '0.015', effective_from: '2099-01-01T00:00:00.000Z', reason: 'sample price' },
  createBackupSchedule: { name: 'nightly', cron: '0 2 * * *', time_zone: 'Europe/Zurich', retention_count: 7 },
  updateBackupSchedule: { cron: '30 3 * * *', paused: false },
  createBackup: { kind: 'etcd_snapshot', retain_days: 14 },
  restoreBackup: { backup_id: 'bk_01jd3z6q4e5k8w2x9v7b0c1n2m', scope: 'control_plane' },
  resumeOperation: {},
  rollbackUpgrade: {},
  cancelOperation: {},
  adminCreateBoardSession: {},
  // Far ahead and 2 days long: within every provider's limits whatever the test clock says.
  createMaintenanceExclusion: { name: 'black-friday', scope: 'no_upgrades', starts_at: '2099-11-27T00:00:00.000Z', ends_at: '2099-11-29T00:00:00.000Z' },
  createWebhook: { url: 'https://hooks.example.com/capstan', event_types: ['dev.capstan.operation.succeeded'], description: 'CI notifications' },
};

export function sampleBody(route: RouteContract): unknown {
  if (!route.body) return undefined;
  if (!(route.operationId in SAMPLE_BODIES)) throw new Error(`no sample body for ${route.operationId}: add one to SAMPLE_BODIES`);
  return structuredClone(SAMPLE_BODIES[route.operationId]);
}

/** One input of a route that a request can set: a path or query parameter, or a body leaf. */
export type InputSlot = { in: 'path' | 'query'; name: string; kind: InputKind } | { in: 'body'; path: (string | number)[]; kind: InputKind | 'key' };

/**
 * What a slot holds: `date` for calendar values (months, times of day), `key` for a place where
 * an object takes a key (labels take any, strict objects none).
 */
export type InputKind = 'string' | 'number' | 'date';

const DATE_LIKE = /^(\d{4}-\d{2}|\d{2}:\d{2})$/;

interface SchemaDef {
  type?: string;
  innerType?: { def?: SchemaDef };
  in?: { def?: SchemaDef };
}

/** The kind of a query parameter's schema, seen through optional/default/nullable/pipe wrappers. */
function queryKind(name: string, schema: unknown): InputKind {
  let def = (schema as { def?: SchemaDef } | undefined)?.def;
  while (def && ['optional', 'default', 'nullable', 'pipe', 'prefault', 'catch'].includes(def.type ?? '')) {
    def = def.innerType?.def ?? def.in?.def;
  }
  if (def?.type === 'number') return 'number';
  return name === 'month' ? 'date' : 'string';
}

/**
 * Every input of a route, from its contract (path and query parameters) and its sample body (each
 * string and number leaf, and each object as a place for keys): what a fuzz test generated from
 * the route table varies, so a new route or field is covered without being listed.
 */
export function inputSlots(route: RouteContract): InputSlot[] {
  const slots: InputSlot[] = [];
  for (const [, name] of route.path.matchAll(/\{([^}]+)\}/g)) slots.push({ in: 'path', name: name!, kind: 'string' });
  const shape = (route.query as { shape?: Record<string, unknown> } | undefined)?.shape ?? {};
  for (const [name, schema] of Object.entries(shape)) slots.push({ in: 'query', name, kind: queryKind(name, schema) });
  const visit = (value: unknown, path: (string | number)[]) => {
    if (typeof value === 'string') slots.push({ in: 'body', path, kind: DATE_LIKE.test(value) ? 'date' : 'string' });
    else if (typeof value === 'number') slots.push({ in: 'body', path, kind: 'number' });
    else if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...path, i]));
    else if (value && typeof value === 'object') {
      slots.push({ in: 'body', path, kind: 'key' });
      for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
    }
  };
  if (route.body) visit(sampleBody(route), []);
  return slots;
}

/** `value` percent-encoded for a URL; a lone surrogate becomes its (invalid UTF-8) WTF-8 bytes. */
export function percentEncode(value: string): string {
  let out = '';
  for (const char of value) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}
