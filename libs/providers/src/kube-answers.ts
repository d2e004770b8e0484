import { ApiException } from '@kubernetes/client-node';

/**
 * Reading a failed @kubernetes/client-node call, for both places Capstan talks to a Kubernetes API
 * server: the RKE2 driver (the management cluster) and @capstan/kube (tenant clusters). Each turns
 * what it reads into ProviderErrors worded for its own audience.
 */

/** Node's codes for a connection that failed or dropped: the API server may answer later. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** The parts of a Kubernetes `Status` body Capstan reads. */
export interface KubeStatusBody {
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[]; retryAfterSeconds?: number };
}

/** The HTTP status of the API server's answer carried by `error`, or null when none came. */
export function kubeStatusCode(error: unknown): number | null {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : null;
}

/** The `Status` body of an error answer (client-node hands it over parsed or as text). */
export function kubeStatusBody(error: unknown): KubeStatusBody {
  if (!(error instanceof ApiException)) return {};
  const body: unknown = (error as ApiException<unknown>).body;
  if (body && typeof body === 'object') return body as KubeStatusBody;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatusBody;
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  return {};
}

/** Why no answer came (a connection error code, a timeout), or null when `error` is something else. */
export function kubeNetworkReason(error: unknown): string | null {
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
