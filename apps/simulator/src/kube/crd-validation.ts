import Ajv, { type ValidateFunction } from 'ajv';
import { badRequest, invalid } from './object-rules';
import type { ResourceType } from './resources';
import type { KubeObject } from './types';

/**
 * A custom resource checked against its CRD version's `openAPIV3Schema`, as kube-apiserver does:
 * fields the schema does not know are pruned (unless `x-kubernetes-preserve-unknown-fields`), and
 * reported by `fieldValidation` (Strict: 400, Warn: a warning, Ignore: silently); values that
 * break the schema are 422 Invalid. `metadata` is checked by the API server's own rules instead.
 * Validation is ajv's JSON Schema over the OpenAPI subset CRDs use; `x-kubernetes-*` extensions
 * other than preserve-unknown-fields and formats are not enforced.
 */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 500;

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  nullable?: boolean;
};

function validatorFor(schema: Schema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    // metadata is the API server's business, whatever the CRD says of it.
    const properties = { ...schema.properties, metadata: {} };
    validate = ajv.compile(toJsonSchema({ ...schema, properties }) as object);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, validate);
  }
  return validate;
}

/** OpenAPI's `nullable` is JSON Schema's type union with null. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema))
    out[key] = key === 'properties' || key === 'patternProperties' ? mapValues(value, toJsonSchema) : toJsonSchema(value);
  const s = schema as Schema;
  if (s.nullable && typeof s.type === 'string') out.type = [s.type, 'null'];
  return out;
}

function mapValues(record: unknown, f: (v: unknown) => unknown): unknown {
  if (!record || typeof record !== 'object') return record;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}

/** Removes what the schema does not know; returns the removed fields' paths. */
function prune(value: unknown, schema: Schema | undefined, path: string, unknown: string[]): void {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => prune(item, schema.items, `${path}[${i}]`, unknown));
    return;
  }
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (schema.properties) {
    for (const key of Object.keys(record)) {
      const child = schema.properties[key];
      if (child) prune(record[key], child, path ? `${path}.${key}` : key, unknown);
      else if (!schema.additionalProperties) {
        unknown.push(path ? `${path}.${key}` : key);
        delete record[key];
      }
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(record)) prune(record[key], schema.additionalProperties, path ? `${path}.${key}` : key, unknown);
  }
}

/** The object as stored (pruned) and the warnings to send; throws 400/422 as kube-apiserver does. */
export function validateCustomResource(
  type: ResourceType,
  version: string,
  object: KubeObject,
  mode: FieldValidation,
): { object: KubeObject; warnings: string[] } {
  const schema = type.schemas?.[version] as Schema | undefined;
  if (!schema || typeof schema !== 'object') return { object, warnings: [] };
  const copy = structuredClone(object);
  const unknown: string[] = [];
  const topLevel: Schema = {
    ...schema,
    properties: { ...schema.properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { 'x-kubernetes-preserve-unknown-fields': true } },
  };
  prune(copy, topLevel, '', unknown);
  if (unknown.length > 0 && mode === 'Strict') {
    throw badRequest(
      `${type.kind} in version "${version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
    );
  }
  const validate = validatorFor(schema);
  if (!validate(copy)) {
    const causes = (validate.errors ?? []).map((e) => ({
      field: e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '<root>',
      message: `Invalid value: ${e.message ?? 'does not match the schema'}`,
    }));
    throw invalid(type, object.metadata.name, causes);
  }
  return { object: copy, warnings: mode === 'Warn' ? unknown.map((f) => `unknown field "${f}"`) : [] };
}
