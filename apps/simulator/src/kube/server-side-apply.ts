import { KubeApiError, type KubeObject } from './types';

/**
 * Server-side apply (`application/apply-patch+yaml`), simplified: each applying manager owns the
 * leaf fields of the configurations it applied, recorded in `metadata.managedFields` (FieldsV1
 * `f:` form, operation `Apply`). Applying sets the configuration's fields, removes fields this
 * manager applied before and left out now (unless another manager also owns them), and reports a
 * 409 Conflict where another manager owns a field with a different value (`force=true` takes it
 * over).
 *
 * Other writes through the API (create, PUT, other patches) record an `Update` entry for their
 * manager (`fieldManager`, else the User-Agent's product) with the fields they changed (see
 * recordUpdate), and applying over those fields with another value conflicts too, naming the
 * updater with its version (`conflict with "kubectl-create" using v1: .data.a`).
 *
 * Writes through the `status` and `scale` subresources are recorded the same way, in an entry
 * of their own carrying `subresource` (a status write owns `status` fields, a scale write
 * `.spec.replicas`), and a conflict names them as kube-apiserver does
 * (`conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas`).
 *
 * What is simplified: lists are atomic (owned and replaced whole, never merged by key).
 */
type Path = string[];

const IGNORED_TOP = new Set(['apiVersion', 'kind', 'status']);
const IGNORED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'managedFields',
  'selfLink',
]);

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The leaf paths of a configuration: scalars, lists and empty maps. Status is left out (it is
 * written through its own subresource), unless `subresource` is `status`: then only status.
 */
export function leafPaths(config: KubeObject, subresource?: string): Path[] {
  const paths: Path[] = [];
  const walk = (value: unknown, path: Path) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
    } else paths.push(path);
  };
  if (subresource === 'status') {
    if (config.status !== undefined) walk(config.status, ['status']);
    return paths;
  }
  for (const [key, value] of Object.entries(config)) {
    if (IGNORED_TOP.has(key)) continue;
    if (key === 'metadata' && isObject(value)) {
      for (const [field, child] of Object.entries(value)) if (!IGNORED_METADATA.has(field)) walk(child, ['metadata', field]);
    } else walk(value, [key]);
  }
  return paths;
}

export function toFieldsV1(paths: Path[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of paths) {
    let node = root;
    for (const part of path) {
      const key = `f:${part}`;
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
  }
  return root;
}

export function fromFieldsV1(fields: unknown): Path[] {
  const paths: Path[] = [];
  const walk = (node: unknown, path: Path) => {
    const keys = isObject(node) ? Object.keys(node).filter((k) => k.startsWith('f:')) : [];
    if (keys.length === 0) {
      if (path.length > 0) paths.push(path);
      return;
    }
    for (const key of keys) walk((node as Record<string, unknown>)[key], [...path, key.slice(2)]);
  };
  walk(fields, []);
  return paths;
}

const keyOf = (path: Path) => JSON.stringify(path);

function valueAt(object: unknown, path: Path): unknown {
  let value = object;
  for (const part of path) {
    if (!isObject(value)) return undefined;
    value = value[part];
  }
  return value;
}

function setAt(object: Record<string, unknown>, path: Path, value: unknown): void {
  let node = object;
  for (const part of path.slice(0, -1)) {
    if (!isObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = structuredClone(value);
}

function deleteAt(object: Record<string, unknown>, path: Path): void {
  const parents: Record<string, unknown>[] = [];
  let node: unknown = object;
  for (const part of path.slice(0, -1)) {
    if (!isObject(node)) return;
    parents.push(node);
    node = node[part];
  }
  if (!isObject(node)) return;
  delete node[path[path.length - 1]!];
  // Maps emptied by the removal go too, as they would not be there without the removed field.
  for (let i = path.length - 2; i >= 0; i--) {
    const parent = parents[i]!;
    const child = parent[path[i]!];
    if (isObject(child) && Object.keys(child).length === 0) delete parent[path[i]!];
    else break;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How kube-apiserver names a conflicting manager: the subresource it wrote through, and an updater's version. */
function conflictingManager(entry: ManagedFieldsEntry): string {
  const named = entry.subresource ? `${JSON.stringify(entry.manager)} with subresource ${JSON.stringify(entry.subresource)}` : JSON.stringify(entry.manager);
  return entry.operation === 'Update' ? `${named} using ${entry.apiVersion ?? 'v1'}` : named;
}

/** kube-apiserver's message for apply conflicts: one on a line, several grouped by manager (sorted). */
function conflictMessage(conflicts: { manager: string; field: string }[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${conflicts[0]!.manager}: ${conflicts[0]!.field}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
  const lines = [...byManager.keys()].sort().flatMap((manager) => [`conflicts with ${manager}:`, ...byManager.get(manager)!.map((field) => `- ${field}`)]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

const overlaps = (a: Path, b: Path) => (a.length <= b.length ? a.every((part, i) => b[i] === part) : b.every((part, i) => a[i] === part));

/**
 * The managedFields after `manager` wrote `next` over `current` with a create, update or
 * non-apply patch (operation `Update`), as kube-apiserver records them: the manager comes to own
 * every field it set or changed, which no other manager owns any longer; fields it removed are
 * nobody's. A write that changes no field leaves them as they were.
 */
export function recordUpdate(
  current: KubeObject | null,
  next: KubeObject,
  manager: string,
  apiVersion: string,
  now: string,
  subresource?: 'status' | 'scale',
): KubeObject {
  const before = current ? new Map(leafPaths(current, subresource).map((p) => [keyOf(p), p])) : new Map<string, Path>();
  const after = leafPaths(next, subresource);
  const afterKeys = new Set(after.map(keyOf));
  const changed = after.filter((path) => !current || !sameValue(valueAt(current, path), valueAt(next, path)));
  const removed = [...before.values()].filter((path) => !afterKeys.has(keyOf(path)));
  if (changed.length === 0 && removed.length === 0) return next;
  const given = (next.metadata.managedFields ?? current?.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const entries = given.filter(isObject) as ManagedFieldsEntry[];
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? ''));
  const touched = [...changed, ...removed];
  const kept = (paths: Path[]) => paths.filter((path) => !touched.some((t) => overlaps(t, path)));
  const managedFields: ManagedFieldsEntry[] = [];
  for (const entry of entries) {
    if (entry === mine) continue;
    const paths = kept(fromFieldsV1(entry.fieldsV1));
    if (paths.length > 0) managedFields.push({ ...entry, fieldsV1: toFieldsV1(paths) });
  }
  const owned = [...kept(mine ? fromFieldsV1(mine.fieldsV1) : []), ...changed];
  if (owned.length > 0) {
    const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(owned) };
    managedFields.push(subresource ? { ...entry, subresource } : entry);
  }
  const { managedFields: _before, ...metadata } = next.metadata;
  return { ...next, metadata: managedFields.length > 0 ? { ...metadata, managedFields } : metadata };
}

/**
 * The object after `manager` applies `config` to `current` (null: the object does not exist yet;
 * the result is then the configuration with its managedFields, to be created).
 */
export function serverSideApply(current: KubeObject | null, config: KubeObject, manager: string, force: boolean, apiVersion: string, now: string): KubeObject {
  const applied = leafPaths(config);
  const entries = ((current?.metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter(isObject) as ManagedFieldsEntry[];
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const previous = mine ? fromFieldsV1(mine.fieldsV1) : [];
  const others = entries.filter((e) => e !== mine).map((e) => ({ entry: e, paths: new Map(fromFieldsV1(e.fieldsV1).map((p) => [keyOf(p), p])) }));

  const conflicts: { manager: string; field: string }[] = [];
  if (current) {
    for (const path of applied) {
      if (sameValue(valueAt(current, path), valueAt(config, path))) continue;
      for (const other of others) {
        if (!other.paths.has(keyOf(path))) continue;
        if (force) other.paths.delete(keyOf(path));
        else conflicts.push({ manager: conflictingManager(other.entry), field: `.${path.join('.')}` });
      }
    }
  }
  if (conflicts.length > 0) {
    throw new KubeApiError(409, 'Conflict', conflictMessage(conflicts), {
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.manager}`, field: c.field })),
    });
  }

  const result = structuredClone(current ?? { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: config.metadata.name } }) as KubeObject &
    Record<string, unknown>;
  const appliedKeys = new Set(applied.map(keyOf));
  for (const path of previous) {
    if (appliedKeys.has(keyOf(path)) || others.some((o) => o.paths.has(keyOf(path)))) continue;
    deleteAt(result, path);
  }
  for (const path of applied) setAt(result, path, valueAt(config, path));
  if (!current && config.metadata.namespace) result.metadata.namespace = config.metadata.namespace;

  const managedFields: ManagedFieldsEntry[] = [
    ...others.filter((o) => o.paths.size > 0).map((o) => ({ ...o.entry, fieldsV1: toFieldsV1([...o.paths.values()]) })),
    {
      manager,
      operation: 'Apply',
      apiVersion,
      // An apply that changes nothing must not make a write (and a new resourceVersion) of its own.
      time: mine?.time && sameValue(mine.fieldsV1, toFieldsV1(applied)) ? mine.time : now,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(applied),
    },
  ];
  result.metadata = { ...result.metadata, managedFields };
  return result;
}
