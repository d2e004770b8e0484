import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { pgConnectionFromUrl } from '@capstan/platform';
import type { SimulatorDatabase } from '../database';
import type { SimulatorLogger } from '../logger';
import { EventHub, type LoggedEvent } from './event-hub';
import { applyMergePatch } from './object-rules';
import { ObjectStore, type PropagationPolicy, type WriteOptions } from './object-store';
import { builtInResources, crdResource, ResourceIndex, splitApiVersion, type ResourceType } from './resources';
import { KUBE_CHANNEL } from './schema';
import type { SubresourceRegistration } from './subresources';
import {
  type ApiServerClient,
  type ApiServerInfo,
  type ApiServerRole,
  type ChangeEvent,
  KubeApiError,
  type KubeEmulator,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
  type WriteAs,
} from './types';

export interface KubeEmulatorOptions {
  db: SimulatorDatabase;
  /** For the LISTEN connection (the pool's connections are for queries). */
  databaseUrl: string;
  kubeDomain: string;
  caCertificatePem: string;
  log: SimulatorLogger;
  /** Events kept per API server for watches to resume from. */
  eventLogSize?: number;
  now?: () => Date;
}

/** The namespaces every API server starts with, as kube-apiserver creates them. */
const INITIAL_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/**
 * The emulator as the simulator process holds it: the in-process `KubeEmulator` plus what the
 * HTTP surface needs (resource lookup, token checks, the event log for watches).
 */
export class KubeEmulatorRuntime implements KubeEmulator {
  readonly store: ObjectStore;
  readonly events: EventHub;
  readonly instance = randomUUID();
  private listenClient: Client | null = null;
  private closed = false;
  private urlValue = '';
  /** API server rows, invalidated by NOTIFY (a `SERVER` message) from whichever process changed one. */
  private readonly infoCache = new Map<string, Promise<ApiServerInfo | null>>();
  private readonly indexCache = new Map<string, Promise<ResourceIndex>>();
  private readonly subresources = new Map<string, SubresourceRegistration>();
  private readonly now: () => Date;

  constructor(private readonly options: KubeEmulatorOptions) {
    this.now = options.now ?? (() => new Date());
    this.events = new EventHub(options.eventLogSize ?? 1000);
    this.store = new ObjectStore(options.db, this.instance, (events) => this.publishAll(events), this.now);
  }

  get url(): string {
    return this.urlValue;
  }

  get kubeDomain(): string {
    return this.options.kubeDomain;
  }

  get caCertificatePem(): string {
    return this.options.caCertificatePem;
  }

  /** Set once the listener has its port. */
  setUrl(url: string): void {
    this.urlValue = url;
  }

  /** Starts hearing the other processes' changes; from then on the event log is complete. */
  async start(): Promise<void> {
    await this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.listenClient;
    this.listenClient = null;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new Client({ ...pgConnectionFromUrl(this.options.databaseUrl), application_name: 'capstan-simulator-kube-listen' });
    client.on('notification', (message) => {
      if (message.channel === KUBE_CHANNEL && message.payload) this.onNotification(message.payload);
    });
    client.on('error', (error) => {
      if (this.closed) return;
      this.options.log.warn({ err: error }, 'kube emulator lost its LISTEN connection; reconnecting');
      void client.end().catch(() => undefined);
      this.listenClient = null;
      setTimeout(() => {
        if (!this.closed) void this.reconnect();
      }, 500).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${KUBE_CHANNEL}`);
    this.listenClient = client;
    this.events.forgetBefore(await this.currentRevision());
  }

  private async reconnect(): Promise<void> {
    try {
      await this.listen();
      // Whatever changed while deaf is unknown: drop the caches it could have made stale.
      this.infoCache.clear();
      this.indexCache.clear();
    } catch (error) {
      this.options.log.warn({ err: error }, 'kube emulator could not LISTEN again; retrying');
      setTimeout(() => {
        if (!this.closed) void this.reconnect();
      }, 1000).unref();
    }
  }

  private async currentRevision(): Promise<bigint> {
    const rows = await this.options.db.query<{ rv: string }>(
      `SELECT CASE WHEN is_called THEN last_value ELSE 0 END::text AS rv FROM simulator.kube_resource_version`,
    );
    return BigInt(rows[0]!.rv);
  }

  private onNotification(payload: string): void {
    let message: { i: string; s: string; t: string; v?: string; o?: KubeObject; k?: { group: string; resource: string; namespace: string; name: string } };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    if (message.i === this.instance) return;
    if (message.t === 'SERVER') {
      this.forgetServer(message.s);
      return;
    }
    if (!message.o || !message.v) return;
    const event: LoggedEvent = { server: message.s, type: message.t as ChangeEvent['type'], object: message.o, resourceVersion: BigInt(message.v) };
    if (message.k && message.t !== 'DELETED') {
      // Too big for NOTIFY: read it, and keep the announced stub if it has moved on since.
      const key = message.k;
      void this.options.db
        .query<{ body: KubeObject }>(
          `SELECT body FROM simulator.kube_objects WHERE server = $1 AND api_group = $2 AND resource = $3 AND namespace = $4 AND name = $5 AND resource_version = $6`,
          [message.s, key.group, key.resource, key.namespace, key.name, message.v],
        )
        .then((rows) => this.publishAll([{ ...event, object: rows[0]?.body ?? event.object }]))
        .catch(() => this.publishAll([event]));
      return;
    }
    this.publishAll([event]);
  }

  private publishAll(events: LoggedEvent[]): void {
    for (const event of events) {
      if (event.object.kind === 'CustomResourceDefinition') this.indexCache.delete(event.server);
      this.events.publish(event);
    }
  }

  private forgetServer(name: string): void {
    this.infoCache.delete(name);
    this.indexCache.delete(name);
  }

  /** Tells every process (this one included) that an API server row changed. */
  private async announceServer(name: string): Promise<void> {
    this.forgetServer(name);
    await this.options.db.query(`SELECT pg_notify($1, $2)`, [KUBE_CHANNEL, JSON.stringify({ i: this.instance, s: name, t: 'SERVER' })]);
  }

  // ---- API servers ----

  async ensureApiServer(info: Omit<ApiServerInfo, 'serving'> & { serving?: boolean }): Promise<ApiServerInfo> {
    builtInResources(info); // rejects a version that is not one
    const rows = await this.options.db.query<ServerRow>(
      `INSERT INTO simulator.api_servers (name, role, distribution, version, serving) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING RETURNING name, role, distribution, version, serving`,
      [info.name, info.role, info.distribution, info.version, info.serving ?? true],
    );
    if (rows[0]) {
      await this.announceServer(info.name);
      const index = await this.resources(info.name);
      const namespaces = index.byResource('', 'v1', 'namespaces')!;
      for (const name of INITIAL_NAMESPACES) {
        await this.store
          .create(info.name, namespaces, 'v1', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { keepStatus: false })
          .catch((error: unknown) => {
            if (!(error instanceof KubeApiError && error.reason === 'AlreadyExists')) throw error;
          });
      }
      return toInfo(rows[0]);
    }
    const existing = await this.getApiServer(info.name);
    if (!existing) throw new Error(`API server ${info.name} vanished while being ensured`);
    return existing;
  }

  async getApiServer(name: string): Promise<ApiServerInfo | null> {
    let cached = this.infoCache.get(name);
    if (!cached) {
      cached = this.options.db
        .query<ServerRow>(`SELECT name, role, distribution, version, serving FROM simulator.api_servers WHERE name = $1`, [name])
        .then((rows) => (rows[0] ? toInfo(rows[0]) : null));
      this.infoCache.set(name, cached);
      cached.catch(() => this.infoCache.delete(name));
    }
    return cached;
  }

  async listApiServers(role?: ApiServerRole): Promise<ApiServerInfo[]> {
    const rows = await this.options.db.query<ServerRow>(
      `SELECT name, role, distribution, version, serving FROM simulator.api_servers WHERE $1::text IS NULL OR role = $1 ORDER BY name`,
      [role ?? null],
    );
    return rows.map(toInfo);
  }

  async updateApiServer(name: string, change: Partial<Pick<ApiServerInfo, 'version' | 'serving'>>): Promise<ApiServerInfo> {
    if (change.version !== undefined) builtInResources({ distribution: 'kubernetes', version: change.version });
    const rows = await this.options.db.query<ServerRow>(
      `UPDATE simulator.api_servers SET version = coalesce($2, version), serving = coalesce($3, serving) WHERE name = $1
       RETURNING name, role, distribution, version, serving`,
      [name, change.version ?? null, change.serving ?? null],
    );
    if (!rows[0]) throw new KubeApiError(404, 'NotFound', `API server ${name} does not exist`);
    await this.announceServer(name);
    return toInfo(rows[0]);
  }

  async removeApiServer(name: string): Promise<void> {
    await this.options.db.query(`DELETE FROM simulator.api_servers WHERE name = $1`, [name]);
    this.events.dropServer(name);
    await this.announceServer(name);
  }

  /** What the server serves now: its built-in kinds for its version, and its CRDs' kinds. */
  async resources(name: string): Promise<ResourceIndex> {
    let cached = this.indexCache.get(name);
    if (!cached) {
      cached = (async () => {
        const info = await this.getApiServer(name);
        if (!info) throw new KubeApiError(404, 'NotFound', `API server ${name} does not exist`);
        const builtIns = builtInResources(info);
        const crds = await this.options.db.query<{ body: Parameters<typeof crdResource>[0] }>(
          `SELECT body FROM simulator.kube_objects WHERE server = $1 AND api_group = 'apiextensions.k8s.io' AND resource = 'customresourcedefinitions' ORDER BY name`,
          [name],
        );
        const custom = crds.flatMap((row) => {
          const type = crdResource(row.body);
          // A CRD may not shadow a built-in kind.
          return type && !builtIns.some((b) => b.group === type.group && b.resource === type.resource) ? [type] : [];
        });
        return new ResourceIndex([...builtIns, ...custom]);
      })();
      this.indexCache.set(name, cached);
      cached.catch(() => this.indexCache.delete(name));
    }
    return cached;
  }

  server(name: string): ApiServerClient {
    return new InProcessClient(this, name);
  }

  // ---- tokens ----

  async issueToken(server: string, options: { subject: string; ttlSeconds: number | null }): Promise<{ token: string; expiresAt: Date | null }> {
    const token = `kube-${randomBytes(24).toString('base64url')}`;
    const expiresAt = options.ttlSeconds === null ? null : new Date(this.now().getTime() + options.ttlSeconds * 1000);
    const rows = await this.options.db.query(
      `INSERT INTO simulator.kube_tokens (token_sha256, server, subject, expires_at)
       SELECT $1, name, $3, $4 FROM simulator.api_servers WHERE name = $2 RETURNING 1`,
      [sha256(token), server, options.subject, expiresAt],
    );
    if (rows.length === 0) throw new KubeApiError(404, 'NotFound', `API server ${server} does not exist`);
    return { token, expiresAt };
  }

  async revokeTokens(server: string, subject: string): Promise<void> {
    await this.options.db.query(`DELETE FROM simulator.kube_tokens WHERE server = $1 AND subject = $2`, [server, subject]);
  }

  /** The subject a bearer token was issued to on that server, or null when it is not (or no longer) valid. */
  async authenticate(server: string, token: string): Promise<string | null> {
    const rows = await this.options.db.query<{ subject: string }>(
      `SELECT subject FROM simulator.kube_tokens WHERE token_sha256 = $1 AND server = $2 AND (expires_at IS NULL OR expires_at > now())`,
      [sha256(token), server],
    );
    return rows[0]?.subject ?? null;
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  // ---- subresources ----

  /** Serves `<resource>/<subresource>` of `group` with `handler` (pods/eviction, serviceaccounts/token, ...). */
  registerSubresource(registration: SubresourceRegistration): void {
    this.subresources.set(subresourceKey(registration.group, registration.resource, registration.subresource), registration);
  }

  subresource(group: string, resource: string, subresource: string): SubresourceRegistration | undefined {
    return this.subresources.get(subresourceKey(group, resource, subresource));
  }
}

function subresourceKey(group: string, resource: string, subresource: string): string {
  return `${group}/${resource}/${subresource}`;
}

interface ServerRow {
  name: string;
  role: ApiServerRole;
  distribution: ApiServerInfo['distribution'];
  version: string;
  serving: boolean;
}

function toInfo(row: ServerRow): ApiServerInfo {
  return { name: row.name, role: row.role, distribution: row.distribution, version: row.version, serving: row.serving };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The in-process client controllers use: the same store and rules as the HTTP surface. Two
 * differences, both deliberate: it also works while the server is not serving (controllers
 * emulate the cluster's own components, which do not go through a broken API endpoint), and a
 * create keeps the status it is given (they emulate kubelets and controllers that set it).
 */
class InProcessClient implements ApiServerClient {
  constructor(
    private readonly emulator: KubeEmulatorRuntime,
    readonly name: string,
  ) {}

  private async typeOf(apiVersion: string, kind: string): Promise<{ type: ResourceType; version: string }> {
    const index = await this.emulator.resources(this.name);
    const type = index.byKind(apiVersion, kind);
    if (!type) throw new KubeApiError(404, 'NotFound', `the server could not find the requested resource (${kind} ${apiVersion})`);
    return { type, version: splitApiVersion(apiVersion).version };
  }

  async get(ref: ObjectRef): Promise<KubeObject | null> {
    const { type, version } = await this.typeOf(ref.apiVersion, ref.kind);
    return this.emulator.store.get(this.name, type, version, ref.namespace, ref.name);
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<KubeObject[]> {
    const { type, version } = await this.typeOf(apiVersion, kind);
    return (await this.emulator.store.list(this.name, type, version, options)).items;
  }

  async create(object: KubeObject): Promise<KubeObject> {
    const { type, version } = await this.typeOf(object.apiVersion, object.kind);
    return this.emulator.store.create(this.name, type, version, object.metadata?.namespace, object, { keepStatus: true });
  }

  async update(object: KubeObject, options: WriteAs & { subresource?: 'scale' } = {}): Promise<KubeObject> {
    const { type, version } = await this.typeOf(object.apiVersion, object.kind);
    return this.emulator.store.update(this.name, type, version, object.metadata.namespace, object, writeOptionsOf(options));
  }

  async updateStatus(object: KubeObject, options: WriteAs = {}): Promise<KubeObject> {
    const { type, version } = await this.typeOf(object.apiVersion, object.kind);
    return this.emulator.store.updateStatus(this.name, type, version, object.metadata.namespace, object, writeOptionsOf(options));
  }

  async mergePatch(ref: ObjectRef, patch: Record<string, unknown>, options: WriteAs & { subresource?: 'status' } = {}): Promise<KubeObject> {
    const { type, version } = await this.typeOf(ref.apiVersion, ref.kind);
    return this.emulator.store.patch(
      this.name,
      type,
      version,
      ref.namespace,
      ref.name,
      (current) => applyMergePatch(current, patch) as KubeObject,
      writeOptionsOf(options),
    );
  }

  async delete(ref: ObjectRef, options: { propagationPolicy?: PropagationPolicy; gracePeriodSeconds?: number } = {}): Promise<void> {
    const { type, version } = await this.typeOf(ref.apiVersion, ref.kind);
    await this.emulator.store.delete(this.name, type, version, ref.namespace, ref.name, options);
  }
}

function writeOptionsOf(options: WriteAs & { subresource?: 'status' | 'scale' }): WriteOptions {
  return {
    ...(options.fieldManager ? { manager: options.fieldManager } : {}),
    ...(options.subresource ? { subresource: options.subresource } : {}),
  };
}

/** Makes the emulator and starts listening for other processes' changes. */
export async function createKubeEmulator(options: KubeEmulatorOptions): Promise<KubeEmulatorRuntime> {
  const emulator = new KubeEmulatorRuntime(options);
  await emulator.start();
  return emulator;
}
