/**
 * A kubeconfig for one emulated API server: the shared listener's URL, the CA, the server's name
 * as `tls-server-name` (which is what picks the server on the listener) and a bearer token.
 */
export function kubeconfigYaml(options: { name: string; url: string; kubeDomain: string; caCertificatePem: string; token: string; user?: string }): string {
  const user = options.user ?? 'admin';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${options.name}`,
    '  cluster:',
    `    server: ${options.url}`,
    `    certificate-authority-data: ${Buffer.from(options.caCertificatePem).toString('base64')}`,
    `    tls-server-name: ${options.name}.${options.kubeDomain}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${options.token}`,
    'contexts:',
    `- name: ${options.name}`,
    '  context:',
    `    cluster: ${options.name}`,
    `    user: ${user}`,
    `current-context: ${options.name}`,
    '',
  ].join('\n');
}
