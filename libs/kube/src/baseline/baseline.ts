import type { KubernetesObject } from '@kubernetes/client-node';
import { CHART_SOURCES } from '../addons/chart-sources';
import { apply } from '../client/apply';
import { toKubeError } from '../client/kube-errors';
import type { TenantClients } from '../client/tenant-clients';
import { baselineManifests, CAPSTAN_NAMESPACE, customerNamespacePolicies, isCustomerNamespace } from './baseline-objects';

export interface BaselineResult {
  /** `Kind name` of every object applied, in order. */
  applied: string[];
  /**
   * ServiceAccounts of customer namespaces bound to `cluster-admin` by a ClusterRoleBinding
   * (`namespace/name via binding`): the baseline allows none; Capstan reports them rather than
   * deleting a customer's binding (docs/addons.md, "Security baseline").
   */
  clusterAdminServiceAccounts: string[];
}

/**
 * Applies the baseline (see baseline-objects.ts) with server-side apply: repeating it changes
 * nothing. Customer namespaces present now get the default-deny policies; namespaces created later
 * get them on the next run (every add-on change and cluster creation runs it).
 */
export async function applyBaseline(clients: TenantClients): Promise<BaselineResult> {
  const applied: string[] = [];
  const addonNamespaces = Object.values(CHART_SOURCES).map((s) => s.targetNamespace);
  const manifests = [...baselineManifests()];
  for (const ns of await listObjects(clients, 'v1', 'Namespace')) {
    const name = ns.metadata?.name ?? '';
    if (ns.metadata?.deletionTimestamp || !isCustomerNamespace(name, ns.metadata?.labels ?? {}, addonNamespaces)) continue;
    manifests.push(...customerNamespacePolicies(name));
  }
  for (const manifest of manifests) {
    await apply(clients, manifest);
    applied.push(`${manifest.kind} ${manifest.metadata.namespace ? `${manifest.metadata.namespace}/` : ''}${manifest.metadata.name}`);
  }
  return { applied, clusterAdminServiceAccounts: await clusterAdminServiceAccounts(clients) };
}

async function clusterAdminServiceAccounts(clients: TenantClients): Promise<string[]> {
  const found: string[] = [];
  for (const binding of await listObjects(clients, 'rbac.authorization.k8s.io/v1', 'ClusterRoleBinding')) {
    const body = binding as KubernetesObject & { roleRef?: { name?: string }; subjects?: { kind?: string; name?: string; namespace?: string }[] };
    if (body.roleRef?.name !== 'cluster-admin') continue;
    for (const subject of body.subjects ?? []) {
      if (subject.kind !== 'ServiceAccount' || !subject.namespace || subject.namespace === CAPSTAN_NAMESPACE || subject.namespace === 'kube-system') continue;
      found.push(`${subject.namespace}/${subject.name} via ${body.metadata?.name}`);
    }
  }
  return found.sort();
}

async function listObjects(clients: TenantClients, apiVersion: string, kind: string): Promise<KubernetesObject[]> {
  try {
    return (await clients.objects.list(apiVersion, kind)).items;
  } catch (error) {
    throw toKubeError(error, `listing ${kind}s for the baseline`);
  }
}
