import { type DetectedComponent, detectComponents, type ScannedWorkload } from '@capstan/domain';
import type { V1PodSpec } from '@kubernetes/client-node';
import type { TenantClients } from '../client/tenant-clients';
import { toKubeError } from '../client/kube-errors';

export interface WorkloadScan {
  /** How many Deployments and DaemonSets were read, in every namespace. */
  workloads: number;
  /** The components recognised in their images (ingress-nginx today). */
  components: DetectedComponent[];
}

/** Objects per list request: a cluster with thousands of workloads is read page by page. */
const PAGE = 500;

/**
 * What runs in the cluster beside Capstan's add-ons (docs/upgrades.md, "What a cluster runs"):
 * every Deployment and DaemonSet in every namespace, listed page by page (`limit`/`continue`),
 * their containers' images judged by libs/domain's `detectComponents`. Read only.
 */
export async function scanWorkloads(clients: TenantClients, pageSize = PAGE): Promise<WorkloadScan> {
  const workloads: ScannedWorkload[] = [];
  for (const kind of ['Deployment', 'DaemonSet'] as const) {
    let next: string | undefined;
    do {
      let page: {
        items: { metadata?: { namespace?: string; name?: string }; spec?: { template?: { spec?: V1PodSpec } } }[];
        metadata?: { _continue?: string };
      };
      try {
        page =
          kind === 'Deployment'
            ? await clients.apps.listDeploymentForAllNamespaces({ limit: pageSize, _continue: next })
            : await clients.apps.listDaemonSetForAllNamespaces({ limit: pageSize, _continue: next });
      } catch (error) {
        throw toKubeError(error, `listing ${kind}s in every namespace`);
      }
      for (const item of page.items) {
        const pod = item.spec?.template?.spec;
        const images = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].flatMap((c) => (c.image ? [c.image] : []));
        workloads.push({ kind, namespace: item.metadata?.namespace ?? '', name: item.metadata?.name ?? '', images });
      }
      next = page.metadata?._continue || undefined;
    } while (next);
  }
  return { workloads: workloads.length, components: detectComponents(workloads) };
}
