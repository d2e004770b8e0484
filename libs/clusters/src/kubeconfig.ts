import type { ClusterCredentials } from '@capstan/providers';

/**
 * A kubeconfig for one cluster with a bearer token. Every value is ours or the provider's (URL,
 * PEM, token), none is free text from a customer, so a template is safe; names are DNS labels.
 */
export function renderKubeconfig(clusterName: string, credentials: ClusterCredentials): string {
  const ca = Buffer.from(credentials.caCertificate, 'utf8').toString('base64');
  const user = `${clusterName}-user`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${clusterName}`,
    '  cluster:',
    `    server: ${credentials.server}`,
    `    certificate-authority-data: ${ca}`,
    // One address can serve many clusters (the simulated cloud does): the server name picks ours.
    ...(credentials.tlsServerName ? [`    tls-server-name: ${credentials.tlsServerName}`] : []),
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${credentials.token}`,
    'contexts:',
    `- name: ${clusterName}`,
    '  context:',
    `    cluster: ${clusterName}`,
    `    user: ${user}`,
    `current-context: ${clusterName}`,
    `# expires: ${credentials.expiresAt.toISOString()}`,
    '',
  ].join('\n');
}
