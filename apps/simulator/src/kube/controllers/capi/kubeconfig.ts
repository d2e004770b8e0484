import { stringify } from 'yaml';
import type { KubeEmulator, KubeObject } from '../../types';
import { LABEL } from './api';

/**
 * The `<cluster>-kubeconfig` Secret CAPI and CAPRKE2 write once the control plane answers: type
 * `cluster.x-k8s.io/secret`, `data.value` a kubeconfig for the workload API server, labelled with
 * the cluster's name and owned by the Cluster. The emulator serves every API server on one
 * listener, so the kubeconfig names the listener's address and picks the server by
 * `tls-server-name`; the credential is a bearer token the emulator issued for it.
 */
export function kubeconfigSecretName(cluster: string): string {
  return `${cluster}-kubeconfig`;
}

export const KUBECONFIG_SUBJECT = 'capi-kubeconfig-secret';

export interface WorkloadAccess {
  cluster: string;
  server: string;
  tlsServerName: string;
  caCertificatePem: string;
  token: string;
}

export function renderKubeconfig(access: WorkloadAccess): string {
  const user = `${access.cluster}-admin`;
  const context = `${user}@${access.cluster}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: access.cluster,
        cluster: {
          server: access.server,
          'certificate-authority-data': Buffer.from(access.caCertificatePem).toString('base64'),
          'tls-server-name': access.tlsServerName,
        },
      },
    ],
    contexts: [{ name: context, context: { cluster: access.cluster, user } }],
    'current-context': context,
    users: [{ name: user, user: { token: access.token } }],
    preferences: {},
  });
}

export async function kubeconfigSecret(emulator: KubeEmulator, cluster: KubeObject): Promise<KubeObject> {
  const name = cluster.metadata.name;
  const { token } = await emulator.issueToken(name, { subject: KUBECONFIG_SUBJECT, ttlSeconds: null });
  const value = renderKubeconfig({
    cluster: name,
    server: emulator.url,
    tlsServerName: `${name}.${emulator.kubeDomain}`,
    caCertificatePem: emulator.caCertificatePem,
    token,
  });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: kubeconfigSecretName(name),
      namespace: cluster.metadata.namespace,
      labels: { [LABEL.clusterName]: name },
      ownerReferences: [{ apiVersion: cluster.apiVersion, kind: cluster.kind, name, uid: cluster.metadata.uid ?? '', controller: true }],
    },
    type: 'cluster.x-k8s.io/secret',
    data: { value: Buffer.from(value).toString('base64') },
  };
}
