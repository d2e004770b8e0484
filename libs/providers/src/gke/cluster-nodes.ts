import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { ProviderError, type ProviderNode } from '../cluster-provider';
import type { ClusterAccess } from '../infrastructure-driver';

/** The label GKE puts on every node with the name of its node pool. */
export const GKE_NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';

/**
 * A GKE node pool's nodes as its cluster's API server lists them: GKE's NodePool resource names
 * no nodes (they are instances of managed instance groups), so the Nodes labelled with the pool
 * are what the port reports, read with Capstan's own access.
 */
export async function listPoolNodes(access: ClusterAccess, pool: string, timeoutMs: number): Promise<ProviderNode[]> {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: 'gke',
        server: access.server,
        caData: Buffer.from(access.caCertificate).toString('base64'),
        tlsServerName: access.tlsServerName,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'capstan', token: access.token }],
    contexts: [{ name: 'gke', cluster: 'gke', user: 'capstan' }],
    currentContext: 'gke',
  });
  const core = config.makeApiClient(CoreV1Api);
  let nodes: V1Node[];
  try {
    const list = await Promise.race([
      core.listNode({ labelSelector: `${GKE_NODE_POOL_LABEL}=${pool}` }),
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    nodes = list.items;
  } catch (error) {
    const unauthorized = (error as { code?: number }).code === 401;
    throw new ProviderError(
      `GKE listing the nodes of pool ${pool}: ${(error as Error).message}`,
      true,
      unauthorized ? 'gke_api_server_unauthorized' : 'gke_api_server_unavailable',
    );
  }
  return nodes
    .map((n) => ({
      name: n.metadata?.name ?? '',
      version: (n.status?.nodeInfo?.kubeletVersion ?? '').replace(/^v/, ''),
      ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      unschedulable: n.spec?.unschedulable ?? false,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
