import { BearerAuthClient, type GkeTokenSource } from '../gke-auth';
import { RPC, rpcCode, toProviderError } from '../gke-mapping';
import { restError } from './gke-backup-mapping';

/** google.longrunning.Operation as the REST API answers it, with gkebackup's OperationMetadata. */
export interface LongRunningOperation {
  name: string;
  done?: boolean;
  metadata?: { target?: string; verb?: string; statusMessage?: string };
  error?: { code?: number; message?: string };
  response?: Record<string, unknown>;
}

/**
 * The Backup for GKE v1 REST API, called as Google's REST clients call it: JSON over HTTPS with a
 * bearer token, enums by name, errors as google.rpc.Status bodies (no Node client for it is
 * installed; the paths are the `google.api.http` rules of gkebackup.proto). The same explicit
 * auth client as the Container API's: no credential discovery, no request to another origin.
 */
export class GkeBackupApi {
  private readonly auth: BearerAuthClient;
  private readonly root: string;

  constructor(
    tokens: GkeTokenSource,
    apiEndpoint: string,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(apiEndpoint);
    this.root = url.origin;
    this.auth = new BearerAuthClient(tokens, url.origin);
  }

  /** Calls `method` on `/v1/<path>`; a non-2xx answer throws an error with its google.rpc.Code as `code`. */
  async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${this.root}/v1/${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const response = await this.auth.fetch(url, {
      method,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let body: unknown = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { error: { message: text.slice(0, 200) } };
    }
    if (!response.ok) throw Object.assign(new Error(restError(response.status, body).message), restError(response.status, body));
    return body as T;
  }

  /** `call`, with every failure as a ProviderError saying what was being done. */
  async send<T>(method: 'GET' | 'POST' | 'DELETE', path: string, doing: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<T> {
    try {
      return await this.call<T>(method, path, options);
    } catch (error) {
      throw toProviderError(error, doing);
    }
  }

  /** A GET that answers null for NOT_FOUND. */
  async find<T>(path: string, doing: string): Promise<T | null> {
    try {
      return await this.call<T>('GET', path);
    } catch (error) {
      if (rpcCode(error) === RPC.NOT_FOUND) return null;
      throw toProviderError(error, doing);
    }
  }
}
