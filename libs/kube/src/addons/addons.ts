import type { KubernetesObject } from '@kubernetes/client-node';
import { ProviderError } from '@capstan/providers';
import { setTimeout as sleep } from 'node:timers/promises';
import { apply } from '../client/apply';
import { isNotFound, toKubeError } from '../client/kube-errors';
import type { TenantClients } from '../client/tenant-clients';
import { servedGroupVersions } from '../scan/removed-api-scan';
import { CHART_SOURCES, DISTRIBUTION_BUNDLED, type Distribution } from './chart-sources';
import {
  ADDON_LABEL,
  type AddonRequest,
  addonFromHelmChart,
  HELM_CHART_API_VERSION,
  HELM_CHART_NAMESPACE,
  helmChartFor,
  helmChartName,
  type InstalledAddon,
} from './helm-charts';
import { helmControllerManifests } from './helm-controller';

export interface AddonInstallResult {
  /** HelmCharts applied (created or brought back to the requested version). */
  applied: string[];
  /** Add-ons the distribution runs itself (see DISTRIBUTION_BUNDLED). */
  bundled: string[];
  /** Whether Capstan had to deploy helm-controller first. */
  deployedHelmController: boolean;
}

/**
 * Applies one HelmChart per managed add-on (server-side apply, so repeating it changes nothing),
 * after making sure something serves helm.cattle.io/v1: RKE2 bundles helm-controller; elsewhere
 * Capstan deploys it. Unknown add-on names are refused before anything is written.
 */
export async function installAddons(clients: TenantClients, addons: readonly AddonRequest[], distribution: Distribution): Promise<AddonInstallResult> {
  const unknown = addons.filter((a) => !CHART_SOURCES[a.name]).map((a) => a.name);
  if (unknown.length > 0) throw new ProviderError(`Capstan has no chart for add-on ${unknown.join(', ')}`, false, 'addon_unknown');
  const bundled = addons.filter((a) => DISTRIBUTION_BUNDLED[distribution].includes(a.name)).map((a) => a.name);
  const deployedHelmController = await ensureHelmController(clients, distribution);
  const applied: string[] = [];
  for (const addon of addons) {
    if (bundled.includes(addon.name)) continue;
    await apply(clients, helmChartFor(addon));
    applied.push(addon.name);
  }
  return { applied, bundled, deployedHelmController };
}

/** The add-ons Capstan applied, with helm-controller's view of each, and the distribution's own. */
export async function listAddons(clients: TenantClients, distribution: Distribution): Promise<InstalledAddon[]> {
  const bundled: InstalledAddon[] = DISTRIBUTION_BUNDLED[distribution].map((name) => ({ name, version: '', state: 'installed', managedBy: 'distribution' }));
  if (!(await servesHelmCharts(clients))) return bundled;
  let charts: KubernetesObject[];
  try {
    const list = await clients.objects.list(HELM_CHART_API_VERSION, 'HelmChart', HELM_CHART_NAMESPACE, undefined, undefined, undefined, undefined, ADDON_LABEL);
    charts = list.items;
  } catch (error) {
    throw toKubeError(error, 'listing the add-ons');
  }
  const installed: InstalledAddon[] = [];
  for (const chart of charts) {
    const body = chart as Parameters<typeof addonFromHelmChart>[0];
    const addon = addonFromHelmChart(body);
    if (!addon) continue;
    const installedVersion = await releaseVersion(clients, chart.metadata?.name ?? '', body.spec?.chart ?? '', body.spec?.targetNamespace ?? '');
    installed.push(
      addon.state === 'installing' && addon.jobName
        ? { ...addon, installedVersion, state: await jobState(clients, addon.jobName) }
        : { ...addon, installedVersion },
    );
  }
  installed.sort((a, b) => a.name.localeCompare(b.name));
  return [...bundled, ...installed];
}

/**
 * Removes an add-on Capstan installed: deleting its HelmChart makes helm-controller uninstall the
 * release (its `helm-delete` job). Absent is fine, so a repeated removal changes nothing.
 */
export async function removeAddon(clients: TenantClients, name: string): Promise<{ removed: boolean }> {
  if (!(await servesHelmCharts(clients))) return { removed: false };
  try {
    await clients.objects.delete({
      apiVersion: HELM_CHART_API_VERSION,
      kind: 'HelmChart',
      metadata: { name: helmChartName(name), namespace: HELM_CHART_NAMESPACE },
    });
    return { removed: true };
  } catch (error) {
    if (isNotFound(error)) return { removed: false };
    throw toKubeError(error, `removing add-on ${name}`);
  }
}

/**
 * The chart version a Helm release's own workloads carry: Helm charts label what they install with
 * `app.kubernetes.io/instance: <release>` and `helm.sh/chart: <chart>-<version>` (Helm's chart best
 * practices, "Labels and Annotations"). Null while nothing of the release runs.
 */
async function releaseVersion(clients: TenantClients, release: string, chart: string, namespace: string): Promise<string | null> {
  if (!release || !chart || !namespace) return null;
  const selector = `app.kubernetes.io/instance=${release}`;
  for (const kind of ['Deployment', 'DaemonSet', 'StatefulSet']) {
    let items: KubernetesObject[];
    try {
      items = (await clients.objects.list('apps/v1', kind, namespace, undefined, undefined, undefined, undefined, selector)).items;
    } catch (error) {
      if (isNotFound(error)) continue;
      throw toKubeError(error, `reading the workloads of add-on release ${release}`);
    }
    for (const item of items) {
      const label = item.metadata?.labels?.['helm.sh/chart'];
      if (label?.startsWith(`${chart}-`)) return label.slice(chart.length + 1);
    }
  }
  return null;
}

async function servesHelmCharts(clients: TenantClients): Promise<boolean> {
  return (await servedGroupVersions(clients)).includes(HELM_CHART_API_VERSION);
}

/** Deploys helm-controller where the cluster does not serve HelmCharts yet; true when it did. */
async function ensureHelmController(clients: TenantClients, distribution: Distribution): Promise<boolean> {
  if (await servesHelmCharts(clients)) return false;
  if (distribution === 'rke2')
    throw new ProviderError('this RKE2 cluster does not serve helm.cattle.io/v1: its bundled helm-controller is disabled', false, 'addon_no_helm_controller');
  for (const manifest of helmControllerManifests()) await apply(clients, manifest);
  // A new CRD is served once the API server has established it, which takes a moment.
  const deadline = Date.now() + CRD_ESTABLISHED_TIMEOUT_MS;
  while (!(await servesHelmCharts(clients))) {
    if (Date.now() > deadline)
      throw new ProviderError('the HelmChart CRD was applied but the cluster does not serve helm.cattle.io/v1 yet', true, 'addon_crd_pending');
    await sleep(250);
  }
  return true;
}

const CRD_ESTABLISHED_TIMEOUT_MS = 30_000;

/** helm-controller's install job: done when it succeeded, failed when its retries ran out, else still running. */
async function jobState(clients: TenantClients, jobName: string): Promise<InstalledAddon['state']> {
  try {
    const job = (await clients.objects.read({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: jobName, namespace: HELM_CHART_NAMESPACE } })) as {
      status?: { succeeded?: number; conditions?: { type?: string; status?: string }[] };
    };
    if ((job.status?.succeeded ?? 0) > 0) return 'installed';
    if ((job.status?.conditions ?? []).some((c) => c.type === 'Failed' && c.status === 'True')) return 'failed';
    return 'installing';
  } catch (error) {
    // helm-controller deletes finished jobs of old generations; the chart's status decides then.
    if (isNotFound(error)) return 'installing';
    throw toKubeError(error, `reading helm-controller job ${jobName}`);
  }
}
