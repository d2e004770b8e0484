import { createHash } from 'node:crypto';
import { deleteNode, nodeObject, setNodeKubeletVersion } from '../kube/controllers/workload';
import type { KubeEmulator, KubeObject } from '../kube/types';
import type { GkeKubeBridge, PoolState } from './gke-cloud';
import type { ClusterResource } from './resources';

/** The label GKE puts on every node with its node pool's name. */
export const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';

const TAINT_EFFECTS: Record<string, 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'> = {
  NO_SCHEDULE: 'NoSchedule',
  PREFER_NO_SCHEDULE: 'PreferNoSchedule',
  NO_EXECUTE: 'NoExecute',
};

/**
 * Each emulated GKE cluster is a workload API server of the Kubernetes API emulator, named as the
 * cluster, reporting GKE's version strings, with a Node per node of its pools, named and labelled
 * as GKE names and labels them (`gke-<cluster>-<pool>-<hash>-<suffix>`, `cloud.google.com/gke-nodepool`).
 */
export function gkeKubeBridge(emulator: KubeEmulator): GkeKubeBridge {
  return {
    endpointOf(cluster) {
      return { endpoint: new URL(emulator.url).host, dnsEndpoint: `${cluster}.${emulator.kubeDomain}`, caCertificatePem: emulator.caCertificatePem };
    },

    async sync(cluster, pools) {
      const info = await emulator.ensureApiServer({ name: cluster.name, role: 'workload', distribution: 'gke', version: cluster.currentMasterVersion });
      if (info.version !== cluster.currentMasterVersion) await emulator.updateApiServer(cluster.name, { version: cluster.currentMasterVersion });
      const server = emulator.server(cluster.name);
      const existing = new Map((await server.list('v1', 'Node', { labelSelector: NODE_POOL_LABEL })).map((n) => [n.metadata.name, n]));
      const desired = desiredNodes(cluster, pools, /\/projects\/([^/]+)\//.exec(cluster.selfLink)?.[1] ?? 'unknown');
      for (const node of desired) {
        const found = existing.get(node.metadata.name);
        existing.delete(node.metadata.name);
        if (!found) {
          await server.create(node);
          continue;
        }
        const version = (node.status as { nodeInfo: { kubeletVersion: string } }).nodeInfo.kubeletVersion;
        if ((found.status as { nodeInfo?: { kubeletVersion?: string } } | undefined)?.nodeInfo?.kubeletVersion !== version) {
          await setNodeKubeletVersion(server, node.metadata.name, version);
        }
        const labels = node.metadata.labels ?? {};
        if (Object.entries(labels).some(([k, v]) => found.metadata.labels?.[k] !== v)) {
          await server.mergePatch({ apiVersion: 'v1', kind: 'Node', name: node.metadata.name }, { metadata: { labels } });
        }
      }
      for (const name of existing.keys()) await deleteNode(server, name);
    },

    async remove(cluster) {
      await emulator.removeApiServer(cluster);
    },

    issueToken(cluster, ttlSeconds) {
      return emulator.issueToken(cluster, { subject: 'gke-caller', ttlSeconds });
    },
  };
}

function desiredNodes(cluster: ClusterResource, pools: readonly PoolState[], project: string): KubeObject[] {
  const region = cluster.location.replace(/-[a-z]$/, '');
  return pools.flatMap(({ resource: pool, nodeCount }) =>
    pool.locations.flatMap((zone) =>
      Array.from({ length: nodeCount }, (_unused, index) => {
        const group = hex(`${cluster.name}/${pool.name}/${zone}`).slice(0, 8);
        const name = `gke-${cluster.name.slice(0, 14)}-${pool.name.slice(0, 12)}-${group}-${hex(`${group}/${index}`).slice(0, 4)}`.replace(/-+/g, '-');
        return nodeObject({
          name,
          kubeletVersion: pool.version,
          labels: {
            ...pool.config.labels,
            [NODE_POOL_LABEL]: pool.name,
            'cloud.google.com/machine-family': pool.config.machineType.split('-')[0] ?? pool.config.machineType,
            'node.kubernetes.io/instance-type': pool.config.machineType,
            'topology.kubernetes.io/region': region,
            'topology.kubernetes.io/zone': zone,
          },
          taints: pool.config.taints.map((t) => ({ key: t.key, value: t.value, effect: TAINT_EFFECTS[t.effect] ?? 'NoSchedule' })),
          providerID: `gce://${project}/${zone}/${name}`,
        });
      }),
    ),
  );
}

const hex = (text: string) => createHash('sha256').update(text).digest('hex');
