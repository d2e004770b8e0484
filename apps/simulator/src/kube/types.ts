/**
 * The in-process face of the Kubernetes API emulator: what the emulated controllers (Cluster API
 * + CAPRKE2 on the management cluster, Deployments/Pods/scheduling on workload clusters, the GKE
 * emulator's node pools) use to read and write objects of one emulated API server. The HTTP
 * surface kubectl and @kubernetes/client-node talk to is built on the same store, so a controller's
 * write and a client's write follow the same rules (resourceVersion, 409, finalizers, status).
 *
 * Every emulated API server has a name (a DNS label): `management` for the management cluster,
 * the external cluster name (`capstan-...`) for a workload cluster. Over HTTPS it is reached as
 * `<name>.<kubeDomain>` by TLS server name (kubeconfig `tls-server-name`).
 */

import type { SubresourceRegistration } from './subresources';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  generateName?: string;
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

/** Names one object (namespace absent for cluster-scoped kinds). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export type ApiServerRole = 'management' | 'workload';

export interface ApiServerInfo {
  name: string;
  role: ApiServerRole;
  /** Which distribution's version strings it reports: `v1.36.4+rke2r1`, `v1.36.2-gke.1100`. */
  distribution: 'rke2' | 'gke' | 'kubernetes';
  /** The control plane's version as its distribution writes it without the `v`: "1.36.4+rke2r1", "1.36.2-gke.1100". */
  version: string;
  /** False while the API server is down (fault injection, a control plane being replaced): /readyz answers 503 and every other request 503. */
  serving: boolean;
}

export interface ListOptions {
  namespace?: string;
  /** Kubernetes label selector syntax: `a=b,c!=d,e in (f,g),!h`. */
  labelSelector?: string;
  /** Kubernetes field selector syntax: `metadata.name=x,spec.nodeName=n,status.phase!=Running`. */
  fieldSelector?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  server: string;
  type: WatchEventType;
  object: KubeObject;
}

/**
 * Errors carry the HTTP status and the `Status` reason the HTTP surface answers with:
 * 404 NotFound, 409 AlreadyExists / Conflict, 422 Invalid, 429 TooManyRequests (eviction blocked
 * by a PodDisruptionBudget), 503 ServiceUnavailable (API server not serving).
 */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** Who an in-process write is recorded as in managedFields (kube-apiserver's `fieldManager`); unrecorded without. */
export interface WriteAs {
  fieldManager?: string;
}

/** One emulated API server's objects. `apiVersion` is `group/version` or `v1` for the core group. */
export interface ApiServerClient {
  readonly name: string;
  get(ref: ObjectRef): Promise<KubeObject | null>;
  list(apiVersion: string, kind: string, options?: ListOptions): Promise<KubeObject[]>;
  /** AlreadyExists when the name is taken; fills uid, resourceVersion, creationTimestamp, generation. */
  create(object: KubeObject): Promise<KubeObject>;
  /**
   * Replaces spec/metadata (status is kept: it has its own subresource where the kind declares one); Conflict when `metadata.resourceVersion` is given and stale.
   * With `fieldManager` the change is recorded in managedFields as that manager's `Update` (through `subresource` `scale` for a scale write).
   */
  update(object: KubeObject, options?: WriteAs & { subresource?: 'scale' }): Promise<KubeObject>;
  /** Replaces status only (the `status` subresource); Conflict on a stale resourceVersion when given. */
  updateStatus(object: KubeObject, options?: WriteAs): Promise<KubeObject>;
  /** RFC 7386 JSON merge patch of the object (or of its status with `subresource: 'status'`). */
  mergePatch(ref: ObjectRef, patch: Record<string, unknown>, options?: WriteAs & { subresource?: 'status' }): Promise<KubeObject>;
  /**
   * With finalizers the object gets `deletionTimestamp` and stays until they are removed; NotFound when absent.
   * Dependents (ownerReferences) go after it (Background, the default), before it (Foreground) or stay (Orphan).
   * A Pod bound to a node is deleted gracefully: it gets `deletionTimestamp` = now + grace period
   * (`gracePeriodSeconds`, else its `terminationGracePeriodSeconds`, else 30) and stays until its
   * kubelet deletes it with `gracePeriodSeconds: 0`, which also forces any pod away at once.
   */
  delete(ref: ObjectRef, options?: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; gracePeriodSeconds?: number }): Promise<void>;
}

/**
 * A controller of the emulated world. The emulator calls `reconcile` for every change event it
 * sees (its own writes and those of other simulator processes on the same database, at least
 * once each) and on a periodic tick, so timed transitions ("a machine takes stepDelayMs to
 * provision") advance without any event. Controllers must be idempotent: two simulator processes
 * may run the same reconcile at once, and a stale write answers Conflict and is retried on the
 * next tick.
 */
export interface EmulatedController {
  readonly name: string;
  /** Which API servers it watches: `management`, every `workload` server, or both. */
  readonly roles: ApiServerRole[];
  /** False for controllers that act on events only (the garbage collector): the tick skips them. Default true. */
  readonly ticks?: boolean;
  reconcile(server: ApiServerClient, info: ApiServerInfo, context: ControllerContext): Promise<void>;
}

export interface ControllerContext {
  emulator: KubeEmulator;
  /** How long each simulated transition takes (provisioning a machine, a node joining, ...). */
  stepDelayMs: number;
  /** How long an Event lives after its last occurrence (kube-apiserver's `--event-ttl`, one hour by default). */
  eventTtlMs?: number;
  now(): Date;
  /** The event that triggered this run, or null for a tick. */
  event: ChangeEvent | null;
}

/**
 * Subresources that are behaviour (`pods/eviction`, `serviceaccounts/token`) are served by
 * handlers registered with `registerSubresource` (list yours in controllers/index.ts,
 * `KUBE_SUBRESOURCES`; the simulator registers them at start). Signature:
 *
 *   registerSubresource({ group: '', resource: 'pods', subresource: 'eviction',
 *     handle(request: SubresourceRequest): Promise<{ status?: number; body: unknown }> })
 *
 * `request` carries the verb (`create` for POST), the server's client and info, the namespace
 * and parent name from the path, the parsed JSON body and the query. Throw KubeApiError for a
 * `Status` error (e.g. 429 TooManyRequests when a PodDisruptionBudget blocks an eviction).
 * See subresources.ts for the types.
 */
export interface KubeEmulator {
  ensureApiServer(info: Omit<ApiServerInfo, 'serving'> & { serving?: boolean }): Promise<ApiServerInfo>;
  getApiServer(name: string): Promise<ApiServerInfo | null>;
  listApiServers(role?: ApiServerRole): Promise<ApiServerInfo[]>;
  updateApiServer(name: string, change: Partial<Pick<ApiServerInfo, 'version' | 'serving'>>): Promise<ApiServerInfo>;
  /** Drops the API server with every object in it. Absent is fine. */
  removeApiServer(name: string): Promise<void>;
  server(name: string): ApiServerClient;
  /**
   * A bearer token the named API server accepts with cluster-admin rights (the kubeconfig Secret
   * CAPRKE2 writes, Capstan's own access); `ttlSeconds` null = until revoked.
   */
  issueToken(server: string, options: { subject: string; ttlSeconds: number | null }): Promise<{ token: string; expiresAt: Date | null }>;
  /** Invalidates every token issued for `subject` on that server. */
  revokeTokens(server: string, subject: string): Promise<void>;
  /** Every change on every API server, in commit order per server. Returns an unsubscribe. */
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /** HTTPS URL of the listener and the CA that signs it (for kubeconfigs); the server is chosen by SNI `<name>.<kubeDomain>`. */
  readonly url: string;
  readonly kubeDomain: string;
  readonly caCertificatePem: string;
  registerSubresource(registration: SubresourceRegistration): void;
}
