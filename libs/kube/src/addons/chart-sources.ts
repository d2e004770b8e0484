import { ADDON_CATALOGUE_SEED, addonNames } from '@capstan/domain';

/**
 * Where each managed add-on's Helm chart comes from, and the namespace it runs in: read from the
 * add-on catalogue (docs/addons.md, "The catalogue"), the one source of truth. A request that
 * names its chart (the add-on operations pass the catalogue row they were given) wins over this.
 */
export interface ChartSource {
  repo: string;
  chart: string;
  targetNamespace: string;
}

export const CHART_SOURCES: Readonly<Record<string, ChartSource>> = Object.freeze(
  Object.fromEntries(addonNames(ADDON_CATALOGUE_SEED.releases).map((r) => [r.name, { repo: r.chartRepo, chart: r.chart, targetNamespace: r.namespace }])),
);

export type Distribution = 'rke2' | 'gke' | 'kubernetes';

/**
 * Add-ons the distribution itself runs and upgrades with the cluster: RKE2 ships Cilium and CoreDNS
 * as its own `rke2-cilium`/`rke2-coredns` charts; GKE runs Dataplane V2 (Cilium), kube-dns and the
 * Compute Engine persistent disk CSI driver. A second copy from Capstan would fight them, so
 * Capstan leaves these to the distribution.
 */
export const DISTRIBUTION_BUNDLED: Readonly<Record<Distribution, readonly string[]>> = Object.freeze({
  rke2: ['cilium', 'coredns'],
  gke: ['cilium', 'coredns', 'csi-driver'],
  kubernetes: [],
});

/** `v1.36.4+rke2r1` -> rke2, `v1.36.2-gke.1100` -> gke, anything else -> kubernetes. */
export function distributionOf(gitVersion: string): Distribution {
  if (/\+rke2r\d+$/.test(gitVersion)) return 'rke2';
  if (/-gke\.\d+$/.test(gitVersion)) return 'gke';
  return 'kubernetes';
}
