import { hostOf, outageLog } from '@capstan/platform';
import { ProviderError } from '../cluster-provider';
import type { GkeCredentials } from './gke-settings';

export interface BearerToken {
  token: string;
  expiresAt: Date | null;
}

/** Renew this long before expiry, so a token never dies mid-request. */
const RENEW_BEFORE_MS = 60_000;

/**
 * The driver's credentials: bearer tokens for the Container API and for a cluster's API server.
 * On GKE the caller's Google token is accepted by both; the emulator's token endpoint issues a
 * cluster token when asked with `resource` naming the cluster.
 */
export class GkeTokenSource {
  private cached: { token: BearerToken; renewAt: number } | null = null;
  private readonly clusterTokens = new Map<string, { token: BearerToken; renewAt: number }>();

  constructor(
    private readonly credentials: GkeCredentials,
    private readonly timeoutMs: number,
  ) {}

  async apiToken(): Promise<string> {
    if (this.credentials.kind === 'static') return this.credentials.token;
    if (this.cached && Date.now() < this.cached.renewAt) return this.cached.token.token;
    const token = await this.request();
    this.cached = { token, renewAt: token.expiresAt ? token.expiresAt.getTime() - RENEW_BEFORE_MS : Number.POSITIVE_INFINITY };
    return token.token;
  }

  /** A token for the API server of the cluster `resourceName` (`projects/p/locations/l/clusters/c`). */
  async clusterToken(resourceName: string): Promise<BearerToken> {
    if (this.credentials.kind === 'static') return { token: this.credentials.token, expiresAt: null };
    // Polls of a pool read its nodes with this token: one per cluster until near its expiry, not one per poll.
    const cached = this.clusterTokens.get(resourceName);
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const token = await this.request(resourceName);
    this.clusterTokens.set(resourceName, { token, renewAt: token.expiresAt ? token.expiresAt.getTime() - RENEW_BEFORE_MS : Number.POSITIVE_INFINITY });
    return token;
  }

  /** Drops a cluster token its API server no longer accepts (the cluster was replaced). */
  forgetClusterToken(resourceName: string): void {
    this.clusterTokens.delete(resourceName);
  }

  private async request(resource?: string): Promise<BearerToken> {
    const { url, clientSecret } = this.credentials as Extract<GkeCredentials, { kind: 'token-endpoint' }>;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (clientSecret) form.set('client_secret', clientSecret);
    if (resource) form.set('resource', resource);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ProviderError(`GKE token endpoint unreachable: ${(error as Error).message}`, true, 'gke_unavailable', { dependency: 'gke', host: hostOf(url) });
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error_description?: string };
    if (!response.ok || !body.access_token) {
      throw new ProviderError(
        `GKE token endpoint refused: ${body.error_description ?? response.status}`,
        response.status >= 500 || response.status === 429,
        'gke_unauthenticated',
      );
    }
    return { token: body.access_token, expiresAt: body.expires_in ? new Date(Date.now() + body.expires_in * 1000) : null };
  }
}

/**
 * What google-gax's REST transport needs of an auth client, and nothing more: headers and a
 * `fetch`. Passing it explicitly keeps google-auth-library from discovering credentials (and from
 * asking a metadata server), and its `fetch` refuses any origin but the configured API's.
 */
export class BearerAuthClient {
  constructor(
    private readonly tokens: GkeTokenSource,
    private readonly apiOrigin: string,
  ) {}

  async getRequestHeaders(): Promise<Headers> {
    return new Headers({ authorization: `Bearer ${await this.tokens.apiToken()}` });
  }

  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(String(input));
    if (url.origin !== this.apiOrigin) throw new Error(`refusing to send a Container API request to ${url.origin}: only ${this.apiOrigin} is configured`);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${await this.tokens.apiToken()}`);
    // google-gax adds node-fetch options (agent, responseType) that the platform fetch ignores.
    const response = await fetch(url, { method: init.method, headers, body: init.body, signal: init.signal });
    // It answered: an outage of it that a request met is over.
    outageLog.succeeded('gke');
    return response;
  }
}
