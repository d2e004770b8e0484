import { ApiException } from '@kubernetes/client-node';
import { ProviderError } from '@capstan/providers';

/** Node's codes for a connection that failed or dropped: the API server may answer later. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** The parts of a Kubernetes `Status` body Capstan reads. */
export interface KubeStatus {
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[]; retryAfterSeconds?: number };
}

/** The HTTP status of the API server's answer carried by `error`, or null when none came. */
export function statusCode(error: unknown): number | null {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : null;
}

/** The `Status` body of an error answer (client-node hands it over parsed or as text). */
export function statusBody(error: unknown): KubeStatus {
  if (!(error instanceof ApiException)) return {};
  const body: unknown = (error as ApiException<unknown>).body;
  if (body && typeof body === 'object') return body as KubeStatus;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  return {};
}

export const isNotFound = (error: unknown): boolean => statusCode(error) === 404;

/**
 * A failed call to a tenant cluster as the ProviderError the engine understands. `doing` names the
 * work ("cordoning node a"). Retryable: no answer (network, timeout), 429, 5xx and 409 Conflict
 * (a concurrent write: reading again and retrying helps). Final: every other 4xx, with the API
 * server's own message, since repeating the same request gets the same answer.
 */
export function toKubeError(error: unknown, doing: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const code = statusCode(error);
  if (code === null) {
    const reason = networkReason(error);
    if (reason) return new ProviderError(`the cluster's API server did not answer while ${doing} (${reason})`, true, 'kube_unavailable');
    const message = error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : String(error);
    return new ProviderError(`${doing} failed: ${message}`, false, 'kube_error');
  }
  const { reason, message } = statusBody(error);
  const said = message ? `: ${message}` : '';
  if (code === 429) return new ProviderError(`the cluster's API server asked Capstan to back off while ${doing}${said}`, true, 'kube_throttled');
  if (code >= 500) return new ProviderError(`the cluster's API server failed while ${doing} (HTTP ${code})${said}`, true, 'kube_unavailable');
  if (code === 409 && reason !== 'AlreadyExists') return new ProviderError(`a concurrent change got in the way while ${doing}${said}`, true, 'kube_conflict');
  if (code === 401 || code === 403)
    return new ProviderError(`the cluster refused Capstan's credentials while ${doing} (HTTP ${code})${said}`, false, 'kube_forbidden');
  return new ProviderError(`the cluster refused ${doing} (HTTP ${code})${said}`, false, reason ? `kube_${reason.toLowerCase()}` : 'kube_rejected');
}

/** Why no answer came (a connection error code, a timeout), or null when `error` is something else. */
function networkReason(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const { code, errno, name, type } = current as { code?: unknown; errno?: unknown; name?: unknown; type?: unknown };
    for (const candidate of [code, errno]) if (typeof candidate === 'string' && NETWORK_CODES.has(candidate)) return candidate;
    if (name === 'AbortError' || name === 'TimeoutError' || type === 'aborted' || type === 'request-timeout') return 'timed out';
    if (name === 'FetchError' || type === 'system') return 'connection failed';
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
