import type { ClusterAccess, ClusterCredentials } from '@capstan/providers';
import { ProviderError } from '@capstan/providers';
import { setTimeout as sleep } from 'node:timers/promises';
import { apply } from '../client/apply';
import { isNotFound, toKubeError } from '../client/kube-errors';
import type { TenantClients } from '../client/tenant-clients';
import { CAPSTAN_NAMESPACE, CUSTOMER_ACCOUNT, customerAccessManifests } from '../baseline/baseline-objects';

/** kube-apiserver refuses TokenRequests shorter than 10 minutes (TokenRequest validation). */
export const MIN_TOKEN_SECONDS = 600;

/**
 * A token for the customer's ServiceAccount (`customer-admin`, bound to cluster-admin by the
 * baseline) through the TokenRequest API: the API server signs it, binds it to the account's uid
 * and ends it at `expirationSeconds`, so nothing secret is stored in the cluster and deleting the
 * account ends every token issued so far (revokeCustomerCredentials).
 */
export async function issueCustomerCredentials(clients: TenantClients, access: ClusterAccess, ttlSeconds: number): Promise<ClusterCredentials> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TOKEN_SECONDS)
    throw new ProviderError(
      `a customer token must last a whole number of seconds, at least ${MIN_TOKEN_SECONDS}; asked for ${ttlSeconds}`,
      false,
      'kube_invalid',
    );
  await ensureCustomerAccount(clients);
  const doing = `issuing a token for ${CAPSTAN_NAMESPACE}/${CUSTOMER_ACCOUNT}`;
  try {
    const answer = await clients.core.createNamespacedServiceAccountToken({
      name: CUSTOMER_ACCOUNT,
      namespace: CAPSTAN_NAMESPACE,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: ttlSeconds } },
    });
    const token = answer.status?.token;
    if (!token) throw new ProviderError(`${doing}: the API server answered without a token`, true, 'kube_error');
    const expiresAt = answer.status?.expirationTimestamp ? new Date(answer.status.expirationTimestamp) : new Date(Date.now() + ttlSeconds * 1000);
    return {
      server: access.server,
      ...(access.tlsServerName ? { tlsServerName: access.tlsServerName } : {}),
      caCertificate: access.caCertificate,
      token,
      expiresAt,
    };
  } catch (error) {
    throw toKubeError(error, doing);
  }
}

/**
 * Ends every customer token issued so far: the account is deleted (its tokens die with its uid)
 * and made again, so new downloads work at once. The binding to cluster-admin names the account,
 * not its uid, and carries over.
 */
export async function revokeCustomerCredentials(clients: TenantClients, timeoutMs = 30_000): Promise<void> {
  const doing = `revoking the tokens of ${CAPSTAN_NAMESPACE}/${CUSTOMER_ACCOUNT}`;
  let uid: string | undefined;
  try {
    uid = (await clients.core.readNamespacedServiceAccount({ name: CUSTOMER_ACCOUNT, namespace: CAPSTAN_NAMESPACE })).metadata?.uid;
    await clients.core.deleteNamespacedServiceAccount({
      name: CUSTOMER_ACCOUNT,
      namespace: CAPSTAN_NAMESPACE,
      body: { preconditions: uid ? { uid } : undefined },
    });
  } catch (error) {
    // No account (never issued, or a revocation cut short before re-creating it): nothing to end.
    if (!isNotFound(error)) throw toKubeError(error, doing);
  }
  const deadline = Date.now() + timeoutMs;
  while (uid && (await accountUid(clients, doing)) === uid) {
    if (Date.now() > deadline) throw new ProviderError(`${doing}: the account is still there after ${timeoutMs} ms`, true, 'kube_unavailable');
    await sleep(200);
  }
  await ensureCustomerAccount(clients);
}

async function accountUid(clients: TenantClients, doing: string): Promise<string | undefined> {
  try {
    return (await clients.core.readNamespacedServiceAccount({ name: CUSTOMER_ACCOUNT, namespace: CAPSTAN_NAMESPACE })).metadata?.uid;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toKubeError(error, doing);
  }
}

async function ensureCustomerAccount(clients: TenantClients): Promise<void> {
  for (const manifest of customerAccessManifests()) await apply(clients, manifest);
}
