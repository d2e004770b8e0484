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
  const kubeconfig = readKubeconfigSecret(cluster, secret);
  if (!kubeconfig) return null;
  if (!kubeconfig.token) throw unreadable(cluster, 'authenticates without a bearer token, which Capstan cannot use yet');
  return { ...kubeconfig, token: kubeconfig.token, expiresAt: null };
}

/**
 * Where the cluster's API server is and who signs its certificate, from the same Secret; its
 * credential may be of any kind (a cluster is running whatever Capstan's own access needs).
 */
export function readKubeconfigSecret(
  cluster: string,
  secret: { data?: Record<string, string> } | null,
): { server: string; tlsServerName?: string; caCertificate: string; token: string | null } | null {
  const encoded = secret?.data?.value;
  if (!encoded) return null;
  const config = new KubeConfig();
  try {
    config.loadFromString(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw unreadable(cluster, 'is not a kubeconfig');
  }
  const server = config.getCurrentCluster();
  if (!server?.server) throw unreadable(cluster, 'names no server');
  const caCertificate = server.caData ? Buffer.from(server.caData, 'base64').toString('utf8') : null;
  if (!caCertificate) throw unreadable(cluster, 'carries no certificate authority');
  return {
    server: server.server,
    ...(server.tlsServerName ? { tlsServerName: server.tlsServerName } : {}),
    caCertificate,
    token: config.getCurrentUser()?.token ?? null,
  };
}

function unreadable(cluster: string, why: string): ProviderError {
  return new ProviderError(`the admin kubeconfig of cluster ${cluster} ${why}`, false, 'kubeconfig_unusable');
}
