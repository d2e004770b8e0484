import { randomUUID } from 'node:crypto';
import type { ResourceType } from './resources';
import { joinApiVersion } from './resources';
import { KubeApiError, type KubeObject } from './types';

/**
 * What kube-apiserver does to an object's metadata on create and update, without I/O: names
 * (generateName, validation), uid, creationTimestamp, generation, what an update may not change.
 */

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kinds whose names must be DNS labels rather than subdomains. */
/** The finalizer kube-apiserver gives every namespace (`spec.finalizers`). */
export const NAMESPACE_FINALIZER = 'kubernetes';
const LABEL_NAMED = new Set(['Namespace', 'Service']);
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The error kube-apiserver gives for a malformed object: 422 Invalid with its causes. */
export function invalid(type: ResourceType, name: string, causes: { field: string; message: string }[]): KubeApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new KubeApiError(422, 'Invalid', `${type.kind} "${name}" is invalid: ${text}`, {
    name,
    group: type.group,
    kind: type.kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

export function notFound(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(404, 'NotFound', `${type.resource}${type.group ? `.${type.group}` : ''} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.resource,
  });
}

export function alreadyExists(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(409, 'AlreadyExists', `${type.resource}${type.group ? `.${type.group}` : ''} "${name}" already exists`, {
    name,
    group: type.group,
    kind: type.resource,
  });
}

export function conflict(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${type.resource}${type.group ? `.${type.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.resource },
  );
}

export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', message);
}

/** Checks the header and names of an object about to be written at `type`/`namespace`. */
export function checkShape(object: unknown, type: ResourceType, version: string, namespace: string | undefined): asserts object is KubeObject {
  if (!object || typeof object !== 'object' || Array.isArray(object)) throw badRequest('the request body must be a JSON object');
  const o = object as Partial<KubeObject>;
  const apiVersion = joinApiVersion(type.group, version);
  if (o.kind !== undefined && o.kind !== type.kind) throw badRequest(`the kind "${String(o.kind)}" does not match the expected kind "${type.kind}"`);
  if (o.apiVersion !== undefined && o.apiVersion !== apiVersion)
    throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersion})`);
  if (!o.metadata || typeof o.metadata !== 'object') throw badRequest('metadata is required');
  if (type.namespaced && o.metadata.namespace !== undefined && namespace !== undefined && o.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

export function generatedName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return `${prefix}${suffix}`;
}

function checkName(type: ResourceType, name: string): void {
  const label = LABEL_NAMED.has(type.kind);
  const ok = label ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253;
  if (!ok) {
    const rule = label
      ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    throw invalid(type, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": ${rule}` }]);
  }
}

function checkLabels(type: ResourceType, object: KubeObject): void {
  for (const [key, value] of Object.entries(object.metadata.labels ?? {})) {
    if (typeof value !== 'string' || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value) || value.length > 63) {
      throw invalid(type, object.metadata.name, [{ field: `metadata.labels`, message: `Invalid value: "${String(value)}" for label ${key}` }]);
    }
  }
}

/**
 * The object as stored on create: a name (from generateName), namespace, uid, timestamps,
 * generation 1. `keepStatus` false drops a given status where the kind has a status subresource,
 * as kube-apiserver's create strategies do.
 */
export function prepareCreate(
  type: ResourceType,
  version: string,
  input: KubeObject,
  namespace: string | undefined,
  now: Date,
  keepStatus: boolean,
): KubeObject {
  const metadata = { ...input.metadata };
  if (!metadata.name) {
    if (!metadata.generateName) throw invalid(type, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    metadata.name = generatedName(metadata.generateName);
  }
  checkName(type, metadata.name);
  if (type.namespaced) {
    const ns = namespace ?? metadata.namespace;
    if (!ns) throw badRequest('the server could not find the requested resource: a namespace is required');
    metadata.namespace = ns;
  } else delete metadata.namespace;
  metadata.uid = randomUUID();
  metadata.creationTimestamp = timestamp(now);
  if (hasGeneration(type)) metadata.generation = 1;
  else delete metadata.generation;
  delete metadata.deletionTimestamp;
  delete metadata.deletionGracePeriodSeconds;
  delete metadata.resourceVersion;
  if (type.kind === 'Namespace') metadata.labels = { ...metadata.labels, 'kubernetes.io/metadata.name': metadata.name };
  const object: KubeObject = { ...input, apiVersion: joinApiVersion(type.group, version), kind: type.kind, metadata };
  if (!keepStatus && type.subresources.includes('status') && type.kind !== 'Node') delete object.status;
  if (type.kind === 'Namespace') {
    // Every namespace carries the `kubernetes` finalizer: the namespace controller removes it once the namespace is empty.
    const finalizers = ((object.spec?.['finalizers'] as string[] | undefined) ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
    object.spec = { ...object.spec, finalizers: [...finalizers, NAMESPACE_FINALIZER] };
    object.status = { phase: 'Active' };
  }
  // kube-apiserver's defaulting of the one field kubectl's generators leave empty.
  if (type.kind === 'Secret' && !object.type) object.type = 'Opaque';
  if (type.kind === 'Service' && type.group === '') object.spec = serviceDefaults((object.spec ?? {}) as Record<string, unknown>);
  applyDefaults(type, object);
  if (type.kind === 'Job' && type.group === 'batch') jobDefaults(object);
  checkLabels(type, object);
  return object;
}

/**
 * batch/v1 Job defaulting and the Job strategy's selector generation on create: parallelism and
 * completions 1 when neither is given, backoffLimit 6, NonIndexed, not suspended, and (without
 * `manualSelector`) a selector on `batch.kubernetes.io/controller-uid` whose labels the pod
 * template gets, with the job name.
 */
function jobDefaults(job: KubeObject): void {
  const spec: Record<string, unknown> = { ...job.spec };
  if (spec['completions'] === undefined && spec['parallelism'] === undefined) spec['completions'] = 1;
  spec['parallelism'] ??= 1;
  spec['backoffLimit'] ??= 6;
  spec['completionMode'] ??= 'NonIndexed';
  spec['suspend'] ??= false;
  spec['podReplacementPolicy'] ??= 'TerminatingOrFailed';
  if (spec['manualSelector'] !== true) {
    const uid = job.metadata.uid!;
    const name = job.metadata.name;
    spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    const template = { ...(spec['template'] as Record<string, unknown> | undefined) };
    const metadata = { ...(template['metadata'] as { labels?: Record<string, string> } | undefined) };
    metadata.labels = {
      ...metadata.labels,
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
    template['metadata'] = metadata;
    spec['template'] = template;
  }
  job.spec = spec;
}

/**
 * k8s.io/api's SetDefaults_* for the kinds served without a controller, so `kubectl get` shows
 * what it shows upstream (a CronJob's SUSPEND False, a claim's STATUS Pending, a StorageClass's
 * RECLAIMPOLICY Delete). Only fields left empty are filled.
 */
const DEFAULTS: Record<string, { spec?: Record<string, unknown>; top?: Record<string, unknown>; status?: Record<string, unknown> }> = {
  'batch/CronJob': { spec: { concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 } },
  'autoscaling/HorizontalPodAutoscaler': { spec: { minReplicas: 1 } },
  '/PersistentVolumeClaim': { spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } },
  '/PersistentVolume': { spec: { persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' }, status: { phase: 'Pending' } },
  'storage.k8s.io/StorageClass': { top: { reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' } },
  'scheduling.k8s.io/PriorityClass': { top: { preemptionPolicy: 'PreemptLowerPriority' } },
};

function applyDefaults(type: ResourceType, object: KubeObject): void {
  if (type.schemas) return;
  const defaults = DEFAULTS[`${type.group}/${type.kind}`];
  if (!defaults) return;
  const fill = (target: Record<string, unknown>, values: Record<string, unknown> | undefined) => {
    for (const [key, value] of Object.entries(values ?? {})) if (target[key] === undefined) target[key] = value;
    return target;
  };
  fill(object as Record<string, unknown>, defaults.top);
  if (defaults.spec) object.spec = fill({ ...(object.spec ?? {}) }, defaults.spec);
  if (defaults.status) object.status = fill({ ...(object.status ?? {}) }, defaults.status);
}

/**
 * Built-in kinds whose registry strategies never set `metadata.generation` (kube-apiserver sets it
 * for workloads, budgets, policies, CRDs and every custom resource, not for these).
 */
const NO_GENERATION = new Set([
  '/Namespace',
  '/Node',
  '/ConfigMap',
  '/Secret',
  '/ServiceAccount',
  '/Service',
  '/Endpoints',
  '/Event',
  '/PersistentVolumeClaim',
  '/PersistentVolume',
  '/ResourceQuota',
  '/LimitRange',
  'events.k8s.io/Event',
  'autoscaling/HorizontalPodAutoscaler',
  'scheduling.k8s.io/PriorityClass',
  'storage.k8s.io/StorageClass',
  'coordination.k8s.io/Lease',
  'rbac.authorization.k8s.io/Role',
  'rbac.authorization.k8s.io/RoleBinding',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
]);

function hasGeneration(type: ResourceType): boolean {
  return Boolean(type.schemas) || !NO_GENERATION.has(`${type.group}/${type.kind}`);
}

/** The default service CIDR of RKE2 (`--service-cidr`); the emulator hands ClusterIPs out of it at random (collisions are not checked). */
const SERVICE_CIDR_PREFIX = '10.43';

/**
 * kube-apiserver's Service defaulting and allocation on create: type ClusterIP, a cluster IP
 * (not for headless or ExternalName services), single-stack IPv4, TCP ports whose targetPort
 * defaults to the port, node ports for NodePort and LoadBalancer services.
 */
function serviceDefaults(spec: Record<string, unknown>): Record<string, unknown> {
  const type = (spec['type'] as string | undefined) ?? 'ClusterIP';
  const next: Record<string, unknown> = { ...spec, type };
  const nodePorts = type === 'NodePort' || type === 'LoadBalancer';
  next['ports'] = ((spec['ports'] as Record<string, unknown>[] | undefined) ?? []).map((port) => ({
    ...port,
    protocol: port['protocol'] ?? 'TCP',
    targetPort: port['targetPort'] ?? port['port'],
    ...(nodePorts && port['nodePort'] === undefined ? { nodePort: 30000 + Math.floor(Math.random() * 2768) } : {}),
  }));
  if (type === 'ExternalName') return next;
  if (!next['clusterIP']) next['clusterIP'] = `${SERVICE_CIDR_PREFIX}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
  next['clusterIPs'] ??= [next['clusterIP']];
  next['sessionAffinity'] ??= 'None';
  next['ipFamilies'] ??= ['IPv4'];
  next['ipFamilyPolicy'] ??= 'SingleStack';
  next['internalTrafficPolicy'] ??= 'Cluster';
  if (nodePorts) next['externalTrafficPolicy'] ??= 'Cluster';
  return next;
}

/** A Service update keeps what was allocated (cluster IPs, node ports) when the new spec leaves it out, as kube-apiserver's strategy does. */
function keepServiceAllocations(current: KubeObject, next: KubeObject): void {
  const before = (current.spec ?? {}) as Record<string, unknown>;
  const after = (next.spec ?? {}) as Record<string, unknown>;
  for (const field of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy'])
    if (after[field] === undefined && before[field] !== undefined) after[field] = before[field];
  next.spec = after;
}

/**
 * The object as stored after a replace (PUT): what metadata an update cannot change is carried
 * over; status too, where it has its own subresource; generation moves when anything but
 * metadata and status changed.
 */
export function prepareUpdate(type: ResourceType, version: string, current: KubeObject, input: KubeObject): KubeObject {
  const metadata = {
    ...input.metadata,
    name: current.metadata.name,
    uid: current.metadata.uid,
    creationTimestamp: current.metadata.creationTimestamp,
    generation: current.metadata.generation,
  };
  if (current.metadata.namespace) metadata.namespace = current.metadata.namespace;
  else delete metadata.namespace;
  if (current.metadata.deletionTimestamp) metadata.deletionTimestamp = current.metadata.deletionTimestamp;
  else delete metadata.deletionTimestamp;
  if (type.kind === 'Namespace') metadata.labels = { ...metadata.labels, 'kubernetes.io/metadata.name': metadata.name };
  const next: KubeObject = { ...input, apiVersion: joinApiVersion(type.group, version), kind: type.kind, metadata };
  if (type.subresources.includes('status')) {
    if (current.status === undefined) delete next.status;
    else next.status = current.status;
  }
  if (type.kind === 'Service' && type.group === '') keepServiceAllocations(current, next);
  // A namespace's finalizers change through its `finalize` subresource only.
  if (type.kind === 'Namespace' && type.group === '') {
    const { finalizers: _given, ...spec } = next.spec ?? {};
    const kept = current.spec?.['finalizers'];
    next.spec = kept === undefined ? spec : { ...spec, finalizers: kept };
  }
  if (!hasGeneration(type)) delete metadata.generation;
  else if (!deepEqual(specOf(current), specOf(next))) metadata.generation = (current.metadata.generation ?? 1) + 1;
  checkLabels(type, next);
  return next;
}

/** Replaces status only (the status subresource): everything else stays as it is. */
export function prepareStatusUpdate(current: KubeObject, input: KubeObject): KubeObject {
  const next: KubeObject = { ...current, metadata: { ...current.metadata } };
  if (input.status === undefined) delete next.status;
  else next.status = input.status;
  return next;
}

/** Everything but metadata and status: what generation counts changes of. */
function specOf(object: KubeObject): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...object };
  delete rest.metadata;
  delete rest.status;
  delete rest.apiVersion;
  return rest;
}

/**
 * ObjectMeta's maps and lists are `omitempty` in kube-apiserver's Go types: `annotations: {}`
 * (what kubectl's client-side apply and diff send when a file has none) or `finalizers: []` is not
 * stored, so it neither shows in what is read back nor counts as a change.
 */
export function withoutEmptyMetadata(object: KubeObject): KubeObject {
  const metadata = { ...object.metadata };
  const fields = metadata as unknown as Record<string, unknown>;
  let changed = false;
  for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    const value = fields[field];
    const empty = Array.isArray(value) ? value.length === 0 : !!value && typeof value === 'object' && Object.keys(value).length === 0;
    if (empty) {
      delete fields[field];
      changed = true;
    }
  }
  return changed ? { ...object, metadata } : object;
}

/** Whether two objects differ in anything but their resourceVersion (an update that changes nothing does not write). */
export function sameObject(a: KubeObject, b: KubeObject): boolean {
  return deepEqual(
    { ...a, apiVersion: '', metadata: { ...a.metadata, resourceVersion: '' } },
    { ...b, apiVersion: '', metadata: { ...b.metadata, resourceVersion: '' } },
  );
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * fast-json-patch's message goes on to print the whole document (`tree: ...`), a Secret's data
 * included: only its first line, the operation and the path go back, as kube-apiserver's
 * `jsonpatch <op> operation does not apply: ...` does.
 */
export function jsonPatchFailed(error: unknown): KubeApiError {
  const failed = error as { message?: string; operation?: { op?: unknown; path?: unknown } };
  const reason = String(failed.message ?? 'invalid operation').split('\n')[0]!;
  const op = failed.operation;
  const where = op && typeof op.op === 'string' ? `jsonpatch ${op.op} operation does not apply: ` : 'the JSON patch could not be applied: ';
  return new KubeApiError(422, 'Invalid', `${where}${reason}${op && typeof op.path === 'string' ? ` (path ${op.path})` : ''}`);
}
