import { hostOf, outageLog, type UnreachableCall } from '@capstan/platform';
import { type Dispatcher, Pool } from 'undici';
import {
  type Addon,
  type ClusterCredentials,
  type ClusterObject,
  ClusterProvider,
  type DrainResult,
  type ExternalClusterSpec,
  type ExternalNodePoolSpec,
  type ProviderCluster,
  ProviderError,
  type ProviderNodePool,
  type ProviderObjectStatus,
  type Snapshot,
} from '../cluster-provider';

export interface SimulatedProviderOptions {
  /** The simulated cloud's JSON API, e.g. `http://127.0.0.1:8090`. */
  apiUrl: string;
  /** Its credential (SIMULATOR_API_TOKEN), sent as `Authorization: Bearer` on every call. */
  apiToken?: string;
  /**
   * Per call: a call whose answer does not start (or stalls) for this long fails as retryable, as
   * a cloud API timing out does.
   */
  timeoutMs?: number;
}

/** The simulator's wire shapes: the port's types with dates as ISO strings, plus fields we ignore. */
interface ClusterBody {
  name: string;
  status: ProviderObjectStatus;
  version: string;
  endpoint: string | null;
  tlsServerName?: string | null;
  caCertificate: string | null;
}

interface NodePoolBody {
  name: string;
  status: ProviderObjectStatus;
  count: number;
  version: string;
  nodes: { name: string; version: string; ready: boolean; unschedulable: boolean }[];
}

interface CredentialsBody {
  server: string;
  tlsServerName?: string;
  caCertificate: string;
  token: string;
  expiresAt: string;
}

interface SnapshotBody {
  name: string;
  createdAt: string;
  sizeBytes: number;
  version: string;
}

interface ErrorBody {
  code?: string;
  message?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const JSON_CONTENT = { 'content-type': 'application/json' };
const PRECISE_TIMEOUT_BELOW_MS = 5_000;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The default driver: an HTTP client of the simulated cloud (apps/simulator), which keeps its
 * state in its own tables, outside the worker, so a worker crash finds what it had created.
 *
 * Errors follow the port's contract: connection failures, timeouts and 5xx may succeed later
 * (retryable); 4xx will not, and carry the simulator's message.
 */
export interface SimulatorFault {
  id: string;
  match: { call: string; cluster?: string | null };
  mode: 'fail_once' | 'fail_always' | 'slow';
  delayMs: number | null;
  retryable: boolean;
  hits: number;
}

export class SimulatedProvider extends ClusterProvider {
  readonly kind = 'simulated' as const;
  /**
   * Keep-alive connections to the simulated cloud, reused across calls. undici's own `request`
   * rather than `fetch` (which is undici behind a WHATWG layer): a call costs a quarter of the
   * CPU, which on a busy worker is most of what a provider call costs it.
   */
  private readonly connections: Pool;
  /** The API's path prefix, if it is served below one (`http://host/sim`). */
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly authorization: Record<string, string>;
  /** What a call that gets no answer says it could not reach: the simulated cloud, at its configured host. */
  private readonly dependency: UnreachableCall;

  constructor(options: SimulatedProviderOptions) {
    super();
    const url = new URL(options.apiUrl);
    this.dependency = { dependency: 'simulated-cloud', host: hostOf(options.apiUrl) };
    this.connections = new Pool(url.origin);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.authorization = options.apiToken ? { authorization: `Bearer ${options.apiToken}` } : {};
  }

  async ensureCluster(spec: ExternalClusterSpec): Promise<ProviderCluster> {
    return toCluster(await this.call<ClusterBody>('PUT', clusterPath(spec.name), spec));
  }

  async getCluster(name: string): Promise<ProviderCluster | null> {
    const body = await this.call<ClusterBody>('GET', clusterPath(name), undefined, { absentIsNull: true });
    return body && toCluster(body);
  }

  async deleteCluster(name: string): Promise<void> {
    await this.call('DELETE', clusterPath(name), undefined, { absentIsNull: true });
  }

  async ensureNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    return toNodePool(await this.call<NodePoolBody>('PUT', poolPath(cluster, spec.name), spec));
  }

  async getNodePool(cluster: string, pool: string): Promise<ProviderNodePool | null> {
    const body = await this.call<NodePoolBody>('GET', poolPath(cluster, pool), undefined, { absentIsNull: true });
    return body && toNodePool(body);
  }

  async updateNodePool(cluster: string, spec: ExternalNodePoolSpec): Promise<ProviderNodePool> {
    return toNodePool(await this.call<NodePoolBody>('PATCH', poolPath(cluster, spec.name), spec));
  }

  async deleteNodePool(cluster: string, pool: string): Promise<void> {
    await this.call('DELETE', poolPath(cluster, pool), undefined, { absentIsNull: true });
  }

  async issueCredentials(cluster: string, ttlSeconds: number): Promise<ClusterCredentials> {
    const body = await this.call<CredentialsBody>('POST', `${clusterPath(cluster)}/credentials`, { ttlSeconds });
    return {
      server: body.server,
      ...(body.tlsServerName ? { tlsServerName: body.tlsServerName } : {}),
      caCertificate: body.caCertificate,
      token: body.token,
      expiresAt: new Date(body.expiresAt),
    };
  }

  async revokeCredentials(cluster: string): Promise<void> {
    await this.call('DELETE', `${clusterPath(cluster)}/credentials`);
  }

  async upgradeControlPlane(cluster: string, version: string): Promise<void> {
    await this.call('POST', `${clusterPath(cluster)}/control-plane/upgrade`, { version });
  }

  async cordonNode(cluster: string, node: string): Promise<void> {
    await this.call('POST', `${nodePath(cluster, node)}/cordon`, {});
  }

  async drainNode(cluster: string, node: string, options: { timeoutSeconds: number; force: boolean }): Promise<DrainResult> {
    const body = await this.call<DrainResult>('POST', `${nodePath(cluster, node)}/drain`, options);
    return {
      drained: body.drained,
      blockedBy: body.blockedBy.map((b) => ({ namespace: b.namespace, pod: b.pod, podDisruptionBudget: b.podDisruptionBudget })),
    };
  }

  async upgradeNode(cluster: string, node: string, version: string): Promise<void> {
    await this.call('POST', `${nodePath(cluster, node)}/upgrade`, { version });
  }

  async uncordonNode(cluster: string, node: string): Promise<void> {
    await this.call('POST', `${nodePath(cluster, node)}/uncordon`, {});
  }

  async snapshot(cluster: string, name: string): Promise<Snapshot> {
    const body = await this.call<SnapshotBody>('PUT', `${clusterPath(cluster)}/snapshots/${encodeURIComponent(name)}`, {});
    return { name: body.name, createdAt: new Date(body.createdAt), sizeBytes: body.sizeBytes, version: body.version };
  }

  async restore(cluster: string, snapshot: string): Promise<void> {
    await this.call('POST', `${clusterPath(cluster)}/restore`, { snapshot });
  }

  async installAddons(cluster: string, addons: Addon[]): Promise<void> {
    await this.call('POST', `${clusterPath(cluster)}/addons`, { addons: addons.map((a) => ({ name: a.name, version: a.version })) });
  }

  async listAddons(cluster: string): Promise<Addon[]> {
    const body = await this.call<{ items: Addon[] }>('GET', `${clusterPath(cluster)}/addons`);
    return body.items.map((a) => ({ name: a.name, version: a.version }));
  }

  async listObjects(cluster: string): Promise<ClusterObject[]> {
    const body = await this.call<{ items: ClusterObject[] }>('GET', `${clusterPath(cluster)}/objects`);
    return body.items.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace, name: o.name }));
  }

  // ---- chaos: only the simulated cloud has these, for demos, tests and staff fault injection ----

  async injectFault(fault: {
    call: string;
    cluster?: string;
    mode: 'fail_once' | 'fail_always' | 'slow';
    delayMs?: number;
    retryable: boolean;
  }): Promise<SimulatorFault> {
    return this.call('POST', '/v1/chaos/faults', {
      match: { call: fault.call, cluster: fault.cluster },
      mode: fault.mode,
      delayMs: fault.delayMs,
      retryable: fault.retryable,
    });
  }

  async listFaults(): Promise<SimulatorFault[]> {
    return (await this.call<{ items: SimulatorFault[] }>('GET', '/v1/chaos/faults')).items;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/v1/chaos/faults');
  }

  /** Takes a cluster's API server down (its /readyz answers 503) or brings it back. */
  async setApiServer(cluster: string, up: boolean): Promise<void> {
    await this.call('POST', `/v1/chaos/clusters/${encodeURIComponent(cluster)}/api-server/${up ? 'up' : 'down'}`);
  }

  private call<T>(method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<T>;
  private call<T>(method: Dispatcher.HttpMethod, path: string, body: unknown, options: { absentIsNull: true }): Promise<T | null>;
  private async call<T>(method: Dispatcher.HttpMethod, path: string, body?: unknown, options: { absentIsNull?: boolean } = {}): Promise<T | null> {
    const what = `${method} ${path}`;
    let status: number;
    let text: string;
    try {
      const response = await this.connections.request({
        path: `${this.basePath}${path}`,
        method,
        // No content-type without a body: servers refuse an empty body declared as JSON.
        headers: body === undefined ? this.authorization : { ...JSON_CONTENT, ...this.authorization },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...this.deadline(),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw unreachable(what, error, this.timeoutMs, this.dependency);
    }
    // It answered: an outage of it that a request met is over.
    outageLog.succeeded('simulated-cloud');
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : null) as T;
    if (status === 404 && options.absentIsNull) return null;

    const problem = parseError(text);
    const message = `simulated cloud: ${problem.message ?? `${what} answered ${status}`}`;
    throw new ProviderError(message, status >= 500, problem.code ?? `http_${status}`);
  }

  /**
   * undici's headers and body timeouts are nearly free but tick every half second: right for the
   * default of seconds, too coarse for the sub-second timeouts that tests and impatient callers
   * set. Those get an abort signal, which costs a timer per call.
   */
  private deadline(): { headersTimeout: number; bodyTimeout: number } | { signal: AbortSignal } {
    return this.timeoutMs >= PRECISE_TIMEOUT_BELOW_MS
      ? { headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs }
      : { signal: AbortSignal.timeout(this.timeoutMs) };
  }
}

function clusterPath(cluster: string): string {
  return `/v1/clusters/${encodeURIComponent(cluster)}`;
}

function poolPath(cluster: string, pool: string): string {
  return `${clusterPath(cluster)}/node-pools/${encodeURIComponent(pool)}`;
}

function nodePath(cluster: string, node: string): string {
  return `${clusterPath(cluster)}/nodes/${encodeURIComponent(node)}`;
}

function toCluster(body: ClusterBody): ProviderCluster {
  return {
    name: body.name,
    status: body.status,
    version: body.version,
    endpoint: body.endpoint,
    caCertificate: body.caCertificate,
    ...(body.tlsServerName ? { tlsServerName: body.tlsServerName } : {}),
  };
}

function toNodePool(body: NodePoolBody): ProviderNodePool {
  return {
    name: body.name,
    status: body.status,
    count: body.count,
    version: body.version,
    nodes: body.nodes.map((n) => ({ name: n.name, version: n.version, ready: n.ready, unschedulable: n.unschedulable })),
  };
}

function parseError(text: string): ErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as ErrorBody) : {};
  } catch {
    return {};
  }
}

function unreachable(what: string, error: unknown, timeoutMs: number, dependency: UnreachableCall): ProviderError {
  // By code, not `instanceof`: errors may come from another realm (test sandboxes).
  const { name, code, message } = (typeof error === 'object' && error !== null ? error : {}) as { name?: string; code?: string; message?: string };
  if ((code && TIMEOUT_CODES.has(code)) || name === 'TimeoutError' || name === 'AbortError') {
    return new ProviderError(`simulated cloud: ${what} timed out after ${timeoutMs} ms`, true, 'timeout', dependency);
  }
  return new ProviderError(`simulated cloud unreachable: ${what}: ${message ?? String(error)}`, true, 'unavailable', dependency);
}
