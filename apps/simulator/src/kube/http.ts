import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyPatch, type Operation } from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import type { FieldValidation } from './crd-validation';
import { apiGroupList, apiResourceList, apiVersions } from './discovery';
import type { KubeEmulatorRuntime } from './emulator';
import { applyMergePatch, badRequest, checkShape, jsonPatchFailed, notFound } from './object-rules';
import { asVersion, type PropagationPolicy } from './object-store';
import { splitApiVersion, type ResourceIndex, type ResourceType } from './resources';
import { openApiV2, openApiV3GroupVersion, openApiV3Root } from './openapi';
import { decodeProtobuf } from './protobuf';
import { answerReview, requestUser, REVIEW_RESOURCES } from './reviews';
import { applyStrategicMergePatch } from './strategic-merge';
import { toTable } from './table';
import { serveWatch } from './watch';
import { type ApiServerInfo, KubeApiError, type KubeObject } from './types';

/**
 * One emulated API server over HTTP: health, /version, discovery and the REST paths of its
 * resources, with kube-apiserver's status codes and `Status` bodies. The listener picks the
 * server by TLS server name (kube-endpoint.ts) and hands the request here.
 */
const HEALTH_PATHS = /^\/(readyz|livez|healthz)(\/.*)?$/;
/** kube-apiserver refuses bodies over 3 MiB. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface RequestContext {
  emulator: KubeEmulatorRuntime;
  info: ApiServerInfo;
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams;
  /** The bearer token's subject, once authenticated. */
  subject?: string;
}

export async function serveApiServer(
  emulator: KubeEmulatorRuntime,
  info: ApiServerInfo,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  path: string,
): Promise<void> {
  const context: RequestContext = { emulator, info, req, res, path, query: url.searchParams };
  try {
    await route(context);
  } catch (error) {
    if (error instanceof KubeApiError) return sendStatus(res, error);
    throw error;
  }
}

async function route(context: RequestContext): Promise<void> {
  const { emulator, info, req, res, path } = context;
  const health = HEALTH_PATHS.exec(path);
  if (health) return serveHealth(context, health[1]!, health[2]);
  if (!info.serving) throw new KubeApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');

  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const subject = token ? await emulator.authenticate(info.name, token) : null;
  if (!subject) throw new KubeApiError(401, 'Unauthorized', 'Unauthorized');
  context.subject = subject;

  if (path === '/version' || path === '/version/') {
    if (req.method !== 'GET') throw methodNotAllowed();
    return sendJson(res, 200, versionInfo(info));
  }
  const index = await emulator.resources(info.name);
  if (path === '/api' || path === '/api/') return sendJson(res, 200, apiVersions());
  if (path === '/openapi/v3' || path === '/openapi/v3/') return sendJson(res, 200, openApiV3Root(index));
  if (path === '/openapi/v2' || path === '/openapi/v2/') {
    const accept = req.headers.accept ?? '';
    if (accept && !/application\/json|\*\/\*/.test(accept))
      throw new KubeApiError(406, 'NotAcceptable', `only application/json is served for /openapi/v2 by this emulated API server, not ${accept}`);
    return sendJson(res, 200, await openApiV2(index));
  }
  const openapi = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (openapi) {
    const doc = openapi[1] ? await openApiV3GroupVersion(index, '', openapi[1]) : await openApiV3GroupVersion(index, openapi[2]!, openapi[3]!);
    if (!doc) throw pathNotFound();
    return sendJson(res, 200, doc);
  }
  if (path === '/apis' || path === '/apis/') return sendJson(res, 200, apiGroupList(index));
  const segments = path
    .split('/')
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);

  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    group = '';
    version = segments[1]!;
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1]!;
    version = segments[2]!;
    rest = segments.slice(3);
  } else if (segments[0] === 'apis' && segments.length === 2) {
    const doc = (apiGroupList(index) as { groups: { name: string }[] }).groups.find((g) => g.name === segments[1]);
    if (!doc) throw pathNotFound();
    return sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...doc });
  } else throw pathNotFound();

  if (rest.length === 0) {
    const list = apiResourceList(index, group, version);
    if (!list) throw pathNotFound();
    return sendJson(res, 200, list);
  }
  return serveResource(context, index, group, version, rest);
}

/** kube-apiserver's health checks per endpoint (a subset of its post-start hooks), in its order. */
const HEALTH_CHECKS: Record<string, string[]> = {
  healthz: ['ping', 'log', 'etcd', 'poststarthook/start-apiextensions-informers', 'poststarthook/crd-informer-synced', 'poststarthook/rbac/bootstrap-roles'],
  livez: ['ping', 'log', 'etcd', 'poststarthook/start-apiextensions-informers', 'poststarthook/crd-informer-synced', 'poststarthook/rbac/bootstrap-roles'],
  readyz: [
    'ping',
    'log',
    'etcd',
    'etcd-readiness',
    'informer-sync',
    'poststarthook/start-apiextensions-informers',
    'poststarthook/crd-informer-synced',
    'poststarthook/rbac/bootstrap-roles',
    'shutdown',
  ],
};

/**
 * `/readyz`, `/livez`, `/healthz` as kube-apiserver answers them, to anyone: `ok`, each check with
 * `?verbose` (`[+]etcd ok`, ... `readyz check passed`), one check by path (`/readyz/etcd`), 404 for
 * an unknown one, and 503 naming etcd while this server is not serving.
 */
function serveHealth(context: RequestContext, endpoint: string, checkPath: string | undefined): void {
  const { info, res, query } = context;
  const checks = HEALTH_CHECKS[endpoint]!;
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
  const failing = info.serving ? null : 'etcd';
  if (checkPath && checkPath !== '/') {
    const check = checkPath.slice(1);
    if (!checks.includes(check)) {
      res.writeHead(404, headers);
      res.end('404 page not found\n');
      return;
    }
    res.writeHead(check === failing ? 503 : 200, headers);
    res.end(check === failing ? 'internal server error: reason withheld\n' : 'ok');
    return;
  }
  const excluded = new Set(query.getAll('exclude'));
  const lines = checks.filter((check) => !excluded.has(check)).map((check) => (check === failing ? `[-]${check} failed: reason withheld` : `[+]${check} ok`));
  for (const check of excluded) if (checks.includes(check)) lines.push(`[+]${check} excluded: ok`);
  res.writeHead(failing ? 503 : 200, headers);
  if (failing) res.end(`${lines.join('\n')}\n${endpoint} check failed\n`);
  else res.end(query.has('verbose') ? `${lines.join('\n')}\n${endpoint} check passed\n` : 'ok');
}

/**
 * Streaming subresources the emulator deliberately lacks (kubectl exec, attach, port-forward,
 * cp, proxy): a 405 `Status` saying so, instead of a bare 404 (apps/simulator/README.md).
 */
const UNSUPPORTED_SUBRESOURCES = new Set(['/pods/exec', '/pods/attach', '/pods/portforward', '/pods/proxy', '/services/proxy', '/nodes/proxy']);

function serveResource(context: RequestContext, index: ResourceIndex, group: string, version: string, rest: string[]): Promise<void> {
  let namespace: string | undefined;
  let parts = rest;
  // `/namespaces/<ns>/<resource>...` names a namespaced resource; `/namespaces/<ns>[/status|/finalize]` the Namespace.
  const namespaceSubresource = group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize');
  if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
    namespace = rest[1];
    parts = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = parts as [string, string | undefined, string | undefined, ...string[]];
  const type = index.byResource(group, version, resource);
  if (type && subresource !== undefined && UNSUPPORTED_SUBRESOURCES.has(`${type.group}/${type.resource}/${subresource}`)) {
    throw new KubeApiError(
      405,
      'MethodNotAllowed',
      `${type.resource}/${subresource} is not supported by this emulated API server (Capstan's simulator): its containers run no process and it proxies nothing`,
    );
  }
  if (!type || extra.length > 0) throw pathNotFound();
  if (namespace !== undefined && !type.namespaced) throw pathNotFound();

  if (subresource !== undefined) return serveSubresource(context, type, version, namespace, name!, subresource);
  if (name === undefined) return serveCollection(context, type, version, namespace);
  return serveItem(context, type, version, namespace, name);
}

async function serveCollection(context: RequestContext, type: ResourceType, version: string, namespace: string | undefined): Promise<void> {
  const { emulator, info, req, res, query } = context;
  if (!type.verbs.includes(COLLECTION_VERBS[req.method ?? ''] ?? '')) throw methodNotAllowed();
  if (req.method === 'POST' && REVIEW_RESOURCES.has(`${type.group}/${type.resource}`)) {
    const body = await readJson(req);
    checkShape(body, type, version, namespace);
    return sendJson(
      res,
      201,
      await answerReview(
        emulator,
        info,
        type.resource,
        apiVersionOf(type, version),
        type.kind,
        body as unknown as Record<string, unknown>,
        requestUser(context.subject!, req.headers),
      ),
    );
  }
  switch (req.method) {
    case 'GET': {
      if (isTrue(query.get('watch'))) return serveWatch(context, type, version, namespace);
      const limit = query.get('limit');
      const result = await emulator.store.list(info.name, type, version, {
        ...(namespace !== undefined ? { namespace } : {}),
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
        limit: limit ? parseLimit(limit) : undefined,
        continue: query.get('continue') ?? undefined,
      });
      const extra = {
        ...(result.continue ? { continue: result.continue } : {}),
        ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
      };
      if (wantsTable(req)) return sendJson(res, 200, toTable(type, result.items, result.resourceVersion, extra));
      return sendJson(res, 200, {
        kind: type.listKind,
        apiVersion: apiVersionOf(type, version),
        metadata: { resourceVersion: result.resourceVersion, ...extra },
        items: result.items,
      });
    }
    case 'POST': {
      const body = await readJson(req);
      checkShape(body, type, version, namespace);
      const options = { ...writeOptions(query), manager: updateManager(context) };
      const created = await emulator.store.create(info.name, type, version, namespace ?? body.metadata.namespace, body, { keepStatus: false, ...options });
      return sendObject(context, 201, type, created, options.warnings);
    }
    case 'DELETE': {
      const options = await readDeleteOptions(req, query);
      const result = await emulator.store.list(info.name, type, version, {
        ...(namespace !== undefined ? { namespace } : {}),
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
      });
      const items: KubeObject[] = [];
      for (const item of result.items) {
        try {
          items.push(await emulator.store.delete(info.name, type, version, item.metadata.namespace, item.metadata.name, options));
        } catch (error) {
          if (!(error instanceof KubeApiError && error.code === 404)) throw error;
        }
      }
      return sendJson(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type, version), metadata: { resourceVersion: result.resourceVersion }, items });
    }
    default:
      throw methodNotAllowed();
  }
}

async function serveItem(context: RequestContext, type: ResourceType, version: string, namespace: string | undefined, name: string): Promise<void> {
  const { emulator, info, req, query } = context;
  if (!type.verbs.includes(ITEM_VERBS[req.method ?? ''] ?? '')) throw methodNotAllowed();
  if (type.namespaced && namespace === undefined) throw pathNotFound();
  switch (req.method) {
    case 'GET': {
      const object = await emulator.store.get(info.name, type, version, namespace, name);
      if (!object) throw notFound(type, name);
      return sendObject(context, 200, type, object);
    }
    case 'PUT': {
      const body = await readJson(req);
      checkShape(body, type, version, namespace);
      if (body.metadata.name !== name) throw badRequest(`the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`);
      const options = { ...writeOptions(query), manager: updateManager(context) };
      const updated = await emulator.store.update(info.name, type, version, namespace, body, options);
      return sendObject(context, 200, type, updated, options.warnings);
    }
    case 'PATCH': {
      const options = writeOptions(query);
      if (contentTypeOf(req) === 'application/apply-patch+yaml') {
        const manager = query.get('fieldManager');
        if (!manager) throw badRequest('PATCH, fieldManager is required for apply requests');
        const config = await readApplyConfiguration(req);
        checkShape(config, type, version, namespace);
        if (config.metadata.name !== undefined && config.metadata.name !== name)
          throw badRequest(`the name of the object (${String(config.metadata.name)}) does not match the name on the URL (${name})`);
        const force = isTrue(query.get('force'));
        const result = await emulator.store.apply(info.name, type, version, namespace, name, config, { manager, force }, options);
        return sendObject(context, result.created ? 201 : 200, type, result.object, options.warnings);
      }
      const change = await readPatch(req, type);
      const patched = await emulator.store.patch(info.name, type, version, namespace, name, change, { ...options, manager: updateManager(context) });
      return sendObject(context, 200, type, patched, options.warnings);
    }
    case 'DELETE': {
      const options = await readDeleteOptions(req, query);
      const deleted = await emulator.store.delete(info.name, type, version, namespace, name, options);
      return sendObject(context, 200, type, deleted);
    }
    default:
      throw methodNotAllowed();
  }
}

async function serveSubresource(
  context: RequestContext,
  type: ResourceType,
  version: string,
  namespace: string | undefined,
  name: string,
  subresource: string,
): Promise<void> {
  const { emulator, info, req, res, query } = context;
  if (!type.subresources.includes(subresource)) throw pathNotFound();
  if (type.namespaced && namespace === undefined) throw pathNotFound();
  if (subresource === 'status') {
    switch (req.method) {
      case 'GET': {
        const object = await emulator.store.get(info.name, type, version, namespace, name);
        if (!object) throw notFound(type, name);
        return sendObject(context, 200, type, object);
      }
      case 'PUT': {
        const body = await readJson(req);
        checkShape(body, type, version, namespace);
        if (body.metadata.name !== name)
          throw badRequest(`the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`);
        const options = { ...writeOptions(query), manager: updateManager(context) };
        return sendObject(context, 200, type, await emulator.store.updateStatus(info.name, type, version, namespace, body, options), options.warnings);
      }
      case 'PATCH': {
        const change = await readPatch(req, type);
        return sendObject(
          context,
          200,
          type,
          await emulator.store.patch(info.name, type, version, namespace, name, change, {
            ...writeOptions(query),
            subresource: 'status',
            manager: updateManager(context),
          }),
        );
      }
      default:
        throw methodNotAllowed();
    }
  }
  if (subresource === 'finalize' && type.group === '' && type.kind === 'Namespace') {
    if (req.method !== 'PUT') throw methodNotAllowed();
    const body = await readJson(req);
    checkShape(body, type, version, namespace);
    if (body.metadata.name !== name) throw badRequest(`the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`);
    const finalizers = (body.spec?.['finalizers'] as unknown[] | undefined) ?? [];
    if (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== 'string')) throw badRequest('spec.finalizers must be a list of strings');
    return sendObject(context, 200, type, await emulator.store.finalizeNamespace(info.name, type, version, name, finalizers as string[], writeOptions(query)));
  }
  const handler = emulator.subresource(type.group, type.resource, subresource);
  if (!handler) throw pathNotFound();
  const verb = ({ GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch' } as const)[req.method as 'GET' | 'POST' | 'PUT' | 'PATCH'];
  if (!verb) throw methodNotAllowed();
  const body = verb === 'get' ? null : await readSubresourceBody(req);
  const answer = await handler.handle({
    verb,
    server: emulator.server(info.name),
    info,
    emulator,
    ...(namespace !== undefined ? { namespace } : {}),
    name,
    body,
    query,
    fieldManager: updateManager(context),
  });
  const code = answer.status ?? (verb === 'create' ? 201 : 200);
  if (answer.contentType) {
    const text = String(answer.body);
    res.writeHead(code, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  return sendJson(res, code, answer.body);
}

/** The verb of a request on a collection or an item, to check against the resource's verbs (create-only reviews answer 405 to the rest). */
const COLLECTION_VERBS: Record<string, string> = { GET: 'list', POST: 'create', DELETE: 'deletecollection' };
const ITEM_VERBS: Record<string, string> = { GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

// ---- requests ----

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** dryRun and fieldValidation of a write request; `warnings` collects what to send back as `Warning` headers. */
function writeOptions(query: URLSearchParams): { dryRun: boolean; fieldValidation: FieldValidation; warnings: string[] } {
  const value = query.get('fieldValidation') ?? 'Warn';
  if (value !== 'Strict' && value !== 'Warn' && value !== 'Ignore') throw badRequest(`fieldValidation must be one of Strict, Warn, Ignore, not "${value}"`);
  return { dryRun: isDryRun(query), fieldValidation: value, warnings: [] };
}

/**
 * The manager a create, update or patch is recorded under in managedFields: the `fieldManager`
 * parameter (kubectl sends `kubectl-create`, `kubectl-client-side-apply`, ...), else what
 * kube-apiserver takes, the User-Agent up to its first `/`.
 */
function updateManager(context: RequestContext): string {
  const given = context.query.get('fieldManager');
  if (given) return given;
  const agent = context.req.headers['user-agent'] ?? '';
  return agent.split('/')[0]!.slice(0, 128) || 'unknown';
}

function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const value of values) if (value !== 'All') throw badRequest(`Invalid dry run value "${value}": only "All" is supported`);
  return values.length > 0;
}

function parseLimit(text: string): number {
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit "${text}"`);
  return limit;
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new KubeApiError(413, 'RequestEntityTooLarge', 'the request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Subresource handlers take patches as parsed JSON too (`kubectl scale` merge-patches `scale`):
 * an array is a JSON patch, an object a merge patch.
 */
const PATCH_TYPES = new Set(['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json']);

async function readSubresourceBody(req: IncomingMessage): Promise<unknown> {
  if (req.method === 'PATCH' && PATCH_TYPES.has(contentTypeOf(req))) return parseJson(await readBody(req));
  return readJson(req);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const contentType = contentTypeOf(req) || 'application/json';
  if (contentType === 'application/vnd.kubernetes.protobuf') return decodeProtobuf(await readBytes(req));
  if (contentType !== 'application/json' && contentType !== '*/*') {
    throw new KubeApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json`);
  }
  return parseJson(await readBody(req));
}

function parseJson(text: string): unknown {
  if (!text.trim()) throw badRequest('the request body is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function readDeleteOptions(
  req: IncomingMessage,
  query: URLSearchParams,
): Promise<{ dryRun: boolean; uid?: string; resourceVersion?: string; propagationPolicy?: PropagationPolicy; gracePeriodSeconds?: number }> {
  const text = await readBody(req);
  let dryRun = isDryRun(query);
  const fromQuery = query.get('propagationPolicy');
  const graceFromQuery = query.get('gracePeriodSeconds');
  const grace = graceFromQuery === null ? {} : { gracePeriodSeconds: gracePeriod(graceFromQuery) };
  if (!text.trim()) return { dryRun, ...(fromQuery ? { propagationPolicy: propagation(fromQuery) } : {}), ...grace };
  let options: {
    dryRun?: string[];
    preconditions?: { uid?: string; resourceVersion?: string };
    propagationPolicy?: string;
    orphanDependents?: boolean;
    gracePeriodSeconds?: unknown;
  };
  try {
    options = JSON.parse(text) as typeof options;
  } catch {
    throw badRequest('the DeleteOptions body is not valid JSON');
  }
  if (Array.isArray(options.dryRun) && options.dryRun.length > 0) {
    if (options.dryRun.some((v) => v !== 'All')) throw badRequest('only dryRun "All" is supported');
    dryRun = true;
  }
  const policy = options.propagationPolicy ?? fromQuery ?? (options.orphanDependents === true ? 'Orphan' : null);
  return {
    dryRun,
    ...(policy ? { propagationPolicy: propagation(policy) } : {}),
    ...(options.preconditions?.uid ? { uid: options.preconditions.uid } : {}),
    ...(options.preconditions?.resourceVersion ? { resourceVersion: options.preconditions.resourceVersion } : {}),
    ...(options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds !== null
      ? { gracePeriodSeconds: gracePeriod(options.gracePeriodSeconds) }
      : grace),
  };
}

function gracePeriod(value: unknown): number {
  const seconds = typeof value === 'string' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds)) throw badRequest(`invalid gracePeriodSeconds "${String(value)}"`);
  // kube-apiserver turns a negative grace period into 1 s.
  return seconds < 0 ? 1 : seconds;
}

function propagation(value: string): PropagationPolicy {
  if (value === 'Background' || value === 'Foreground' || value === 'Orphan') return value;
  throw badRequest(`unsupported propagationPolicy "${value}": Background, Foreground or Orphan`);
}

function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim();
}

/** An apply configuration: YAML (which JSON is too). */
async function readApplyConfiguration(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw badRequest(`the apply configuration is not valid YAML: ${(error as Error).message}`);
  }
}

/** A PATCH body as a change to the current object, by its content type. */
async function readPatch(req: IncomingMessage, type: ResourceType): Promise<(current: KubeObject) => KubeObject> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  const text = await readBody(req);
  let patch: unknown;
  try {
    patch = JSON.parse(text) as unknown;
  } catch {
    throw badRequest('the patch is not valid JSON');
  }
  switch (contentType) {
    case 'application/merge-patch+json':
      if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('a merge patch must be a JSON object');
      return (current) => applyMergePatch(current, patch) as KubeObject;
    case 'application/json-patch+json':
      if (!Array.isArray(patch)) throw badRequest('a JSON patch must be an array of operations');
      return (current) => {
        try {
          return applyPatch(structuredClone(current), patch as Operation[], true, true).newDocument;
        } catch (error) {
          throw jsonPatchFailed(error);
        }
      };
    case 'application/strategic-merge-patch+json':
      // As kube-apiserver: custom resources have no Go types to take merge keys from.
      if (type.schemas) throw new KubeApiError(415, 'UnsupportedMediaType', `strategic merge patch is not supported for ${type.resource}.${type.group}`);
      return (current) => applyStrategicMergePatch(current, patch) as KubeObject;
    default:
      throw new KubeApiError(415, 'UnsupportedMediaType', `the server does not support the patch type "${contentType}"`);
  }
}

export function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

// ---- responses ----

function apiVersionOf(type: ResourceType, version: string): string {
  return type.group ? `${type.group}/${version}` : version;
}

function sendObject(context: RequestContext, code: number, type: ResourceType, object: KubeObject, warnings: string[] = []): void {
  if (warnings.length > 0)
    context.res.setHeader(
      'Warning',
      warnings.map((w) => `299 - ${JSON.stringify(w)}`),
    );
  const shown = asVersion(object, type, splitApiVersion(object.apiVersion).version);
  if (wantsTable(context.req)) return sendJson(context.res, code, toTable(type, [shown], shown.metadata.resourceVersion ?? ''));
  sendJson(context.res, code, shown);
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendStatus(res: ServerResponse, error: KubeApiError): void {
  // A stream (a watch) that fails after its head was sent can only be cut.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const details = error.details ?? {};
  sendJson(res, error.code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.reason,
    ...(Object.keys(details).length > 0 ? { details } : {}),
    code: error.code,
  });
}

function pathNotFound(): KubeApiError {
  return new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
}

function methodNotAllowed(): KubeApiError {
  return new KubeApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** Kubernetes' `/version` document, with the distribution's build suffix (the version is stored in that form). */
export function versionInfo(info: ApiServerInfo): unknown {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(.*)$/.exec(info.version);
  const [major, minor] = match ? [match[1]!, match[2]!] : ['1', '0'];
  return {
    major,
    minor,
    gitVersion: gitVersion(info),
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.24.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** `v1.36.4+rke2r1`, `v1.36.2-gke.1100`: the version as given, or with the distribution's usual build suffix when it has none. */
export function gitVersion(info: Pick<ApiServerInfo, 'distribution' | 'version'>): string {
  const version = info.version.replace(/^v/, '');
  if (/[+-]/.test(version) || info.distribution === 'kubernetes') return `v${version}`;
  return info.distribution === 'rke2' ? `v${version}+rke2r1` : `v${version}-gke.1100`;
}
