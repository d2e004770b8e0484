import type { SimulatorDatabase, Sql } from '../database';
import { parseFieldSelector, parseLabelSelector } from './selectors';
import {
  alreadyExists,
  badRequest,
  conflict,
  notFound,
  prepareCreate,
  prepareStatusUpdate,
  prepareUpdate,
  sameObject,
  timestamp,
  withoutEmptyMetadata,
} from './object-rules';
import { joinApiVersion, type ResourceType } from './resources';
import { KUBE_CHANNEL } from './schema';
import { type FieldValidation, validateCustomResource } from './crd-validation';
import { recordUpdate, serverSideApply } from './server-side-apply';
import { KubeApiError, type KubeObject, type WatchEventType } from './types';
import type { LoggedEvent } from './event-hub';

/**
 * Objects of the emulated API servers in Postgres. Every write is one transaction that first
 * locks its server's row (so one server's revisions commit in order), takes a revision per
 * changed object from the global sequence, and announces each change with NOTIFY; the caller
 * hears the events only after the commit. Finalizers and namespace deletion follow
 * kube-apiserver: an object with finalizers gets `deletionTimestamp` and stays until the last is
 * removed; deleting a namespace deletes what is in it (simplified: in the same transaction, not
 * by a namespace controller), and the namespace stays `Terminating` while finalizers hold some.
 */
export interface ObjectKey {
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** How unknown fields of a custom resource are reported (they are pruned in every case); default Ignore. */
  fieldValidation?: FieldValidation;
  /** Receives the warnings (`Warning` headers) the write produced. */
  warnings?: string[];
  /** Who writes through the API (not server-side apply): recorded in managedFields as an `Update`. */
  manager?: string;
  /**
   * The subresource written through: `status` changes status only; both it and `scale` are
   * recorded as the manager's entry for that subresource (see server-side-apply.ts).
   */
  subresource?: 'status' | 'scale';
}

/** DeleteOptions.propagationPolicy: who deletes the dependents (ownerReferences), and when. */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface StoredRow {
  group: string;
  resource: string;
  object: KubeObject;
}

/** What a mutation decided: write this object, delete it, or leave it be. */
export type Outcome = { put: KubeObject } | { remove: KubeObject } | { unchanged: KubeObject };

/** NOTIFY payloads are limited to 8000 bytes: a bigger object is announced by its key. */
const NOTIFY_LIMIT = 7800;

class DryRun extends Error {
  constructor(readonly result: KubeObject) {
    super('dry run');
  }
}

export class ObjectStore {
  constructor(
    private readonly db: SimulatorDatabase,
    private readonly instance: string,
    private readonly publish: (events: LoggedEvent[]) => void,
    private readonly now: () => Date,
  ) {}

  keyOf(type: ResourceType, namespace: string | undefined, name: string): ObjectKey {
    return { group: type.group, resource: type.resource, namespace: type.namespaced ? (namespace ?? '') : '', name };
  }

  async get(server: string, type: ResourceType, version: string, namespace: string | undefined, name: string): Promise<KubeObject | null> {
    const key = this.keyOf(type, namespace, name);
    const rows = await this.db.query<{ body: KubeObject }>(
      `SELECT body FROM simulator.kube_objects WHERE server = $1 AND api_group = $2 AND resource = $3 AND namespace = $4 AND name = $5`,
      [server, key.group, key.resource, key.namespace, key.name],
    );
    return rows[0] ? asVersion(rows[0].body, type, version) : null;
  }

  /** The server's current revision and the objects, read in one statement (one snapshot). */
  async list(server: string, type: ResourceType, version: string, query: ListQuery = {}): Promise<ListResult> {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector, type.kind);
    let after: { namespace: string; name: string } | null = null;
    if (query.continue) after = decodeContinue(query.continue);
    const namespace = type.namespaced && query.namespace ? query.namespace : null;
    const rows = await this.db.query<{ server_rv: string; body: KubeObject | null }>(
      `SELECT s.resource_version::text AS server_rv, o.body
         FROM simulator.api_servers s
         LEFT JOIN simulator.kube_objects o
           ON o.server = s.name AND o.api_group = $2 AND o.resource = $3
          AND ($4::text IS NULL OR o.namespace = $4)
          AND ($5::text IS NULL OR (o.namespace, o.name) > ($5, $6))
        WHERE s.name = $1
        ORDER BY o.namespace, o.name`,
      [server, type.group, type.resource, namespace, after?.namespace ?? null, after?.name ?? ''],
    );
    if (rows.length === 0) throw new KubeApiError(404, 'NotFound', `API server ${server} does not exist`);
    const resourceVersion = rows[0]!.server_rv;
    const matching = rows.flatMap((r) => (r.body && labels(r.body) && fields(r.body) ? [asVersion(r.body, type, version)] : []));
    const limit = query.limit && query.limit > 0 ? query.limit : undefined;
    if (limit === undefined || matching.length <= limit) return { items: matching, resourceVersion };
    const items = matching.slice(0, limit);
    const last = items[items.length - 1]!;
    return {
      items,
      resourceVersion,
      continue: encodeContinue(last.metadata.namespace ?? '', last.metadata.name),
      remainingItemCount: matching.length - limit,
    };
  }

  async create(
    server: string,
    type: ResourceType,
    version: string,
    namespace: string | undefined,
    input: KubeObject,
    options: WriteOptions & { keepStatus: boolean },
  ): Promise<KubeObject> {
    const object = prepareCreate(type, version, input, namespace, this.now(), options.keepStatus);
    return this.mutate(server, type, version, object.metadata.namespace, object.metadata.name, options, async (current, tx) => {
      if (current) throw alreadyExists(type, object.metadata.name);
      if (type.namespaced) await tx.requireActiveNamespace(object.metadata.namespace!, type, object.metadata.name);
      return { put: object };
    });
  }

  async update(
    server: string,
    type: ResourceType,
    version: string,
    namespace: string | undefined,
    input: KubeObject,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    return this.mutate(server, type, version, namespace ?? input.metadata.namespace, input.metadata.name, options, (current) => {
      if (!current) throw notFound(type, input.metadata.name);
      checkPreconditions(type, current, input);
      return Promise.resolve(settle(current, prepareUpdate(type, version, current, input)));
    });
  }

  async updateStatus(
    server: string,
    type: ResourceType,
    version: string,
    namespace: string | undefined,
    input: KubeObject,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    const statusOptions: WriteOptions = { ...options, subresource: 'status' };
    return this.mutate(server, type, version, namespace ?? input.metadata.namespace, input.metadata.name, statusOptions, (current) => {
      if (!current) throw notFound(type, input.metadata.name);
      checkPreconditions(type, current, input);
      return Promise.resolve(settle(current, prepareStatusUpdate(current, input)));
    });
  }

  /** Every object of the server with an ownerReference to `uid`, whatever its kind. */
  async dependents(server: string, uid: string): Promise<StoredRow[]> {
    const rows = await this.db.query<{ api_group: string; resource: string; body: KubeObject }>(
      `SELECT api_group, resource, body FROM simulator.kube_objects
        WHERE server = $1 AND body -> 'metadata' -> 'ownerReferences' @> $2::jsonb ORDER BY api_group, resource, namespace, name`,
      [server, JSON.stringify([{ uid }])],
    );
    return rows.map((r) => ({ group: r.api_group, resource: r.resource, object: r.body }));
  }

  /** The object with that uid, whatever its kind (owners are named by uid). */
  async byUid(server: string, uid: string): Promise<StoredRow | null> {
    const rows = await this.db.query<{ api_group: string; resource: string; body: KubeObject }>(
      `SELECT api_group, resource, body FROM simulator.kube_objects WHERE server = $1 AND uid = $2`,
      [server, uid],
    );
    return rows[0] ? { group: rows[0].api_group, resource: rows[0].resource, object: rows[0].body } : null;
  }

  /**
   * Applies `change` to the object as it is under the write lock, so a patch never loses a race
   * (kube-apiserver retries patches on conflict; here the lock makes that unnecessary). Only a
   * resourceVersion the change itself sets is a precondition.
   */
  async patch(
    server: string,
    type: ResourceType,
    version: string,
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => KubeObject,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    return this.mutate(server, type, version, namespace, name, options, (current) => {
      if (!current) throw notFound(type, name);
      const patched = change(asVersion(current, type, version));
      if (!patched || typeof patched !== 'object' || !patched.metadata || typeof patched.metadata !== 'object')
        throw badRequest('the patched object has no metadata');
      if (patched.metadata.name !== undefined && patched.metadata.name !== name) throw badRequest('the patch may not change metadata.name');
      const input: KubeObject = { ...patched, metadata: { ...patched.metadata, name } };
      checkPreconditions(type, current, input);
      return Promise.resolve(
        settle(current, options.subresource === 'status' ? prepareStatusUpdate(current, input) : prepareUpdate(type, version, current, input)),
      );
    });
  }

  /**
   * Server-side apply of `config` by `manager` (see server-side-apply.ts); creates the object when
   * it does not exist. `created` tells which happened (201 or 200).
   */
  async apply(
    server: string,
    type: ResourceType,
    version: string,
    namespace: string | undefined,
    name: string,
    config: KubeObject,
    apply: { manager: string; force: boolean },
    options: WriteOptions = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    let created = false;
    const apiVersion = joinApiVersion(type.group, version);
    const object = await this.mutate(server, type, version, namespace, name, options, async (current, tx) => {
      const now = this.now();
      if (!current) {
        if (type.namespaced) await tx.requireActiveNamespace(namespace!, type, name);
        created = true;
        const applied = serverSideApply(null, { ...config, metadata: { ...config.metadata, name } }, apply.manager, apply.force, apiVersion, timestamp(now));
        return { put: prepareCreate(type, version, applied, namespace, now, false) };
      }
      checkPreconditions(type, current, config);
      const applied = serverSideApply(asVersion(current, type, version), config, apply.manager, apply.force, apiVersion, timestamp(now));
      return settle(current, prepareUpdate(type, version, current, { ...applied, metadata: { ...applied.metadata, resourceVersion: undefined } }));
    });
    return { object, created };
  }

  /** Deletes, or marks deleted while finalizers remain; the object as it was or now is. */
  async delete(
    server: string,
    type: ResourceType,
    version: string,
    namespace: string | undefined,
    name: string,
    options: WriteOptions & { uid?: string; resourceVersion?: string; propagationPolicy?: PropagationPolicy; gracePeriodSeconds?: number } = {},
  ): Promise<KubeObject> {
    return this.mutate(server, type, version, namespace, name, options, async (current) => {
      if (!current) throw notFound(type, name);
      if (options.uid && options.uid !== current.metadata.uid) throw conflict(type, name);
      if (options.resourceVersion && options.resourceVersion !== current.metadata.resourceVersion) throw conflict(type, name);
      if (type.kind === 'Namespace' && type.group === '') {
        if (IMMORTAL_NAMESPACES.has(name))
          throw new KubeApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
            name,
            group: '',
            kind: 'namespaces',
          });
        return terminateNamespace(current, this.now());
      }
      if (type.kind === 'Pod' && type.group === '') {
        const terminating = terminatePod(current, this.now(), options.gracePeriodSeconds);
        if (terminating) return terminating;
      }
      return markOrRemove(current, this.now(), options.propagationPolicy);
    });
  }

  /** Every object in `namespace` (what the namespace controller deletes before the namespace may go). */
  async namespaceContents(server: string, namespace: string): Promise<StoredRow[]> {
    const rows = await this.db.query<{ api_group: string; resource: string; body: KubeObject }>(
      `SELECT api_group, resource, body FROM simulator.kube_objects WHERE server = $1 AND namespace = $2 ORDER BY api_group, resource, name`,
      [server, namespace],
    );
    return rows.map((row) => ({ group: row.api_group, resource: row.resource, object: row.body }));
  }

  /**
   * `PUT /api/v1/namespaces/<name>/finalize`: sets `spec.finalizers` and nothing else (the only
   * way to change them, as upstream); a Terminating namespace left with no finalizer at all goes.
   */
  async finalizeNamespace(
    server: string,
    type: ResourceType,
    version: string,
    name: string,
    finalizers: string[],
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    return this.mutate(server, type, version, undefined, name, options, (current) => {
      if (!current) throw notFound(type, name);
      const next: KubeObject = { ...current, spec: { ...current.spec, finalizers } };
      if (finalizers.length === 0) delete (next.spec as Record<string, unknown>)['finalizers'];
      if (next.metadata.deletionTimestamp && finalizers.length === 0 && (next.metadata.finalizers ?? []).length === 0) return Promise.resolve({ remove: next });
      return Promise.resolve(settle(current, next));
    });
  }

  /**
   * Makes the server's objects exactly `wanted` (an etcd restore, or a wipe with none), in one
   * transaction under the server's lock: objects not wanted are deleted, wanted ones that differ
   * from what is stored (or are missing) are written with a fresh revision. Revisions only move
   * forward and every change is an event, so watches see a restore as DELETED/ADDED/MODIFIED.
   * Resources for which `spared` answers true are left as they are on both sides.
   */
  async replaceObjects(
    server: string,
    wanted: StoredRow[],
    spared: (group: string, resource: string) => boolean,
  ): Promise<{ removed: number; written: number }> {
    let events: LoggedEvent[] = [];
    const counts = await this.db.transaction(async (sql) => {
      const tx = new WriteTransaction(sql, server, this.instance);
      await tx.lockServer();
      const { rows } = await sql.query<{ api_group: string; resource: string; namespace: string; name: string; body: KubeObject }>(
        `SELECT api_group, resource, namespace, name, body FROM simulator.kube_objects WHERE server = $1 FOR UPDATE`,
        [server],
      );
      const current = new Map(
        rows.filter((r) => !spared(r.api_group, r.resource)).map((r) => [rowKey(r.api_group, r.resource, r.namespace, r.name), r] as const),
      );
      const target = new Map(
        wanted
          .filter((w) => !spared(w.group, w.resource))
          .map((w) => [rowKey(w.group, w.resource, w.object.metadata.namespace ?? '', w.object.metadata.name), w] as const),
      );
      let removed = 0;
      let written = 0;
      // Contents before their namespaces on the way out, namespaces first on the way in, as a
      // watcher would see them from kube-apiserver.
      const isNamespace = (group: string, resource: string) => group === '' && resource === 'namespaces';
      const leaving = [...current.entries()].filter(([key]) => !target.has(key)).map(([, row]) => row);
      leaving.sort((a, b) => Number(isNamespace(a.api_group, a.resource)) - Number(isNamespace(b.api_group, b.resource)));
      for (const row of leaving) {
        await tx.remove({ group: row.api_group, resource: row.resource, namespace: row.namespace, name: row.name }, row.body);
        removed++;
      }
      const coming = [...target.entries()];
      coming.sort(([, a], [, b]) => Number(isNamespace(b.group, b.resource)) - Number(isNamespace(a.group, a.resource)));
      for (const [key, row] of coming) {
        const existing = current.get(key);
        if (existing && JSON.stringify(existing.body) === JSON.stringify(row.object)) continue;
        const objectKey = { group: row.group, resource: row.resource, namespace: row.object.metadata.namespace ?? '', name: row.object.metadata.name };
        await tx.put(objectKey, row.object, existing ? 'MODIFIED' : 'ADDED');
        written++;
      }
      events = tx.events;
      return { removed, written };
    });
    this.publish(events);
    return counts;
  }

  /**
   * The one write path: reads the object locked, lets `decide` say what becomes of it, writes
   * that with a fresh revision and NOTIFY, and publishes the events after the commit.
   */
  async mutate(
    server: string,
    type: ResourceType,
    version: string,
    namespace: string | undefined,
    name: string,
    options: WriteOptions,
    decide: (current: KubeObject | null, tx: WriteTransaction) => Promise<Outcome>,
  ): Promise<KubeObject> {
    const key = this.keyOf(type, namespace, name);
    if (type.namespaced && !key.namespace) throw badRequest('a namespace is required');
    let events: LoggedEvent[] = [];
    try {
      const result = await this.db.transaction(async (sql) => {
        const tx = new WriteTransaction(sql, server, this.instance);
        await tx.lockServer();
        const current = await tx.read(key);
        const outcome = await decide(current, tx);
        let result: KubeObject;
        if ('put' in outcome) {
          const checked = validateCustomResource(type, version, withoutEmptyMetadata(outcome.put), options.fieldValidation ?? 'Ignore');
          if (options.manager)
            checked.object = recordUpdate(
              current,
              checked.object,
              options.manager,
              joinApiVersion(type.group, version),
              timestamp(this.now()),
              options.subresource,
            );
          options.warnings?.push(...checked.warnings);
          if (current && sameObject(current, checked.object)) result = current;
          else {
            result = await tx.put(key, checked.object, current ? 'MODIFIED' : 'ADDED');
            // A dry run writes nothing, so no revision: the answer keeps the stored object's (none for a create), as kube-apiserver's does.
            if (options.dryRun) result = withResourceVersion(result, current?.metadata.resourceVersion);
          }
        } else if ('remove' in outcome) result = await tx.remove(key, outcome.remove);
        else result = outcome.unchanged;
        await tx.afterWrite(key);
        if (options.dryRun) throw new DryRun(result);
        events = tx.events;
        return result;
      });
      this.publish(events);
      return asVersion(result, type, version);
    } catch (error) {
      if (error instanceof DryRun) return asVersion(error.result, type, version);
      throw error;
    }
  }
}

function withResourceVersion(object: KubeObject, resourceVersion: string | undefined): KubeObject {
  const { resourceVersion: _written, ...metadata } = object.metadata;
  return { ...object, metadata: resourceVersion === undefined ? metadata : { ...metadata, resourceVersion } };
}

/** Where an object sits in the store: its row key as one string. */
function rowKey(group: string, resource: string, namespace: string, name: string): string {
  return `${group}/${resource}/${namespace}/${name}`;
}

function checkPreconditions(type: ResourceType, current: KubeObject, input: KubeObject): void {
  const rv = input.metadata.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(type, current.metadata.name);
  const uid = input.metadata.uid;
  if (uid && uid !== current.metadata.uid) throw conflict(type, current.metadata.name);
}

/** After an update: nothing changed -> no write; deleted and no finalizer left -> gone. */
function settle(current: KubeObject, next: KubeObject): Outcome {
  // A pod in its grace period stays until its kubelet deletes it (terminatePod).
  const graceful = (next.metadata.deletionGracePeriodSeconds ?? 0) > 0;
  // A Terminating namespace is also held by its `spec.finalizers` until the namespace controller finalizes it.
  const namespaceHeld = next.kind === 'Namespace' && ((next.spec?.['finalizers'] as string[] | undefined) ?? []).length > 0;
  if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0 && !graceful && !namespaceHeld) return { remove: next };
  if (sameObject(current, next)) return { unchanged: current };
  return { put: next };
}

/**
 * kube-apiserver's graceful pod deletion: a pod running on a node is marked with
 * `deletionTimestamp` = now + grace period and left for its kubelet (the workload controllers'
 * kubelet) to stop and delete with grace 0; a shorter grace period on a later delete brings the
 * deadline forward. Unscheduled and finished pods, and a grace period of 0, go at once (null).
 */
function terminatePod(current: KubeObject, now: Date, gracePeriodSeconds: number | undefined): Outcome | null {
  const spec = (current.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = current.status?.['phase'];
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return null;
  const grace = gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
  if (grace <= 0) return null;
  const deadline = new Date(now.getTime() + grace * 1000);
  const marked = current.metadata.deletionTimestamp;
  if (marked && Date.parse(marked) <= deadline.getTime()) return { unchanged: current };
  return { put: { ...current, metadata: { ...current.metadata, deletionTimestamp: timestamp(deadline), deletionGracePeriodSeconds: grace } } };
}

/** kube-apiserver's NamespaceLifecycle admission refuses to delete these. */
export const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public']);

/**
 * kube-apiserver's namespace deletion: the first DELETE marks the namespace Terminating (and adds
 * nothing else); it goes only once its `spec.finalizers` are empty, which the namespace
 * controller does through `finalize` after deleting everything in it (namespace-controller.ts).
 */
function terminateNamespace(current: KubeObject, now: Date): Outcome {
  const specFinalizers = ((current.spec?.['finalizers'] as string[] | undefined) ?? []).length;
  if (!current.metadata.deletionTimestamp) {
    const marked = { ...current, metadata: { ...current.metadata, deletionTimestamp: timestamp(now) }, status: { ...current.status, phase: 'Terminating' } };
    return specFinalizers > 0 || (current.metadata.finalizers ?? []).length > 0 ? { put: marked } : { remove: marked };
  }
  if (specFinalizers > 0) return { unchanged: current };
  return markOrRemove(current, now);
}

/**
 * Foreground and Orphan deletion hold the object with a finalizer of that name until the garbage
 * collector has dealt with its dependents, as kube-apiserver does.
 */
function markOrRemove(current: KubeObject, now: Date, policy?: PropagationPolicy): Outcome {
  const held = policy === 'Foreground' ? 'foregroundDeletion' : policy === 'Orphan' ? 'orphan' : null;
  const finalizers = current.metadata.finalizers ?? [];
  if (finalizers.length === 0 && !held) return { remove: current };
  if (current.metadata.deletionTimestamp) return { unchanged: current };
  const next = held && !finalizers.includes(held) ? [...finalizers, held] : finalizers;
  return { put: { ...current, metadata: { ...current.metadata, finalizers: next, deletionTimestamp: timestamp(now), deletionGracePeriodSeconds: 0 } } };
}

/** The statements of one write transaction, and the events they make. */
export class WriteTransaction {
  readonly events: LoggedEvent[] = [];

  constructor(
    readonly sql: Sql,
    readonly server: string,
    private readonly instance: string,
  ) {}

  async lockServer(): Promise<void> {
    const { rows } = await this.sql.query(`SELECT 1 FROM simulator.api_servers WHERE name = $1 FOR UPDATE`, [this.server]);
    if (rows.length === 0) throw new KubeApiError(404, 'NotFound', `API server ${this.server} does not exist`);
  }

  async read(key: ObjectKey): Promise<KubeObject | null> {
    const { rows } = await this.sql.query<{ body: KubeObject }>(
      `SELECT body FROM simulator.kube_objects WHERE server = $1 AND api_group = $2 AND resource = $3 AND namespace = $4 AND name = $5 FOR UPDATE`,
      [this.server, key.group, key.resource, key.namespace, key.name],
    );
    return rows[0]?.body ?? null;
  }

  /** kube-apiserver's NamespaceLifecycle admission: nothing is created in a namespace that is absent or being terminated. */
  async requireActiveNamespace(namespace: string, type: ResourceType, name: string): Promise<void> {
    const ns = await this.read({ group: '', resource: 'namespaces', namespace: '', name: namespace });
    if (!ns) throw new KubeApiError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, group: '', kind: 'namespaces' });
    if (ns.metadata.deletionTimestamp) {
      const message = `namespace ${namespace} is being terminated`;
      const resource = type.group ? `${type.resource}.${type.group}` : type.resource;
      throw new KubeApiError(
        403,
        'Forbidden',
        `${resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name,
          group: type.group,
          kind: type.resource,
          causes: [{ reason: 'NamespaceTerminating', message, field: 'metadata.namespace' }],
        },
      );
    }
  }

  private async nextRevision(): Promise<bigint> {
    const { rows } = await this.sql.query<{ rv: string }>(
      `UPDATE simulator.api_servers SET resource_version = nextval('simulator.kube_resource_version') WHERE name = $1 RETURNING resource_version::text AS rv`,
      [this.server],
    );
    return BigInt(rows[0]!.rv);
  }

  async put(key: ObjectKey, object: KubeObject, type: WatchEventType): Promise<KubeObject> {
    const revision = await this.nextRevision();
    const stored: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: revision.toString() } };
    await this.sql.query(
      `INSERT INTO simulator.kube_objects (server, api_group, resource, namespace, name, uid, resource_version, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (server, api_group, resource, namespace, name) DO UPDATE SET uid = EXCLUDED.uid, resource_version = EXCLUDED.resource_version, body = EXCLUDED.body`,
      [this.server, key.group, key.resource, key.namespace, key.name, stored.metadata.uid, revision.toString(), stored],
    );
    await this.announce(key, { server: this.server, type, object: stored, resourceVersion: revision });
    return stored;
  }

  async remove(key: ObjectKey, object: KubeObject): Promise<KubeObject> {
    const revision = await this.nextRevision();
    await this.sql.query(`DELETE FROM simulator.kube_objects WHERE server = $1 AND api_group = $2 AND resource = $3 AND namespace = $4 AND name = $5`, [
      this.server,
      key.group,
      key.resource,
      key.namespace,
      key.name,
    ]);
    // As kube-apiserver does, the deleted object's last state carries the deletion's revision.
    const gone: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: revision.toString() } };
    await this.announce(key, { server: this.server, type: 'DELETED', object: gone, resourceVersion: revision });
    return gone;
  }

  /** A terminating namespace whose last object just went goes as well. */
  async afterWrite(key: ObjectKey): Promise<void> {
    if (!key.namespace) return;
    const nsKey = { group: '', resource: 'namespaces', namespace: '', name: key.namespace };
    const ns = await this.read(nsKey);
    if (!ns?.metadata.deletionTimestamp || (ns.metadata.finalizers ?? []).length > 0) return;
    const { rows } = await this.sql.query(`SELECT 1 FROM simulator.kube_objects WHERE server = $1 AND namespace = $2 LIMIT 1`, [this.server, key.namespace]);
    if (rows.length === 0) await this.remove(nsKey, ns);
  }

  private async announce(key: ObjectKey, event: LoggedEvent): Promise<void> {
    this.events.push(event);
    const full = JSON.stringify({ i: this.instance, s: event.server, t: event.type, v: event.resourceVersion.toString(), o: event.object });
    const payload =
      full.length <= NOTIFY_LIMIT
        ? full
        : JSON.stringify({
            i: this.instance,
            s: event.server,
            t: event.type,
            v: event.resourceVersion.toString(),
            k: key,
            o: {
              apiVersion: event.object.apiVersion,
              kind: event.object.kind,
              metadata: { ...event.object.metadata, managedFields: undefined, annotations: undefined },
            },
          });
    await this.sql.query(`SELECT pg_notify($1, $2)`, [KUBE_CHANNEL, payload]);
  }
}

/** The stored object as the requested version presents it (the kinds served share one shape). */
export function asVersion(object: KubeObject, type: ResourceType, version: string): KubeObject {
  const apiVersion = joinApiVersion(type.group, version);
  return object.apiVersion === apiVersion ? object : { ...object, apiVersion };
}

function encodeContinue(namespace: string, name: string): string {
  return Buffer.from(JSON.stringify({ ns: namespace, n: name })).toString('base64url');
}

function decodeContinue(token: string): { namespace: string; name: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as { ns?: unknown; n?: unknown };
    if (typeof parsed.ns === 'string' && typeof parsed.n === 'string') return { namespace: parsed.ns, name: parsed.n };
  } catch {
    // falls through to the error below
  }
  throw badRequest('continue key is not valid');
}
