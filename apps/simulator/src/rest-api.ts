import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CallAdmission } from './call-admission';
import { PROVIDER_CALLS, type ProviderCall } from './calls';
import type { Clusters } from './cloud/clusters';
import type { ClusterRow } from './cloud/context';
import type { Credentials } from './cloud/credentials';
import type { NodePoolRecord, NodePools } from './cloud/node-pools';
import type { CloudStats } from './cloud/stats';
import type { Workloads } from './cloud/workloads';
import { invalid, notFound, SimulatorError } from './errors';
import type { FaultInjector } from './faults';
import { type MachineFaults, registerMachineFaultRoutes } from './kube/controllers/capi';
import type { EtcdSnapshots } from './kube/etcd-snapshots';
import type { KubeEmulator } from './kube/types';
import type { SimulatorLogger } from './logger';

/**
 * The simulated cloud's JSON API. `/v1/clusters/...` mirrors the ClusterProvider port one route per
 * method; `/v1/chaos/...` is the operator's hand in the cloud (faults, lost clusters, API servers
 * down); `/v1/stats` is what it counted. Errors are `{ code, message }` with a real cloud's
 * status: 404 absent, 409 refused in this state, 400/422 never going to work, 503 try again.
 */
export interface CloudServices {
  admission: CallAdmission;
  clusters: Clusters;
  nodePools: NodePools;
  credentials: Credentials;
  workloads: Workloads;
  faults: FaultInjector;
  /** Faults of the emulated Cluster API machines (`/v1/chaos/machine-faults`). */
  machineFaults?: MachineFaults;
  /** The etcd snapshot files of emulated RKE2 clusters (`/v1/chaos/clusters/:cluster/etcd/data-loss`). */
  etcdSnapshots?: EtcdSnapshots;
  stats: CloudStats;
  /** The Kubernetes API emulator: the API servers of the clusters the real drivers made. */
  kube?: KubeEmulator;
  /** Readiness of the simulated cloud (`/readyz`): rejects while its database does not answer. */
  ready?: () => Promise<void>;
  /**
   * The management cluster's kubeconfig (`GET /v1/management/kubeconfig`): how pods that share no
   * volume with the simulator (the Helm chart's) get it, with the API's bearer token.
   */
  managementKubeconfig?: string;
}

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label (lower-case letters, digits and dashes)');
const nodeName = z.string().regex(/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, 'must be a node name');
const version = z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a version like 1.35.4');
const labels = z.record(z.string(), z.string());
const count = z.number().int().min(0).max(1000);

const clusterSpec = z.object({
  name: dnsLabel.optional(),
  flavour: z.enum(['rke2', 'gke']),
  region: z.string().min(1).max(64),
  version,
  labels: labels.default({}),
});

const nodePoolSpec = z.object({
  name: dnsLabel.optional(),
  machineType: z.string().min(1).max(128),
  count,
  autoscaling: z.object({ min: count, max: count }).nullable().default(null),
  version,
  labels: labels.default({}),
  taints: z.array(z.object({ key: z.string().min(1), value: z.string(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) })).default([]),
  maxSurge: z.number().int().min(0).max(100).default(1),
  maxUnavailable: z.number().int().min(0).max(100).default(0),
});

const clusterObject = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string().min(1).nullable().default(null),
  name: z.string().min(1),
});

const faultSpec = z.object({
  match: z.object({ call: z.enum(PROVIDER_CALLS), cluster: dnsLabel.optional() }),
  mode: z.enum(['fail_once', 'fail_always', 'slow']),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  retryable: z.boolean().optional(),
  at: z.enum(['request', 'response']).optional(),
});

const drainRequest = z.object({ timeoutSeconds: z.number().int().min(0).max(86_400).default(300), force: z.boolean().default(false) });
const credentialsRequest = z.object({
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(366 * 86_400),
});
const addonsRequest = z
  .object({ addons: z.array(z.object({ name: dnsLabel, version: z.string().min(1).max(64) })) })
  .refine((b) => new Set(b.addons.map((a) => a.name)).size === b.addons.length, 'names each add-on once');

const clusterParams = z.object({ cluster: dnsLabel });
const poolParams = clusterParams.extend({ pool: dnsLabel });
const nodeParams = clusterParams.extend({ node: nodeName });

export async function buildRestApi(services: CloudServices, log: SimulatorLogger, apiToken?: string): Promise<FastifyInstance> {
  const { admission, clusters, nodePools, credentials, workloads, faults, stats } = services;
  // Closing drops every connection, as the kube listener's does: keep-alive clients may hold a
  // connection that has not sent a request yet (undici opens one after an aborted call), which
  // Node does not count as idle, so a graceful close would wait for the client to let it go.
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, forceCloseConnections: true });
  // Lenient where Fastify is strict: a bodiless DELETE or POST sent with a JSON content type
  // (curl scripts, generic HTTP clients) is an empty body, not a 400.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text as string));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof SimulatorError) return reply.code(error.status).send({ code: error.code, message: error.message });
    if (error instanceof z.ZodError) {
      const issue = error.issues[0]!;
      return reply.code(400).send({ code: 'invalid_request', message: `${issue.path.join('.') || 'body'}: ${issue.message}` });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ code: 'invalid_request', message: (error as Error).message });
    log.error({ err: error, method: request.method, url: request.url }, 'simulator request failed');
    return reply.code(500).send({ code: 'internal', message: 'the simulated cloud failed to handle the request' });
  });
  if (apiToken !== undefined) {
    // Every route wants the token, compared as digests in constant time; a real cloud API answers
    // a missing or wrong credential with 401 the same way, before it looks at anything else.
    const expected = createHash('sha256').update(apiToken).digest();
    app.addHook('onRequest', (request, reply, done) => {
      // Readiness is asked by the container runtime and the kubelet, which hold no credential; it
      // says nothing but "up" or "not yet".
      if (request.method === 'GET' && request.url === '/readyz') return done();
      const presented = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (presented && timingSafeEqual(createHash('sha256').update(presented).digest(), expected)) return done();
      void reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="simulated-cloud"')
        .send({ code: 'unauthenticated', message: 'the simulated cloud API wants its bearer token (SIMULATOR_API_TOKEN)' });
    });
  }
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ code: 'not_found', message: `no route ${request.method} ${request.url}` }));

  /**
   * A port call: counted, subject to injected faults before it acts and before it answers, and
   * handed its cluster as it found it (`found`, settled; null when there is none) and, on a route
   * of a node pool, the pool (`foundPool`; undefined when it was not read).
   */
  const call =
    <T>(
      name: ProviderCall,
      handler: (request: FastifyRequest, reply: FastifyReply, cluster: string, found: ClusterRow | null, foundPool?: NodePoolRecord | null) => T | Promise<T>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<T> => {
      const { cluster } = clusterParams.parse(request.params);
      // Routes on a node pool have the pool read with the cluster; the handler validates its name.
      const admitted = await admission.admit(name, cluster, (request.params as { pool?: string }).pool);
      // Handlers set the status and return the body (null for none) rather than sending it, so a
      // response fault can still hold or fail the answer after the call took effect.
      const result = await handler(request, reply, cluster, admitted.cluster, admitted.pool);
      if (admitted.responseFaults) await faults.intercept(name, cluster, 'response');
      return result;
    };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await services.ready?.();
      return { status: 'ready' };
    } catch (error) {
      return reply.code(503).send({ code: 'unavailable', message: `not ready: ${(error as Error).message}` });
    }
  });
  app.get('/v1/management/kubeconfig', async (_request, reply) => {
    if (services.managementKubeconfig === undefined) throw new SimulatorError(404, 'not_found', 'this simulated cloud has no management cluster');
    return reply.type('application/yaml').send(services.managementKubeconfig);
  });

  // --- clusters ------------------------------------------------------------------------------
  app.get('/v1/clusters', async (request) => {
    const page = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), after: dnsLabel.optional() }).parse(request.query);
    return clusters.list(page);
  });
  app.put(
    '/v1/clusters/:cluster',
    call('ensureCluster', async (request, reply, name, found) => {
      const spec = sameName(clusterSpec.parse(request.body), name);
      const { cluster, created } = await clusters.ensure({ ...spec, name }, found);
      reply.code(created ? 201 : 200);
      return cluster;
    }),
  );
  app.get(
    '/v1/clusters/:cluster',
    call('getCluster', (_request, _reply, name, found) => clusters.get(name, found)),
  );
  app.delete(
    '/v1/clusters/:cluster',
    call('deleteCluster', async (_request, reply, name, found) => {
      const cluster = await clusters.delete(name, found);
      reply.code(cluster ? 202 : 204);
      return cluster ?? null;
    }),
  );
  app.post(
    '/v1/clusters/:cluster/control-plane/upgrade',
    call('upgradeControlPlane', async (request, reply, name) => {
      const body = z.object({ version }).parse(request.body);
      reply.code(202);
      return clusters.upgradeControlPlane(name, body.version);
    }),
  );

  // --- node pools and nodes ------------------------------------------------------------------
  app.get('/v1/clusters/:cluster/node-pools', async (request) => ({ items: await nodePools.list(clusterParams.parse(request.params).cluster) }));
  app.put(
    '/v1/clusters/:cluster/node-pools/:pool',
    call('ensureNodePool', async (request, reply, cluster, found, foundPool) => {
      const { pool: name } = poolParams.parse(request.params);
      const spec = sameName(nodePoolSpec.parse(request.body), name);
      const { pool, created } = await nodePools.ensure(cluster, { ...spec, name }, found, foundPool);
      reply.code(created ? 201 : 200);
      return pool;
    }),
  );
  app.get(
    '/v1/clusters/:cluster/node-pools/:pool',
    call('getNodePool', (request, _reply, cluster, found, foundPool) => nodePools.get(cluster, poolParams.parse(request.params).pool, found, foundPool)),
  );
  app.patch(
    '/v1/clusters/:cluster/node-pools/:pool',
    call('updateNodePool', (request, _reply, cluster) => {
      const { pool: name } = poolParams.parse(request.params);
      return nodePools.update(cluster, { ...sameName(nodePoolSpec.parse(request.body), name), name });
    }),
  );
  app.delete(
    '/v1/clusters/:cluster/node-pools/:pool',
    call('deleteNodePool', async (request, reply, cluster, found, foundPool) => {
      const pool = await nodePools.delete(cluster, poolParams.parse(request.params).pool, found, foundPool);
      reply.code(pool ? 202 : 204);
      return pool ?? null;
    }),
  );
  app.post(
    '/v1/clusters/:cluster/nodes/:node/cordon',
    call('cordonNode', (request, _reply, cluster, found) => nodePools.setUnschedulable(cluster, nodeParams.parse(request.params).node, true, found)),
  );
  app.post(
    '/v1/clusters/:cluster/nodes/:node/uncordon',
    call('uncordonNode', (request, _reply, cluster, found) => nodePools.setUnschedulable(cluster, nodeParams.parse(request.params).node, false, found)),
  );
  app.post(
    '/v1/clusters/:cluster/nodes/:node/drain',
    call('drainNode', (request, _reply, cluster, found) => {
      const options = drainRequest.parse(request.body ?? {});
      return nodePools.drain(cluster, nodeParams.parse(request.params).node, options, found);
    }),
  );
  app.post(
    '/v1/clusters/:cluster/nodes/:node/upgrade',
    call('upgradeNode', async (request, reply, cluster) => {
      const body = z.object({ version }).parse(request.body);
      reply.code(202);
      return nodePools.upgradeNode(cluster, nodeParams.parse(request.params).node, body.version);
    }),
  );
  app.get('/v1/clusters/:cluster/pod-disruption-budgets', async (request) => ({
    items: await nodePools.listDisruptionBudgets(clusterParams.parse(request.params).cluster),
  }));
  app.put('/v1/clusters/:cluster/pod-disruption-budgets/:namespace/:name', async (request) => {
    const params = clusterParams.extend({ namespace: dnsLabel, name: dnsLabel }).parse(request.params);
    const body = z.object({ pods: z.array(z.object({ name: nodeName, node: nodeName })).min(1) }).parse(request.body);
    return nodePools.putDisruptionBudget(params.cluster, { namespace: params.namespace, name: params.name, pods: body.pods });
  });
  app.delete('/v1/clusters/:cluster/pod-disruption-budgets/:namespace/:name', async (request, reply) => {
    const params = clusterParams.extend({ namespace: dnsLabel, name: dnsLabel }).parse(request.params);
    await nodePools.deleteDisruptionBudget(params.cluster, params.namespace, params.name);
    return reply.code(204).send();
  });

  // --- credentials -----------------------------------------------------------------------------
  app.post(
    '/v1/clusters/:cluster/credentials',
    call('issueCredentials', async (request, reply, cluster, found) => {
      const body = credentialsRequest.parse(request.body);
      reply.code(201);
      return credentials.issue(cluster, body.ttlSeconds, found);
    }),
  );
  app.delete(
    '/v1/clusters/:cluster/credentials',
    call('revokeCredentials', async (_request, reply, cluster) => {
      await credentials.revokeAll(cluster);
      reply.code(204);
      return null;
    }),
  );

  // --- snapshots, add-ons, objects -------------------------------------------------------------
  app.put(
    '/v1/clusters/:cluster/snapshots/:snapshot',
    call('snapshot', async (request, reply, cluster) => {
      const { snapshot: name } = clusterParams.extend({ snapshot: dnsLabel }).parse(request.params);
      const { snapshot, created } = await workloads.snapshot(cluster, name);
      reply.code(created ? 201 : 200);
      return snapshot;
    }),
  );
  app.get('/v1/clusters/:cluster/snapshots', async (request) => ({ items: await workloads.listSnapshots(clusterParams.parse(request.params).cluster) }));
  app.post(
    '/v1/clusters/:cluster/restore',
    call('restore', async (request, reply, cluster) => {
      const body = z.object({ snapshot: dnsLabel }).parse(request.body);
      await workloads.restore(cluster, body.snapshot);
      reply.code(202);
      return null;
    }),
  );
  app.post(
    '/v1/clusters/:cluster/addons',
    call('installAddons', async (request, reply, cluster, found) => {
      const body = addonsRequest.parse(request.body);
      await workloads.installAddons(cluster, body.addons, found);
      reply.code(204);
      return null;
    }),
  );
  app.get(
    '/v1/clusters/:cluster/addons',
    call('listAddons', async (_request, _reply, cluster, found) => ({ items: await workloads.listAddons(cluster, found) })),
  );
  app.get(
    '/v1/clusters/:cluster/objects',
    call('listObjects', async (_request, _reply, cluster, found) => ({ items: await workloads.listObjects(cluster, found) })),
  );
  const seedObjects = (mode: 'replace' | 'add') => async (request: FastifyRequest) => {
    const { cluster } = clusterParams.parse(request.params);
    const body = z.object({ objects: z.array(clusterObject).max(10_000) }).parse(request.body);
    return { items: await workloads.putObjects(cluster, body.objects, mode) };
  };
  app.put('/v1/clusters/:cluster/objects', seedObjects('replace'));
  app.post('/v1/clusters/:cluster/objects', seedObjects('add'));

  // --- chaos -----------------------------------------------------------------------------------
  app.post('/v1/chaos/faults', async (request, reply) => {
    const fault = await faults.add(faultSpec.parse(request.body));
    return reply.code(201).send(fault);
  });
  app.get('/v1/chaos/faults', async () => ({ items: await faults.list() }));
  app.delete('/v1/chaos/faults', async (_request, reply) => {
    await faults.clear();
    return reply.code(204).send();
  });
  app.delete('/v1/chaos/faults/:id', async (request, reply) => {
    await faults.remove(z.object({ id: z.string() }).parse(request.params).id);
    return reply.code(204).send();
  });
  if (services.machineFaults) registerMachineFaultRoutes(app, services.machineFaults);
  app.post('/v1/chaos/clusters/:cluster/lose', async (request, reply) => {
    await clusters.lose(clusterParams.parse(request.params).cluster);
    return reply.code(204).send();
  });
  // A cluster the real drivers made is an emulated API server; the older simulated ones are rows.
  const setApiServer = async (name: string, up: boolean) => {
    const emulated = await services.kube?.getApiServer(name);
    if (emulated?.role === 'workload') return services.kube!.updateApiServer(name, { serving: up });
    return clusters.setApiServer(name, up);
  };
  app.post('/v1/chaos/clusters/:cluster/api-server/down', async (request) => setApiServer(clusterParams.parse(request.params).cluster, false));
  app.post('/v1/chaos/clusters/:cluster/api-server/up', async (request) => setApiServer(clusterParams.parse(request.params).cluster, true));
  // etcd loses its data: every object of an emulated RKE2 cluster goes (its snapshot files stay,
  // as files on disk and in S3 do), so a restore from a snapshot is what brings it back.
  app.post('/v1/chaos/clusters/:cluster/etcd/data-loss', async (request) => {
    const name = clusterParams.parse(request.params).cluster;
    const emulated = await services.kube?.getApiServer(name);
    if (!services.etcdSnapshots || emulated?.role !== 'workload' || emulated.distribution !== 'rke2')
      throw notFound(`cluster ${name} is not an emulated RKE2 cluster`);
    return services.etcdSnapshots.wipe(name);
  });

  // --- stats -----------------------------------------------------------------------------------
  app.get('/v1/stats', async () => stats.summary());
  app.get('/v1/stats/objects', async (request) => {
    const filter = z.object({ kind: z.string().optional(), cluster: z.string().optional(), name: z.string().optional() }).parse(request.query);
    return { items: await stats.objects(filter) };
  });
  app.get('/v1/stats/calls', async (request) => {
    const filter = z.object({ call: z.string().optional(), cluster: z.string().optional() }).parse(request.query);
    return { items: await stats.calls(filter) };
  });
  app.delete('/v1/stats', async (_request, reply) => {
    await stats.reset();
    return reply.code(204).send();
  });

  return app;
}

/** The name is the URL's; a body may repeat it but not contradict it. */
function sameName<T extends { name?: string | undefined }>(body: T, name: string): T {
  if (body.name !== undefined && body.name !== name) throw invalid(`the body names ${body.name} but the URL names ${name}`);
  return body;
}
