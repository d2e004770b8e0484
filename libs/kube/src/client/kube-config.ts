import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterAccess } from '@capstan/providers';

/**
 * A client-node KubeConfig for Capstan's access to one tenant cluster. `tlsServerName` becomes the
 * cluster's `tls-server-name`: client-node 1.4 honours it for every request (it sets the TLS
 * `servername` of the agent it builds in `applySecurityAuthentication`), so one HTTPS address that
 * picks the cluster by SNI (the emulator, a shared ingress) works without a custom agent.
 */
export function kubeConfigFor(access: ClusterAccess, name = 'tenant'): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name,
        server: access.server,
        caData: Buffer.from(access.caCertificate).toString('base64'),
        skipTLSVerify: false,
        ...(access.tlsServerName ? { tlsServerName: access.tlsServerName } : {}),
      },
    ],
    users: [{ name: 'capstan', token: access.token }],
    contexts: [{ name, cluster: name, user: 'capstan' }],
    currentContext: name,
  });
  return config;
}
