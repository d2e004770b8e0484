import { createHash } from 'node:crypto';
import upstream from './openapi-data/index.json';
import type { ResourceIndex, ResourceType } from './resources';

/**
 * `/openapi/v3`: the root index and one document per group/version; `/openapi/v2`: one document.
 * Built-in kinds get upstream Kubernetes 1.32's schemas (`openapi-data/`, its README says where
 * they come from), so `kubectl explain deployment.spec.template` walks real fields; a CRD's
 * `openAPIV3Schema` is served as given; the kinds upstream does not define (helm-controller's,
 * k3s') stay permissive (`x-kubernetes-preserve-unknown-fields`). Each path carries what kubectl
 * reads: the operation's `x-kubernetes-group-version-kind` and its `fieldValidation`/`dryRun`/
 * `fieldManager` query parameters, which is how kubectl 1.32 learns that the server validates
 * fields itself (so `kubectl apply` sends `fieldValidation=Strict` instead of validating against a
 * client-side schema).
 *
 * Memory: the definitions are split by Go package (`io.k8s.api.apps.v1`, ...) and a package is
 * loaded the first time a document needs it, once per process (shared by every API server in it).
 */
type Schema = Record<string, unknown>;

const PACKAGES: Record<string, () => Promise<Record<string, Schema>>> = {
  'io.k8s.api.apps.v1': async () => (await import('./openapi-data/io.k8s.api.apps.v1.json')).default,
  'io.k8s.api.authentication.v1': async () => (await import('./openapi-data/io.k8s.api.authentication.v1.json')).default,
  'io.k8s.api.authorization.v1': async () => (await import('./openapi-data/io.k8s.api.authorization.v1.json')).default,
  'io.k8s.api.autoscaling.v1': async () => (await import('./openapi-data/io.k8s.api.autoscaling.v1.json')).default,
  'io.k8s.api.autoscaling.v2': async () => (await import('./openapi-data/io.k8s.api.autoscaling.v2.json')).default,
  'io.k8s.api.batch.v1': async () => (await import('./openapi-data/io.k8s.api.batch.v1.json')).default,
  'io.k8s.api.coordination.v1': async () => (await import('./openapi-data/io.k8s.api.coordination.v1.json')).default,
  'io.k8s.api.core.v1': async () => (await import('./openapi-data/io.k8s.api.core.v1.json')).default,
  'io.k8s.api.discovery.v1': async () => (await import('./openapi-data/io.k8s.api.discovery.v1.json')).default,
  'io.k8s.api.events.v1': async () => (await import('./openapi-data/io.k8s.api.events.v1.json')).default,
  'io.k8s.api.flowcontrol.v1': async () => (await import('./openapi-data/io.k8s.api.flowcontrol.v1.json')).default,
  'io.k8s.api.networking.v1': async () => (await import('./openapi-data/io.k8s.api.networking.v1.json')).default,
  'io.k8s.api.policy.v1': async () => (await import('./openapi-data/io.k8s.api.policy.v1.json')).default,
  'io.k8s.api.rbac.v1': async () => (await import('./openapi-data/io.k8s.api.rbac.v1.json')).default,
  'io.k8s.api.scheduling.v1': async () => (await import('./openapi-data/io.k8s.api.scheduling.v1.json')).default,
  'io.k8s.api.storage.v1': async () => (await import('./openapi-data/io.k8s.api.storage.v1.json')).default,
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1': async () =>
    (await import('./openapi-data/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.json')).default,
  'io.k8s.apimachinery.pkg.api.resource': async () => (await import('./openapi-data/io.k8s.apimachinery.pkg.api.resource.json')).default,
  'io.k8s.apimachinery.pkg.apis.meta.v1': async () => (await import('./openapi-data/io.k8s.apimachinery.pkg.apis.meta.v1.json')).default,
  'io.k8s.apimachinery.pkg.util.intstr': async () => (await import('./openapi-data/io.k8s.apimachinery.pkg.util.intstr.json')).default,
};

/** Where `openapi-data/` comes from (its README). */
const UPSTREAM_RELEASE = 'kubernetes release-1.32';

const loaded = new Map<string, Record<string, Schema>>();

async function definition(name: string): Promise<Schema | undefined> {
  const pkg = name.slice(0, name.lastIndexOf('.'));
  let defs = loaded.get(pkg);
  if (!defs) {
    const load = PACKAGES[pkg];
    if (!load) return undefined;
    defs = await load();
    loaded.set(pkg, defs);
  }
  return defs[name];
}

/** The upstream definition name of a served kind (`apps/v1/Deployment` -> `io.k8s.api.apps.v1.Deployment`). */
function upstreamName(group: string, version: string, kind: string): string | undefined {
  return (upstream.kinds as Record<string, string>)[`${group ? `${group}/` : ''}${version}/${kind}`];
}

/** `roots` and every definition they reference, in the v2 form (`#/definitions/...`). */
async function closure(roots: string[]): Promise<Map<string, Schema>> {
  const out = new Map<string, Schema>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (out.has(name)) continue;
    const schema = await definition(name);
    if (!schema) continue;
    out.set(name, schema);
    for (const match of JSON.stringify(schema).matchAll(/#\/definitions\/([^"]+)/g)) stack.push(match[1]!);
  }
  return out;
}

/**
 * A v2 definition in OpenAPI v3 form, as kube-apiserver's builder writes it: references point at
 * `#/components/schemas/`, and a reference with siblings (description, default) is wrapped in
 * `allOf`, since v3 ignores a `$ref`'s siblings.
 */
function toV3(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toV3);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'x-kubernetes-group-version-kind' ? value : toV3(value);
  const ref = out['$ref'];
  if (typeof ref !== 'string') return out;
  const target = ref.replace('#/definitions/', '#/components/schemas/');
  const { $ref: _ref, ...siblings } = out;
  return Object.keys(siblings).length === 0 ? { $ref: target } : { allOf: [{ $ref: target }], ...siblings };
}

/**
 * Types that declare `OpenAPIV3OneOfTypes` in Go are written without a `type` in v3, as a `oneOf`
 * of the JSON types they accept (v2 has no oneOf and says `string`). `kubectl explain` reads v3 and,
 * finding no type, names the field by its reference: `maxSurge <IntOrString>`,
 * `limits <map[string]Quantity>`, as against kube-apiserver.
 */
const V3_ONE_OF: Record<string, string[]> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': ['integer', 'string'],
  'io.k8s.apimachinery.pkg.api.resource.Quantity': ['string', 'number'],
};

const v3Cache = new Map<string, unknown>();
function v3Of(name: string, schema: Schema): unknown {
  let converted = v3Cache.get(name);
  if (!converted) {
    converted = toV3(schema);
    const oneOf = V3_ONE_OF[name];
    if (oneOf) {
      const { type: _type, ...rest } = converted as Schema;
      converted = { ...rest, oneOf: oneOf.map((type) => ({ type })) };
    }
    v3Cache.set(name, converted);
  }
  return converted;
}
export function openApiV3Root(index: ResourceIndex): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, versions] of index.groupVersions()) {
    for (const version of versions.keys()) {
      const path = group ? `apis/${group}/${version}` : `api/${version}`;
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hashOf(index, group, version)}` };
    }
  }
  return { paths };
}

function hashOf(index: ResourceIndex, group: string, version: string): string {
  const types = index.groupVersions().get(group)?.get(version) ?? [];
  // The data's origin is part of the hash: kubectl caches documents by it (~/.kube/cache), and must not keep the permissive ones of earlier emulators.
  return createHash('sha512')
    .update(`${UPSTREAM_RELEASE}\n${JSON.stringify(types)}`)
    .digest('hex')
    .slice(0, 128)
    .toUpperCase();
}

const QUERY = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMETERS = [
  QUERY('dryRun', 'When present, indicates that modifications should not be persisted. Valid value: All.'),
  QUERY('fieldManager', 'A name associated with the actor or entity that is making these changes.'),
  QUERY('fieldValidation', 'How the server handles unknown or duplicate fields: Ignore, Warn or Strict.'),
];

/** The document of one group/version; null when it is not served. */
export async function openApiV3GroupVersion(index: ResourceIndex, group: string, version: string): Promise<unknown> {
  const types = index.groupVersions().get(group)?.get(version);
  if (!types) return null;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const type of types) {
    const gvk = { group: type.group, version, kind: type.kind };
    const schemaName = schemaNameOf(type, version);
    if (!upstreamName(type.group, version, type.kind)) schemas[schemaName] = schemaOf(type, version);
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } };
    const collection = type.namespaced ? `${prefix}/namespaces/{namespace}/${type.resource}` : `${prefix}/${type.resource}`;
    const item = `${collection}/{name}`;
    const op = (verb: string, extra: object = {}) => ({
      description: `${verb} ${type.kind}`,
      operationId: `${verb}${type.kind}`,
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
      responses: ok,
      ...extra,
    });
    paths[collection] = {
      get: op('list'),
      post: op('post', { parameters: WRITE_PARAMETERS, requestBody: { content: { '*/*': { schema: ref } } } }),
    };
    paths[item] = {
      get: op('get'),
      put: op('put', { parameters: WRITE_PARAMETERS, requestBody: { content: { '*/*': { schema: ref } } } }),
      patch: op('patch', { parameters: [...WRITE_PARAMETERS, QUERY('force', 'Force is going to "force" Apply requests.')] }),
      delete: op('delete', { parameters: [WRITE_PARAMETERS[0]] }),
    };
    if (type.subresources.includes('status')) {
      paths[`${item}/status`] = { get: op('get'), put: op('put', { parameters: WRITE_PARAMETERS }), patch: op('patch', { parameters: WRITE_PARAMETERS }) };
    }
  }
  const roots = types.map((t) => upstreamName(t.group, version, t.kind)).filter((n): n is string => Boolean(n));
  for (const [name, schema] of await closure(roots)) schemas[name] = v3Of(name, schema);
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'unversioned' }, paths, components: { schemas } };
}

function schemaNameOf(type: ResourceType, version: string): string {
  const known = upstreamName(type.group, version, type.kind);
  if (known) return known;
  const reversed = (type.group || 'core').split('.').reverse().join('.');
  return `io.k8s.api.${reversed}.${version}.${type.kind}`;
}

function schemaOf(type: ResourceType, version: string): unknown {
  const gvk = [{ group: type.group, version, kind: type.kind }];
  const crdSchema = type.schemas?.[version];
  if (crdSchema && typeof crdSchema === 'object') return { ...crdSchema, 'x-kubernetes-group-version-kind': gvk };
  return {
    type: 'object',
    description: `${type.kind} (emulated: fields are not described)`,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': gvk,
  };
}

/**
 * `/openapi/v2` (Swagger 2.0, JSON only): every served kind's definition and its collection and
 * item paths with `x-kubernetes-group-version-kind`, from the same schemas as `/openapi/v3`
 * (upstream's own `#/definitions/...` form). kube-apiserver also serves it as protobuf, which kubectl's
 * `explain --output=plaintext-openapiv2` asks for only: the emulator answers that with 406.
 */
export async function openApiV2(index: ResourceIndex): Promise<unknown> {
  const paths: Record<string, unknown> = {};
  const definitions: Record<string, unknown> = {};
  const roots: string[] = [];
  for (const [group, versions] of index.groupVersions()) {
    for (const [version, types] of versions) {
      const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
      for (const type of types) {
        const name = schemaNameOf(type, version);
        if (upstreamName(type.group, version, type.kind)) roots.push(name);
        else definitions[name] = schemaOf(type, version);
        const gvk = { group: type.group, version, kind: type.kind };
        const ref = { $ref: `#/definitions/${name}` };
        const op = (verb: string) => ({
          operationId: `${verb}${type.kind}`,
          produces: ['application/json', 'application/yaml'],
          schemes: ['https'],
          responses: { '200': { description: 'OK', schema: ref } },
          'x-kubernetes-action': verb,
          'x-kubernetes-group-version-kind': gvk,
        });
        const collection = type.namespaced ? `${prefix}/namespaces/{namespace}/${type.resource}` : `${prefix}/${type.resource}`;
        paths[collection] = type.verbs.includes('list') ? { get: op('list'), post: op('post') } : { post: op('post') };
        if (type.verbs.includes('get')) paths[`${collection}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
      }
    }
  }
  for (const [name, schema] of await closure(roots)) definitions[name] = schema;
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'unversioned' }, paths, definitions };
}
