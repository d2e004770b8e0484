import { kubeNetworkReason as networkReason, kubeStatusBody, kubeStatusCode, ProviderError } from '@capstan/providers';

/** Re-exported under the names libs/kube's modules use (the reading itself is shared with the RKE2 driver). */
export const statusCode = kubeStatusCode;
export const statusBody = kubeStatusBody;

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
