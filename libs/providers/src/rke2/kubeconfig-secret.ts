import { KubeConfig } from '@kubernetes/client-node';
import { ProviderError } from '../cluster-provider';
import type { ClusterAccess } from '../infrastructure-driver';

/**
 * The workload cluster's admin kubeconfig, as the control plane provider writes it into the
 * `<cluster>-kubeconfig` Secret (Cluster API convention: the kubeconfig YAML under key `value`).
 *
 * Capstan's own access is a bearer token. A kubeconfig that authenticates with a client
 * certificate instead (what CAPRKE2 writes for a real RKE2 server) is refused with a clear
 * error rather than half-used: exchanging it for a ServiceAccount token is the next step
 * (docs/rke2-driver.md).
 */
export function accessFromKubeconfigSecret(cluster: string, secret: { data?: Record<string, string> } | null): ClusterAccess | null {
  const encoded = secret?.data?.value;
  if (!encoded) return null;
  const config = new KubeConfig();
  try {
    config.loadFromString(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw unreadable(cluster, 'is not a kubeconfig');
  }
  const server = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (!server?.server) throw unreadable(cluster, 'names no server');
  const caCertificate = server.caData ? Buffer.from(server.caData, 'base64').toString('utf8') : null;
  if (!caCertificate) throw unreadable(cluster, 'carries no certificate authority');
  if (!user?.token) throw unreadable(cluster, 'authenticates without a bearer token, which Capstan cannot use yet');
  return {
    server: server.server,
    ...(server.tlsServerName ? { tlsServerName: server.tlsServerName } : {}),
    caCertificate,
    token: user.token,
    expiresAt: null,
  };
}

function unreadable(cluster: string, why: string): ProviderError {
  return new ProviderError(`the admin kubeconfig of cluster ${cluster} ${why}`, false, 'kubeconfig_unusable');
}
