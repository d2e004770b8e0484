import Ajv, { type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/**
 * Validates objects against the openAPIV3Schema of upstream CustomResourceDefinitions, as an API
 * server would with `fieldValidation=Strict`: unknown fields are errors (the API server would
 * prune them silently, which is how a misspelt field gets lost), every type, enum, pattern and
 * bound is checked. CEL rules (`x-kubernetes-validations`) are not evaluated.
 */
export class CrdSchemas {
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv({ strict: false, allErrors: true });

  constructor() {
    // The OpenAPI formats Kubernetes CRDs use; anything else passes, as the API server lets it.
    this.ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    this.ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
    for (const format of ['byte', 'duration', 'uri', 'hostname', 'ipv4', 'ipv6', 'cidr', 'quantity', 'uuid', 'email', 'password'])
      this.ajv.addFormat(format, true);
  }

  /** Loads every CRD in a YAML file (one or many documents). */
  load(path: string): this {
    for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const crd = document.toJS() as Crd | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        const schema = strict(structuredClone(version.schema.openAPIV3Schema));
        this.validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, this.ajv.compile(schema));
      }
    }
    return this;
  }

  /** The schema errors of `object` (by its apiVersion and kind), as `path: message` lines; [] when valid. */
  errors(object: { apiVersion: string; kind: string; [field: string]: unknown }): string[] {
    const validate = this.validators.get(`${object.apiVersion}/${object.kind}`);
    if (!validate) return [`no CRD loaded for ${object.apiVersion} ${object.kind}`];
    if (validate(object)) return [];
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
    );
  }
}

interface Crd {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
}

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; items?: Schema; additionalProperties?: unknown };

/** Closes every object schema that lists its properties (structural schemas prune the rest). */
function strict(schema: Schema): Schema {
  if (schema.properties) {
    for (const child of Object.values(schema.properties)) strict(child);
    if (schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) schema.additionalProperties = false;
  }
  if (schema.items) strict(schema.items);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') strict(schema.additionalProperties as Schema);
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) for (const child of (schema[key] as Schema[] | undefined) ?? []) strict(child);
  return schema;
}
