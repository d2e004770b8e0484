import {
  assertMachineType,
  assertRegionAllowed,
  assertWithinQuota,
  ConflictError,
  DomainError,
  type ErrorKind,
  type FieldViolation,
  ForbiddenError,
  isLabelKey,
  isLabelValue,
  nodeCountOf,
  NotFoundError,
  plannedSteps,
  type Provider,
  resolveVersionForCreate,
  VERSION_CATALOGUE,
  UnauthenticatedError,
  ValidationError,
} from '@capstan/domain';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { monotonicFactory } from 'ulid';
// The module itself, not @capstan/platform's index, which would load Nest into the baseline.
import { pgConnectionFromUrl } from '../../libs/platform/src/database/pg-connection';
import {
  CLUSTER_COLUMNS,
  type ClusterRow,
  decodeCursor,
  encodeCursor,
  getCluster,
  listClusters,
  NODE_POOL_COLUMNS,
  type NodePoolRow,
  OPERATION_COLUMNS,
  type OperationRow,
  presentCluster,
  presentOperation,
  STEP_COLUMNS,
  type StepRow,
  tokenWithOrganization,
  usage,
  type WindowRow,
} from './sql';

/**
 * The baseline for bench/http.bench.ts: the same routes as the API (`/healthz`, list, get and
 * create clusters) on bare Fastify 5 and a `pg` Pool, with hand-written SQL, the same checks and
 * the same JSON. It does what a request needs and nothing else: no DI container, guards,
 * interceptors, CLS, metrics hooks, per-request logger, Redis rate limit or ORM. The pure domain
 * rules (catalogue, quota, version, planned steps) are the API's own, from @capstan/domain.
 *
 * Not a product: it ignores Idempotency-Key and the list filters other than limit and cursor.
 */

const nextUlid = monotonicFactory();
const newId = (prefix: string) => `${prefix}_${nextUlid().toLowerCase()}`;

const SECRET_SHAPE = /^(cap|capstaff)_[A-Za-z0-9_-]{43}$/;
const CLUSTER_ID = /^cl_[0-9a-z]{26}$/;
const LAST_USED_RESOLUTION_MS = 60_000;

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  unprocessable: 422,
  precondition_required: 428,
  rate_limited: 429,
  unavailable: 503,
};

interface Caller {
  organizationId: string;
  tokenId: string;
  scopes: ('read' | 'write')[];
}

// ------------------------------------------------------------------ create-cluster body

const DNS_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
const labelsSchema = { type: 'object', maxProperties: 64, propertyNames: { maxLength: 253 }, additionalProperties: { type: 'string', maxLength: 63 } };
const nodePoolSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'machine_type'],
  properties: {
    name: { type: 'string', maxLength: 63, pattern: DNS_LABEL },
    machine_type: { type: 'string', minLength: 1, maxLength: 63 },
    count: { type: 'integer', minimum: 1, maximum: 1000 },
    autoscaling: {
      type: 'object',
      additionalProperties: false,
      required: ['min', 'max'],
      properties: { min: { type: 'integer', minimum: 0, maximum: 1000 }, max: { type: 'integer', minimum: 1, maximum: 1000 } },
    },
    labels: labelsSchema,
    taints: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'effect'],
        properties: {
          key: { type: 'string', minLength: 1, maxLength: 253 },
          value: { type: 'string', maxLength: 63, default: '' },
          effect: { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
        },
      },
    },
    max_surge: { type: 'integer', minimum: 0, maximum: 100, default: 1 },
    max_unavailable: { type: 'integer', minimum: 0, maximum: 100, default: 0 },
  },
};
const createClusterSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'provider', 'region', 'node_pools'],
  properties: {
    name: { type: 'string', maxLength: 63, pattern: DNS_LABEL },
    provider: { enum: ['rke2', 'gke'] },
    region: { type: 'string', minLength: 1, maxLength: 63 },
    version: { type: 'string', maxLength: 32, pattern: '^\\d+\\.\\d+(\\.\\d+(-gke\\.\\d+)?)?$' },
    release_channel: { enum: ['rapid', 'regular', 'stable', 'extended'], default: 'regular' },
    auto_upgrade: { type: 'boolean', default: true },
    deletion_protection: { type: 'boolean', default: false },
    labels: { ...labelsSchema, default: {} },
    maintenance_window: {
      type: 'object',
      additionalProperties: false,
      required: ['time_zone', 'days', 'start_time', 'duration_minutes'],
      properties: {
        time_zone: { type: 'string', minLength: 1, maxLength: 64 },
        days: { type: 'array', minItems: 1, maxItems: 7, uniqueItems: true, items: { enum: ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] } },
        start_time: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
        duration_minutes: { type: 'integer', minimum: 240, maximum: 1440 },
      },
    },
    node_pools: { type: 'array', minItems: 1, maxItems: 10, items: nodePoolSchema },
  },
};

interface NodePoolSpec {
  name: string;
  machine_type: string;
  count?: number;
  autoscaling?: { min: number; max: number };
  labels?: Record<string, string>;
  taints?: { key: string; value: string; effect: string }[];
  max_surge: number;
  max_unavailable: number;
}

interface CreateClusterBody {
  name: string;
  provider: Provider;
  region: string;
  version?: string;
  release_channel: string;
  auto_upgrade: boolean;
  deletion_protection: boolean;
  labels: Record<string, string>;
  maintenance_window?: WindowRow;
  node_pools: NodePoolSpec[];
}

/** What JSON Schema cannot say: label syntax, count xor autoscaling, surge, unique pool names, time zones. */
function refineCreateBody(body: CreateClusterBody): void {
  const violations: FieldViolation[] = [];
  const checkLabels = (labels: Record<string, string> | undefined, field: string) => {
    for (const [key, value] of Object.entries(labels ?? {})) {
      if (!isLabelKey(key)) violations.push({ field: `${field}.${key}`, message: 'is not a valid label key' });
      if (!isLabelValue(value)) violations.push({ field: `${field}.${key}`, message: 'is not a valid label value' });
    }
  };
  checkLabels(body.labels, 'labels');
  body.node_pools.forEach((pool, i) => {
    const at = `node_pools.${i}`;
    checkLabels(pool.labels, `${at}.labels`);
    if ((pool.count === undefined) === (pool.autoscaling === undefined)) violations.push({ field: `${at}.count`, message: 'give either count or autoscaling' });
    if (pool.autoscaling && pool.autoscaling.min > pool.autoscaling.max)
      violations.push({ field: `${at}.autoscaling.min`, message: 'must not exceed autoscaling.max' });
    if (pool.max_surge === 0 && pool.max_unavailable === 0)
      violations.push({ field: `${at}.max_surge`, message: 'max_surge and max_unavailable cannot both be 0' });
  });
  if (new Set(body.node_pools.map((p) => p.name)).size !== body.node_pools.length)
    violations.push({ field: 'node_pools', message: 'node pool names must be unique' });
  if (body.maintenance_window) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: body.maintenance_window.time_zone });
    } catch {
      violations.push({ field: 'maintenance_window.time_zone', message: 'must be an IANA time zone such as Europe/Zurich' });
    }
  }
  if (violations.length > 0) throw new ValidationError(violations);
}

const poolCounts = (pool: NodePoolSpec) => ({
  nodeCount: pool.count ?? pool.autoscaling?.min ?? 0,
  autoscaleMin: pool.autoscaling?.min ?? null,
  autoscaleMax: pool.autoscaling?.max ?? null,
});

// ------------------------------------------------------------------ server

export async function buildBareServer(databaseUrl: string, poolSize: number): Promise<FastifyInstance> {
  const pool = new Pool({ ...pgConnectionFromUrl(databaseUrl), max: poolSize, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined);
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    trustProxy: true,
    genReqId: () => newId('req'),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true, useDefaults: true } },
  });
  app.addHook('onClose', () => pool.end());

  app.setErrorHandler((error: FastifyError | DomainError, request, reply) => {
    if (error instanceof DomainError) {
      const status = STATUS_BY_KIND[error.kind];
      return reply
        .status(status)
        .type('application/problem+json')
        .send({ ...error.extensions, type: error.type, title: error.title, status, detail: error.detail, request_id: request.id });
    }
    if ('validation' in error && error.validation) {
      const errors = error.validation.map((v) => ({ field: v.instancePath.slice(1).replace(/\//g, '.') || 'body', message: v.message ?? 'is not valid' }));
      return reply
        .status(400)
        .type('application/problem+json')
        .send({ type: 'validation-failed', title: 'The request is not valid', status: 400, detail: error.message, errors });
    }
    const status = 'statusCode' in error && error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    return reply
      .status(status)
      .type('application/problem+json')
      .send({ type: 'error', title: 'Request failed', status, detail: status < 500 ? error.message : 'internal error' });
  });

  /** Bearer secret -> hash -> token row with its organisation's status (one query) -> checks. */
  async function authenticate(request: FastifyRequest, level: 'read' | 'write'): Promise<Caller> {
    const header = request.headers.authorization;
    const secret = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (!secret || !SECRET_SHAPE.test(secret)) throw new UnauthenticatedError('a valid bearer token is required (Authorization: Bearer ...)');
    if (secret.startsWith('capstaff_')) throw new ForbiddenError('customer-route', 'staff credentials are not a customer of any organisation');
    const hash = createHash('sha256').update(secret, 'utf8').digest('hex');
    const token = await tokenWithOrganization(pool, hash);
    if (!token || !timingSafeEqual(Buffer.from(token.secret_hash, 'hex'), Buffer.from(hash, 'hex')))
      throw new UnauthenticatedError('the API token is not valid');
    const now = new Date();
    if (token.revoked_at) throw new UnauthenticatedError('the token has been revoked');
    if (token.expires_at && token.expires_at <= now) throw new UnauthenticatedError('the token has expired');
    if (!token.scopes.includes(level)) throw new ForbiddenError('insufficient-scope', `this endpoint needs a token with the ${level} scope`);
    if (level === 'write' && token.organization_status === 'suspended')
      throw new ForbiddenError('organization-suspended', `the organisation is suspended: ${token.suspended_reason ?? 'no reason given'}`);
    if (!token.last_used_at || now.getTime() - token.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) {
      pool.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [token.id, now]).catch(() => undefined);
    }
    return { organizationId: token.organization_id, tokenId: token.id, scopes: token.scopes };
  }

  app.get('/healthz', async () => ({ status: 'ok' as const }));

  app.get('/v1/clusters', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const violations: FieldViolation[] = [];
    for (const key of Object.keys(query)) if (key !== 'limit' && key !== 'cursor') violations.push({ field: key, message: 'is not a known field' });
    const limit = query.limit === undefined ? 20 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) violations.push({ field: 'limit', message: 'must be an integer from 1 to 100' });
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) violations.push({ field: 'cursor', message: 'is not a cursor returned by this API' });
    if (violations.length > 0) throw new ValidationError(violations);
    const caller = await authenticate(request, 'read');
    const rows = await listClusters(pool, caller.organizationId, limit, after);
    const items = rows.slice(0, limit);
    return {
      items: items.map((row) => presentCluster(row)),
      next_cursor: rows.length > limit && items.length > 0 ? encodeCursor(items[items.length - 1]!.cluster.id) : null,
    };
  });

  app.get('/v1/clusters/:cluster_id', async (request, reply) => {
    const { cluster_id: id } = request.params as { cluster_id: string };
    if (!CLUSTER_ID.test(id)) throw new ValidationError([{ field: 'cluster_id', message: 'must be an id starting with cl_' }]);
    const caller = await authenticate(request, 'read');
    const found = await getCluster(pool, caller.organizationId, id);
    if (!found) throw new NotFoundError('cluster', id);
    const body = presentCluster(found);
    void reply.header('etag', body.etag);
    return body;
  });

  app.post('/v1/clusters', { schema: { body: createClusterSchema } }, async (request, reply) => {
    const body = request.body as CreateClusterBody;
    refineCreateBody(body);
    const caller = await authenticate(request, 'write');
    const result = await createCluster(pool, caller, body, { requestId: request.id, sourceIp: request.ip });
    void reply.status(202).header('location', `/v1/clusters/${result.cluster.id}`);
    return result;
  });

  return app;
}

/**
 * The create use case of libs/clusters/src/clusters.service.ts in one transaction: lock the
 * organisation, check residency, quota and name, then insert the cluster, its pools (and window),
 * the operation with its planned steps, the outbox message and the audit event.
 */
async function createCluster(pool: Pool, caller: Caller, input: CreateClusterBody, context: { requestId: string; sourceIp: string }) {
  const now = new Date();
  for (const p of input.node_pools) assertMachineType(p.machine_type, input.provider);
  const version = resolveVersionForCreate(input.provider, input.version, now, VERSION_CATALOGUE.entries);
  const organizationId = caller.organizationId;

  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const created = await (async (tx: PoolClient) => {
      const org = (
        await tx.query<{ residency: string; max_clusters: number; max_nodes: number }>(
          'SELECT residency, max_clusters, max_nodes FROM organizations WHERE id = $1 FOR UPDATE',
          [organizationId],
        )
      ).rows[0];
      if (!org) throw new NotFoundError('organization', organizationId);
      assertRegionAllowed(input.region, input.provider, org.residency);
      assertWithinQuota({ maxClusters: org.max_clusters, maxNodes: org.max_nodes }, await usage(tx, organizationId), {
        clusters: 1,
        nodes: input.node_pools.reduce((sum, p) => sum + nodeCountOf(poolCounts(p)), 0),
      });
      const existing = (await tx.query<{ id: string }>('SELECT id FROM clusters WHERE organization_id = $1 AND live_name = $2', [organizationId, input.name]))
        .rows[0];
      if (existing) throw new ConflictError('name-taken', `a cluster named ${input.name} already exists (${existing.id})`, { cluster_id: existing.id });

      const clusterId = newId('cl');
      const cluster = (
        await tx.query<ClusterRow>(
          `INSERT INTO clusters (id, organization_id, name, live_name, provider, region, release_channel, current_version, desired_version, status,
                               auto_upgrade, deletion_protection, labels, created_at, updated_at)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $7, 'provisioning', $8, $9, $10, $11, $11) RETURNING ${CLUSTER_COLUMNS}`,
          [
            clusterId,
            organizationId,
            input.name,
            input.provider,
            input.region,
            input.release_channel,
            version.patch,
            input.auto_upgrade,
            input.deletion_protection,
            JSON.stringify(input.labels),
            now,
          ],
        )
      ).rows[0]!;
      const pools: NodePoolRow[] = [];
      for (const spec of input.node_pools) {
        const counts = poolCounts(spec);
        pools.push(
          (
            await tx.query<NodePoolRow>(
              `INSERT INTO node_pools (id, cluster_id, organization_id, name, live_name, machine_type, node_count, autoscale_min, autoscale_max, version,
                                   labels, taints, max_surge, max_unavailable, status, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'provisioning', $14, $14) RETURNING ${NODE_POOL_COLUMNS}`,
              [
                newId('np'),
                clusterId,
                organizationId,
                spec.name,
                spec.machine_type,
                counts.nodeCount,
                counts.autoscaleMin,
                counts.autoscaleMax,
                version.patch,
                JSON.stringify(spec.labels ?? {}),
                JSON.stringify(spec.taints ?? []),
                spec.max_surge,
                spec.max_unavailable,
                now,
              ],
            )
          ).rows[0]!,
        );
      }
      pools.sort((a, b) => (a.id < b.id ? -1 : 1));
      const mw = input.maintenance_window;
      const window = mw
        ? (
            await tx.query<WindowRow>(
              `INSERT INTO maintenance_windows (cluster_id, time_zone, days, start_time, duration_minutes, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING time_zone, days, start_time, duration_minutes`,
              [clusterId, mw.time_zone, mw.days, mw.start_time, mw.duration_minutes, now],
            )
          ).rows[0]!
        : null;

      const operationId = newId('op');
      const operation = (
        await tx.query<OperationRow>(
          `INSERT INTO operations (id, organization_id, cluster_id, type, mutating, target_type, target_id, params, requested_by_type, requested_by_id,
                                 request_id, created_at, updated_at)
         VALUES ($1, $2, $3, 'create_cluster', true, 'cluster', $3, $4, 'api_token', $5, $6, $7, $7) RETURNING ${OPERATION_COLUMNS}`,
          [operationId, organizationId, clusterId, JSON.stringify({ version: version.patch }), caller.tokenId, context.requestId, now],
        )
      ).rows[0]!;
      const steps = (
        await tx.query<StepRow>(
          `INSERT INTO operation_steps (operation_id, position, name)
         SELECT $1, s.ord - 1, s.name FROM unnest($2::text[]) WITH ORDINALITY AS s(name, ord) RETURNING ${STEP_COLUMNS}`,
          [operationId, [...plannedSteps('create_cluster')]],
        )
      ).rows.sort((a, b) => a.position - b.position);
      await tx.query('INSERT INTO outbox_messages (topic, dedupe_key, payload) VALUES ($1, $2, $3)', [
        'operations',
        operationId,
        JSON.stringify({ operationId, requestId: context.requestId }),
      ]);
      const changes = {
        name: { after: input.name },
        provider: { after: input.provider },
        region: { after: input.region },
        currentVersion: { after: version.patch },
        labels: { after: input.labels },
        deletionProtection: { after: input.deletion_protection },
        nodePools: { after: pools.map((p) => p.name) },
      };
      await tx.query(
        `INSERT INTO audit_events (id, organization_id, actor_type, actor_id, action, target_type, target_id, request_id, source_ip, changes)
         VALUES ($1, $2, 'api_token', $3, 'cluster.create', 'cluster', $4, $5, $6, $7)`,
        [newId('aud'), organizationId, caller.tokenId, clusterId, context.requestId, context.sourceIp, JSON.stringify(changes)],
      );
      return { cluster: presentCluster({ cluster, window, pools }, version.warnings), operation: presentOperation(operation, steps) };
    })(client);
    await client.query('COMMIT');
    return created;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === '23505') {
      throw new ConflictError('name-taken', `a cluster named ${input.name} already exists`);
    }
    throw error;
  } finally {
    client.release();
  }
}
