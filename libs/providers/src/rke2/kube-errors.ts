import { ProviderError } from '../cluster-provider';
import { kubeNetworkReason as networkReason, kubeStatusBody, kubeStatusCode } from '../kube-answers';

export { kubeStatusBody, kubeStatusCode } from '../kube-answers';

/**
 * A failed call to the management cluster as the port's ProviderError. `doing` names the work in
 * words a customer can read ("creating the control plane of capstan-01j..."). Retryable: no answer
 * (network, timeout), 429, 5xx, and 409 Conflict (a concurrent write: read again and retry).
 * Final: every other 4xx, with the API server's own message. `host`: the management cluster's
 * configured server, named in the outage log when it does not answer.
 */
export function toProviderError(error: unknown, doing: string, host?: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const code = kubeStatusCode(error);
  if (code === null) {
    const reason = networkReason(error);
    // No answer at all: the management cluster (at its configured host) is what a request met down.
    if (reason)
      return new ProviderError(`the management cluster did not answer while ${doing} (${reason}); Capstan retries`, true, 'provider_unavailable', {
        dependency: 'management-cluster',
        ...(host ? { host } : {}),
      });
    // Not an answer and not the network: e.g. the API server does not serve the kind at all.
    const message = error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : String(error);
    return new ProviderError(`${doing} failed: ${message}`, false, 'provider_error');
  }
  const { reason, message } = kubeStatusBody(error);
  const said = message ? `: ${message}` : '';
  if (code === 429) return new ProviderError(`the management cluster is throttling requests while ${doing}${said}`, true, 'provider_throttled');
  if (code >= 500) return new ProviderError(`the management cluster failed while ${doing} (HTTP ${code})${said}`, true, 'provider_unavailable');
  if (code === 409 && reason !== 'AlreadyExists')
    return new ProviderError(`a concurrent change got in the way while ${doing}${said}`, true, 'provider_conflict');
  if (code === 401 || code === 403)
    return new ProviderError(
      `the management cluster refused Capstan's credentials while ${doing} (HTTP ${code}); staff must check its access`,
      false,
      'provider_forbidden',
    );
  if (code === 404)
    return new ProviderError(
      `the management cluster does not serve what ${doing} needs${said}; is Cluster API with the RKE2 provider installed?`,
      false,
      'provider_not_found',
    );
  return new ProviderError(`the management cluster refused ${doing}${said}`, false, reason ? `provider_${reason.toLowerCase()}` : 'provider_rejected');
}
