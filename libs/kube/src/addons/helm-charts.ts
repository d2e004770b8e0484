import { type Manifest, MANAGED_BY } from '../client/apply';
import { CHART_SOURCES } from './chart-sources';

export const HELM_CHART_API_VERSION = 'helm.cattle.io/v1';
/** HelmCharts live where helm-controller watches by default on RKE2 (and where Capstan deploys it on GKE). */
export const HELM_CHART_NAMESPACE = 'kube-system';
export const ADDON_LABEL = 'capstan.io/addon';

export interface AddonRequest {
  name: string;
  version: string;
  /** The catalogue row's chart; without it, the seed's (CHART_SOURCES). */
  chartRepo?: string;
  chart?: string;
  namespace?: string;
  /** Helm values from the customer's validated settings (HelmChart `spec.set`). */
  values?: Record<string, string | number | boolean>;
}

/** The HelmChart's name for an add-on: also its Helm release name, which its objects carry. */
export const helmChartName = (addon: string) => `capstan-${addon}`;

/** The HelmChart for one managed add-on, or an error for an add-on Capstan has no chart for. */
export function helmChartFor(addon: AddonRequest): Manifest {
  const seeded = CHART_SOURCES[addon.name];
  const source = addon.chartRepo && addon.chart && addon.namespace ? { repo: addon.chartRepo, chart: addon.chart, targetNamespace: addon.namespace } : seeded;
  if (!source) throw new Error(`no chart source for add-on ${addon.name}`);
  const values = addon.values && Object.keys(addon.values).length > 0 ? { set: addon.values } : {};
  return {
    apiVersion: HELM_CHART_API_VERSION,
    kind: 'HelmChart',
    metadata: {
      name: helmChartName(addon.name),
      namespace: HELM_CHART_NAMESPACE,
      labels: { ...MANAGED_BY, [ADDON_LABEL]: addon.name },
    },
    spec: {
      repo: source.repo,
      chart: source.chart,
      version: addon.version,
      targetNamespace: source.targetNamespace,
      createNamespace: true,
      ...values,
    },
  };
}

export type AddonState = 'pending' | 'installing' | 'installed' | 'failed';

export interface InstalledAddon {
  name: string;
  version: string;
  /**
   * How helm-controller reports it: no job yet (pending), its install job (`status.jobName`) running
   * or done, or a Failed condition.
   */
  state: AddonState;
  message?: string;
  /** `capstan` for HelmCharts Capstan applied, `distribution` for the ones RKE2/GKE run themselves. */
  managedBy: 'capstan' | 'distribution';
  /** The helm-controller job that installs it, to read its outcome. */
  jobName?: string;
  /**
   * The chart version the release's own workloads carry (`helm.sh/chart: <chart>-<version>`), read
   * from the cluster; null until helm-controller has installed them.
   */
  installedVersion?: string | null;
}

interface HelmChartBody {
  metadata?: { labels?: Record<string, string> };
  spec?: { version?: string; chart?: string; targetNamespace?: string };
  status?: { jobName?: string; conditions?: { type?: string; status?: string; message?: string; reason?: string }[] };
}

/** Reads one HelmChart Capstan applied; null when it is not one (no add-on label). */
export function addonFromHelmChart(object: HelmChartBody): InstalledAddon | null {
  const name = object.metadata?.labels?.[ADDON_LABEL];
  if (!name) return null;
  const failed = (object.status?.conditions ?? []).find((c) => c.type === 'Failed' && c.status === 'True');
  const state: AddonState = failed ? 'failed' : object.status?.jobName ? 'installing' : 'pending';
  const message = failed?.message ?? failed?.reason;
  const jobName = object.status?.jobName;
  return { name, version: object.spec?.version ?? '', state, ...(message ? { message } : {}), managedBy: 'capstan', ...(jobName ? { jobName } : {}) };
}
