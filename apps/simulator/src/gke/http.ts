import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { FaultInjector } from '../faults';
import { SimulatorError } from '../errors';
import type { SimulatorDatabase } from '../database';
import type { SimulatorLogger } from '../logger';
import { type GkeBackupCloud } from './backup/backup-cloud';
import { backupRouteOf } from './backup/routes';
import type { GkeCall } from './calls';
import type { GkeCloud, GkeKubeBridge } from './gke-cloud';
import {
  createClusterRequest,
  createNodePoolRequest,
  parseRequest,
  setLabelsRequest,
  setMaintenancePolicyRequest,
  setNodePoolAutoscalingRequest,
  setNodePoolSizeRequest,
  updateClusterRequest,
  updateMasterRequest,
  updateNodePoolRequest,
} from './requests';
import { GkeApiError, invalidArgument, notFound } from './rpc-status';
import type { GkeTokens } from './tokens';
import type { GkeVersionSet } from './versions';

export interface GkeApiServices {
  cloud: GkeCloud;
  tokens: GkeTokens;
  faults: FaultInjector;
  db: SimulatorDatabase;
  versions: GkeVersionSet;
  kube: GkeKubeBridge | null;
  /** Backup for GKE, served on the same port (both APIs share `projects/*\/locations/*`). */
  backups: GkeBackupCloud;
}

/** One request, routed: the Container API method, the cluster it concerns (for faults) and its work. */
interface Route {
  call: GkeCall;
  cluster: string;
  run: () => Promise<unknown>;
}

const PROJECT = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const TOKEN_TTL_SECONDS = 3600;

/**
 * The emulated Container API v1 over plain HTTP, with the REST surface of
 * `container.googleapis.com` (the paths of the `google.api.http` rules in cluster_service.proto,
 * custom methods as `:verb`), Google's error bodies, and a tiny token endpoint (`POST /token`)
 * standing in for Google's OAuth.
 */
export async function buildGkeApi(services: GkeApiServices, log: SimulatorLogger): Promise<FastifyInstance> {
  const { cloud, tokens, faults } = services;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, forceCloseConnections: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text as string));
    } catch {
      done(invalidArgument('Invalid JSON payload received.'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
    done(null, Object.fromEntries(new URLSearchParams(text as string)));
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof GkeApiError) return reply.code(error.httpStatus).send(error.toJSON());
    // Injected faults: retryable ones as Google's "try again" (503), the others as refusals.
    if (error instanceof SimulatorError) {
      const gke = new GkeApiError(error.status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT', error.message);
      return reply.code(gke.httpStatus).send(gke.toJSON());
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return reply.code(400).send(invalidArgument((error as Error).message).toJSON());
    log.error({ err: error, method: request.method, url: request.url }, 'emulated GKE request failed');
    return reply.code(500).send(new GkeApiError('INTERNAL', 'Internal error encountered.').toJSON());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  /**
   * OAuth 2.0 client credentials, reduced: `client_secret` is the configured static token. With
   * `resource` naming a cluster, the token is one its API server accepts (GKE accepts the
   * caller's Google token on the cluster; the emulated API servers have tokens of their own).
   */
  app.post('/token', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body['grant_type'] !== 'client_credentials') {
      return reply.code(400).send({ error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
    }
    if (!tokens.acceptsClientSecret(typeof body['client_secret'] === 'string' ? body['client_secret'] : undefined)) {
      return reply.code(401).send({ error: 'invalid_client', error_description: 'client_secret is not the emulator’s configured token' });
    }
    const resource = typeof body['resource'] === 'string' ? body['resource'] : undefined;
    if (resource !== undefined) {
      const m = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(resource);
      if (!m) return reply.code(400).send({ error: 'invalid_target', error_description: 'resource must be projects/{p}/locations/{l}/clusters/{c}' });
      const cluster = await cloud.getCluster({ project: m[1]!, location: m[2]!, cluster: m[3]! }).catch(() => null);
      if (!cluster || !services.kube) return reply.code(400).send({ error: 'invalid_target', error_description: `${resource} has no API server` });
      const issued = await services.kube.issueToken(cluster.name, TOKEN_TTL_SECONDS);
      return { access_token: issued.token, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS };
    }
    const issued = await tokens.issue(TOKEN_TTL_SECONDS);
    return { access_token: issued.token, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS };
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    const presented = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (presented && (await tokens.verify(presented))) return;
    const error = new GkeApiError(
      'UNAUTHENTICATED',
      presented
        ? 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'
        : 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    );
    await reply.code(401).header('www-authenticate', 'Bearer realm="https://accounts.google.com/"').send(error.toJSON());
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const route = routeOf(request, services);
    await count(services.db, route.call, route.cluster);
    await faults.intercept(route.call, route.cluster, 'request');
    const result = await route.run();
    await faults.intercept(route.call, route.cluster, 'response');
    return reply.code(200).send(result ?? {});
  };
  app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/v1/*', handler: handle });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(notFound(`The requested URL ${request.url.split('?')[0]} was not found on this server.`).toJSON()),
  );
  return app;
}

function routeOf(request: FastifyRequest, services: GkeApiServices): Route {
  const { cloud, versions } = services;
  const path = decodeURIComponent(request.url.split('?')[0]!.slice('/v1/'.length));
  const method = request.method;
  const body = request.body;
  const none = () => new GkeApiError('NOT_FOUND', `Method ${method} /v1/${path} is not part of the Container API v1 (or not emulated).`);

  const base = /^projects\/([^/]+)\/locations\/([^/]+)\/(.*)$/.exec(path);
  if (!base) throw none();
  const [, project, location, rest] = base as unknown as [string, string, string, string];
  if (!PROJECT.test(project)) throw invalidArgument(`Invalid project id "${project}": 6 to 30 lower-case letters, digits or hyphens, starting with a letter.`);

  const backupRoute = backupRouteOf({ project, location, rest, method, body, query: (request.query ?? {}) as Record<string, unknown> }, services.backups);
  if (backupRoute) return backupRoute;

  if (rest === 'serverConfig' && method === 'GET') {
    return {
      call: 'gke.serverConfig.get',
      cluster: '',
      run: async () => ({
        defaultClusterVersion: versions.defaultVersion,
        validMasterVersions: versions.valid,
        validNodeVersions: versions.valid,
        defaultImageType: 'COS_CONTAINERD',
        validImageTypes: ['COS_CONTAINERD', 'UBUNTU_CONTAINERD'],
        channels: ['RAPID', 'REGULAR', 'STABLE'].map((channel) => ({ channel, defaultVersion: versions.defaultVersion, validVersions: versions.valid })),
      }),
    };
  }
  if (rest === 'clusters') {
    if (method === 'GET') return { call: 'gke.clusters.list', cluster: '', run: async () => ({ clusters: await cloud.listClusters(project, location) }) };
    if (method === 'POST') {
      const input = parseRequest(createClusterRequest, body);
      return { call: 'gke.clusters.create', cluster: input.cluster.name, run: () => cloud.createCluster(project, location, input.cluster) };
    }
    throw none();
  }
  if (rest === 'operations' && method === 'GET') {
    return { call: 'gke.operations.list', cluster: '', run: async () => ({ operations: await cloud.listOperations(project, location) }) };
  }
  const operation = /^operations\/([^/:]+)(?::(\w+))?$/.exec(rest);
  if (operation) {
    const [, name, verb] = operation as unknown as [string, string, string | undefined];
    if (!verb && method === 'GET') return { call: 'gke.operations.get', cluster: '', run: () => cloud.getOperation(project, location, name) };
    if (verb === 'cancel' && method === 'POST')
      return { call: 'gke.operations.cancel', cluster: '', run: () => cloud.cancelOperation(project, location, name) };
    throw none();
  }
  const pools = /^clusters\/([^/:]+)\/nodePools$/.exec(rest);
  if (pools) {
    const key = { project, location, cluster: pools[1]! };
    if (method === 'GET') return { call: 'gke.nodePools.list', cluster: key.cluster, run: async () => ({ nodePools: await cloud.listNodePools(key) }) };
    if (method === 'POST') {
      const input = parseRequest(createNodePoolRequest, body);
      return { call: 'gke.nodePools.create', cluster: key.cluster, run: () => cloud.createNodePool(key, input.nodePool) };
    }
    throw none();
  }
  const pool = /^clusters\/([^/:]+)\/nodePools\/([^/:]+)(?::(\w+))?$/.exec(rest);
  if (pool) {
    const key = { project, location, cluster: pool[1]!, pool: pool[2]! };
    const verb = pool[3];
    if (!verb && method === 'GET') return { call: 'gke.nodePools.get', cluster: key.cluster, run: () => cloud.getNodePool(key) };
    if (!verb && method === 'DELETE') return { call: 'gke.nodePools.delete', cluster: key.cluster, run: () => cloud.deleteNodePool(key) };
    if (!verb && method === 'PUT') {
      const input = parseRequest(updateNodePoolRequest, body);
      return { call: 'gke.nodePools.update', cluster: key.cluster, run: () => cloud.updateNodePool(key, input) };
    }
    if (verb === 'setSize' && method === 'POST') {
      const input = parseRequest(setNodePoolSizeRequest, body);
      return { call: 'gke.nodePools.setSize', cluster: key.cluster, run: () => cloud.setNodePoolSize(key, input.nodeCount) };
    }
    if (verb === 'rollback' && method === 'POST') {
      // RollbackNodePoolUpgradeRequest: `respectPdb` is accepted; the emulator's drains always respect budgets.
      return { call: 'gke.nodePools.rollback', cluster: key.cluster, run: () => cloud.rollbackNodePool(key) };
    }
    if (verb === 'setAutoscaling' && method === 'POST') {
      const input = parseRequest(setNodePoolAutoscalingRequest, body);
      return { call: 'gke.nodePools.setAutoscaling', cluster: key.cluster, run: () => cloud.setNodePoolAutoscaling(key, input.autoscaling) };
    }
    throw none();
  }
  const cluster = /^clusters\/([^/:]+)(?::(\w+))?$/.exec(rest);
  if (cluster) {
    const key = { project, location, cluster: cluster[1]! };
    const verb = cluster[2];
    if (!verb && method === 'GET') return { call: 'gke.clusters.get', cluster: key.cluster, run: () => cloud.getCluster(key) };
    if (!verb && method === 'DELETE') return { call: 'gke.clusters.delete', cluster: key.cluster, run: () => cloud.deleteCluster(key) };
    if (!verb && method === 'PUT') {
      const input = parseRequest(updateClusterRequest, body);
      return { call: 'gke.clusters.update', cluster: key.cluster, run: () => cloud.updateCluster(key, input.update) };
    }
    if (verb === 'updateMaster' && method === 'POST') {
      const input = parseRequest(updateMasterRequest, body);
      return { call: 'gke.clusters.updateMaster', cluster: key.cluster, run: () => cloud.updateMaster(key, input.masterVersion) };
    }
    if (verb === 'setMaintenancePolicy' && method === 'POST') {
      const input = parseRequest(setMaintenancePolicyRequest, body);
      return { call: 'gke.clusters.setMaintenancePolicy', cluster: key.cluster, run: () => cloud.setMaintenancePolicy(key, input.maintenancePolicy) };
    }
    if (verb === 'setResourceLabels' && method === 'POST') {
      const input = parseRequest(setLabelsRequest, body);
      return {
        call: 'gke.clusters.setResourceLabels',
        cluster: key.cluster,
        run: () => cloud.setResourceLabels(key, input.resourceLabels, input.labelFingerprint),
      };
    }
    throw none();
  }
  throw none();
}

/** Counted like every call of the simulated cloud: the evidence that a retry did not create twice. */
async function count(db: SimulatorDatabase, call: GkeCall, cluster: string): Promise<void> {
  await db.query(
    `INSERT INTO simulator.call_stats AS s (call, cluster, count) VALUES ($1, $2, 1) ON CONFLICT (call, cluster) DO UPDATE SET count = s.count + 1`,
    [call, cluster],
  );
}
