import { KubeApiError } from './types';

/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) for the built-in kinds, as
 * kube-apiserver applies it: maps merge, `null` deletes, and lists merge by their merge key where
 * the Kubernetes types declare `patchStrategy:"merge"` (otherwise they are replaced). Directives:
 * `$patch: replace|delete|merge`, `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`,
 * `$retainKeys`.
 *
 * Simplified: merge keys are looked up by field name rather than by the exact Go type the field
 * belongs to; the one field name with two keys (`ports`: containerPort in a container, port in a
 * Service) is told apart by its elements. As upstream, tolerations, envFrom and RBAC rules are
 * atomic (replaced).
 */
const MERGE_KEYS: Record<string, string | ((items: unknown[]) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  ports: (items) => (items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port'),
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  conditions: 'type',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  ownerReferences: 'uid',
  secrets: 'name',
  addresses: 'type',
  ephemeralContainerStatuses: 'name',
};
/** Lists of scalars merged as sets. */
const MERGED_PRIMITIVES = new Set(['finalizers', 'podCIDRs']);

const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidPatch(message: string): KubeApiError {
  return new KubeApiError(422, 'Invalid', `the strategic merge patch could not be applied: ${message}`);
}

export function applyStrategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw invalidPatch('a strategic merge patch must be a JSON object');
  return mergeMap(isObject(original) ? original : {}, patch);
}

function mergeMap(original: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const directive = patch.$patch;
  if (directive === 'replace') {
    const replaced = { ...patch };
    delete replaced.$patch;
    return replaced;
  }
  if (directive === 'delete') return {};
  const result: Record<string, unknown> = { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE.length);
      if (!Array.isArray(value)) throw invalidPatch(`${key} must be a list`);
      if (Array.isArray(result[field])) result[field] = (result[field] as unknown[]).filter((item) => !value.includes(item));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    if (isObject(value)) {
      if (value.$patch === 'delete') delete result[key];
      else result[key] = mergeMap(isObject(result[key]) ? result[key] : {}, value);
      continue;
    }
    if (Array.isArray(value)) {
      result[key] = mergeList(key, Array.isArray(result[key]) ? (result[key] as unknown[]) : [], value);
      continue;
    }
    result[key] = value;
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
  }
  return result;
}

function mergeList(field: string, original: unknown[], patch: unknown[]): unknown[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item.$patch === 'replace'));
  }
  if (MERGED_PRIMITIVES.has(field)) return [...original, ...patch.filter((item) => !original.includes(item))];
  const rule = MERGE_KEYS[field];
  if (!rule) return patch;
  const key = typeof rule === 'string' ? rule : rule([...original, ...patch]);
  const result = [...original];
  for (const item of patch) {
    if (!isObject(item)) throw invalidPatch(`the elements of ${field} must be objects with "${key}"`);
    if (!(key in item)) throw invalidPatch(`an element of ${field} has no merge key "${key}"`);
    const at = result.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) result.splice(at, 1);
    } else if (at >= 0) result[at] = mergeMap(result[at] as Record<string, unknown>, item);
    else {
      const added = { ...item };
      delete added.$patch;
      result.push(added);
    }
  }
  return result;
}
