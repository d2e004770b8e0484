import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { isPodActive, refOf, replacing, sameJson } from './model';
import { listOptions, racing, reconcileScope } from './runtime';
import { KUBE_CONTROLLER_MANAGER } from './field-managers';

/**
 * The resource quota controller's bookkeeping (not its admission: nothing is refused): each
 * ResourceQuota's `status.hard` mirrors `spec.hard` and `status.used` counts what its namespace
 * holds, so `kubectl get quota` and `describe quota` show `pods: 2/10` as upstream. Counted: object
 * counts (`pods`, `services`, `configmaps`, `secrets`, `persistentvolumeclaims`, `resourcequotas`,
 * `services.loadbalancers`, `services.nodeports`, `count/<resource>[.<group>]` for the kinds in
 * COUNTED), the active pods' container `requests.cpu|memory` (also as bare `cpu`/`memory`) and
 * `limits.cpu|memory`, and claims' `requests.storage`; anything else is used "0". Scope selectors
 * and `scopes` are ignored.
 *
 * Cost: events of counted kinds are looked at only in namespaces known to hold a quota (learnt from
 * ResourceQuota events and from the sweeps every workload step does), so clusters without quotas
 * pay one list per sweep.
 */
export const resourceQuotaController: EmulatedController = {
  name: 'workload/resource-quotas',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const scope = reconcileScope(server, context, ['ResourceQuota', ...WATCHED], 'workload/resource-quotas');
    if (!scope) return;
    const known = quotaNamespaces.get(server.name) ?? new Set<string>();
    quotaNamespaces.set(server.name, known);
    const { event } = context;
    // An event of a counted kind matters only where a quota is known; sweeps (ticks) relearn them all.
    if (event && event.object.kind !== 'ResourceQuota' && !known.has(scope.namespace ?? '')) return;
    const quotas = await server.list('v1', 'ResourceQuota', listOptions(scope));
    if (!scope.namespace) known.clear();
    else known.delete(scope.namespace);
    const byNamespace = new Map<string, KubeObject[]>();
    for (const quota of quotas) byNamespace.set(quota.metadata.namespace!, [...(byNamespace.get(quota.metadata.namespace!) ?? []), quota]);
    for (const [namespace, inNamespace] of byNamespace) {
      known.add(namespace);
      const hardKeys = new Set(inNamespace.flatMap((q) => Object.keys((q.spec?.['hard'] as Record<string, string> | undefined) ?? {})));
      const used = await usage(server, namespace, hardKeys);
      for (const quota of inNamespace) {
        if (quota.metadata.deletionTimestamp) continue;
        const hard = (quota.spec?.['hard'] as Record<string, string> | undefined) ?? {};
        const status = { hard, used: Object.fromEntries(Object.keys(hard).map((key) => [key, used.get(key) ?? '0'])) };
        if (!sameJson(quota.status ?? {}, status)) {
          await racing(() =>
            server.mergePatch(refOf(quota), { status: replacing(quota.status, status) }, { ...KUBE_CONTROLLER_MANAGER, subresource: 'status' }),
          );
        }
      }
    }
  },
};

/** Servers -> namespaces that held a ResourceQuota when this process last looked. */
const quotaNamespaces = new Map<string, Set<string>>();

/** `count/<resource>[.<group>]` (and the legacy bare names) -> the kind counted. */
const COUNTED: Record<string, { apiVersion: string; kind: string }> = {
  pods: { apiVersion: 'v1', kind: 'Pod' },
  services: { apiVersion: 'v1', kind: 'Service' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
  secrets: { apiVersion: 'v1', kind: 'Secret' },
  persistentvolumeclaims: { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  resourcequotas: { apiVersion: 'v1', kind: 'ResourceQuota' },
  'deployments.apps': { apiVersion: 'apps/v1', kind: 'Deployment' },
  'replicasets.apps': { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  'statefulsets.apps': { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  'daemonsets.apps': { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  'jobs.batch': { apiVersion: 'batch/v1', kind: 'Job' },
  'cronjobs.batch': { apiVersion: 'batch/v1', kind: 'CronJob' },
  'ingresses.networking.k8s.io': { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
};

const WATCHED = new Set(Object.values(COUNTED).map((c) => c.kind));

async function usage(server: ApiServerClient, namespace: string, keys: Set<string>): Promise<Map<string, string>> {
  const lists = new Map<string, Promise<KubeObject[]>>();
  const list = (apiVersion: string, kind: string) => {
    let found = lists.get(kind);
    if (!found) lists.set(kind, (found = server.list(apiVersion, kind, { namespace })));
    return found;
  };
  const used = new Map<string, string>();
  for (const key of keys) {
    const counted = COUNTED[key.startsWith('count/') ? key.slice('count/'.length) : key];
    if (counted) {
      const objects = await list(counted.apiVersion, counted.kind);
      used.set(key, String(counted.kind === 'Pod' ? objects.filter(isPodActive).length : objects.length));
      continue;
    }
    if (key === 'services.loadbalancers' || key === 'services.nodeports') {
      const services = await list('v1', 'Service');
      const type = (s: KubeObject) => s.spec?.['type'] as string | undefined;
      const nodePorts = (s: KubeObject) => ((s.spec?.['ports'] as { nodePort?: number }[] | undefined) ?? []).filter((p) => p.nodePort).length;
      used.set(
        key,
        String(key === 'services.loadbalancers' ? services.filter((s) => type(s) === 'LoadBalancer').length : services.reduce((n, s) => n + nodePorts(s), 0)),
      );
      continue;
    }
    const resource = /^(requests\.|limits\.)?(cpu|memory)$/.exec(key);
    if (resource) {
      const field = resource[1] === 'limits.' ? 'limits' : 'requests';
      const pods = (await list('v1', 'Pod')).filter(isPodActive);
      const values = pods.flatMap((pod) =>
        ((pod.spec?.['containers'] as { resources?: Record<string, Record<string, string>> }[] | undefined) ?? []).map(
          (c) => c.resources?.[field]?.[resource[2]!],
        ),
      );
      used.set(key, sumQuantities(values, resource[2] === 'cpu'));
      continue;
    }
    if (key === 'requests.storage') {
      const claims = await list('v1', 'PersistentVolumeClaim');
      used.set(
        key,
        sumQuantities(
          claims.map((c) => (c.spec?.['resources'] as { requests?: { storage?: string } } | undefined)?.requests?.storage),
          false,
        ),
      );
    }
  }
  return used;
}

const SUFFIXES: Record<string, number> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** resource.Quantity strings summed, in the canonical form upstream prints: `1500m`, `2`, `384Mi`, `1G`. */
export function sumQuantities(values: (string | undefined)[], cpu: boolean): string {
  let total = 0;
  let binary = false;
  for (const value of values) {
    const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value ?? '');
    if (!match) continue;
    total += Number(match[1]) * SUFFIXES[match[2] ?? '']!;
    binary ||= Boolean(match[2]?.endsWith('i'));
  }
  if (total === 0) return '0';
  if (cpu) {
    const milli = Math.round(total * 1000);
    return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
  }
  const units: [string, number][] = binary
    ? [
        ['Ti', 1024 ** 4],
        ['Gi', 1024 ** 3],
        ['Mi', 1024 ** 2],
        ['Ki', 1024],
      ]
    : [
        ['T', 1e12],
        ['G', 1e9],
        ['M', 1e6],
        ['k', 1e3],
      ];
  const bytes = Math.round(total);
  for (const [suffix, size] of units) if (bytes % size === 0) return `${bytes / size}${suffix}`;
  return String(bytes);
}
