import { createHash } from 'node:crypto';
import type { ResourceIndex, ResourceType } from './resources';

/**
 * `/openapi/v3`: the root index and one document per group/version, written from the resource
 * registry rather than copied from upstream. Each path carries what kubectl reads: the operation's
 * `x-kubernetes-group-version-kind` and its `fieldValidation`/`dryRun`/`fieldManager` query
 * parameters, which is how kubectl 1.32 learns that the server validates fields itself (so
 * `kubectl apply` sends `fieldValidation=Strict` instead of validating against a client-side
 * schema). Schemas are permissive (`x-kubernetes-preserve-unknown-fields`) except a CRD's own
 * `openAPIV3Schema`, which is served as given.
 */
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
  return createHash('sha512').update(JSON.stringify(types)).digest('hex').slice(0, 128).toUpperCase();
}

const QUERY = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMETERS = [
  QUERY('dryRun', 'When present, indicates that modifications should not be persisted. Valid value: All.'),
  QUERY('fieldManager', 'A name associated with the actor or entity that is making these changes.'),
  QUERY('fieldValidation', 'How the server handles unknown or duplicate fields: Ignore, Warn or Strict.'),
];

/** The document of one group/version; null when it is not served. */
export function openApiV3GroupVersion(index: ResourceIndex, group: string, version: string): unknown {
  const types = index.groupVersions().get(group)?.get(version);
  if (!types) return null;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const type of types) {
    const gvk = { group: type.group, version, kind: type.kind };
    const schemaName = schemaNameOf(type, version);
    schemas[schemaName] = schemaOf(type, version);
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
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'unversioned' }, paths, components: { schemas } };
}

function schemaNameOf(type: ResourceType, version: string): string {
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
 * (its `#/definitions/...` form). kube-apiserver also serves it as protobuf, which kubectl's
 * `explain --output=plaintext-openapiv2` asks for only: the emulator answers that with 406.
 */
export function openApiV2(index: ResourceIndex): unknown {
  const paths: Record<string, unknown> = {};
  const definitions: Record<string, unknown> = {};
  for (const [group, versions] of index.groupVersions()) {
    for (const [version, types] of versions) {
      const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
      for (const type of types) {
        const name = schemaNameOf(type, version);
        definitions[name] = schemaOf(type, version);
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
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'unversioned' }, paths, definitions };
}
