/**
 * Where each managed add-on's Helm chart comes from, and the namespace it runs in. The versions
 * come from libs/domain (MANAGED_ADDONS) and go into the HelmChart's `spec.version` as they are:
 * the domain table holds chart versions, so an add-on whose chart numbers differ from the
 * application (argo-cd, velero, coredns) must carry the chart's number there.
 */
export interface ChartSource {
  repo: string;
  chart: string;
  targetNamespace: string;
}

export const CHART_SOURCES: Readonly<Record<string, ChartSource>> = Object.freeze({
  cilium: { repo: 'https://helm.cilium.io/', chart: 'cilium', targetNamespace: 'kube-system' },
  coredns: { repo: 'https://coredns.github.io/helm', chart: 'coredns', targetNamespace: 'kube-system' },
  'haproxy-ingress': { repo: 'https://haproxy-ingress.github.io/charts', chart: 'haproxy-ingress', targetNamespace: 'ingress-haproxy' },
  'cert-manager': { repo: 'https://charts.jetstack.io', chart: 'cert-manager', targetNamespace: 'cert-manager' },
  'kube-prometheus-stack': { repo: 'https://prometheus-community.github.io/helm-charts', chart: 'kube-prometheus-stack', targetNamespace: 'monitoring' },
  loki: { repo: 'https://grafana.github.io/helm-charts', chart: 'loki', targetNamespace: 'monitoring' },
  'argo-cd': { repo: 'https://argoproj.github.io/argo-helm', chart: 'argo-cd', targetNamespace: 'argocd' },
  'external-secrets': { repo: 'https://charts.external-secrets.io', chart: 'external-secrets', targetNamespace: 'external-secrets' },
  keda: { repo: 'https://kedacore.github.io/charts', chart: 'keda', targetNamespace: 'keda' },
  velero: { repo: 'https://vmware-tanzu.github.io/helm-charts', chart: 'velero', targetNamespace: 'velero' },
});

export type Distribution = 'rke2' | 'gke' | 'kubernetes';

/**
 * Add-ons the distribution itself runs and upgrades with the cluster: RKE2 ships Cilium and CoreDNS
 * as its own `rke2-cilium`/`rke2-coredns` charts; GKE runs Dataplane V2 (Cilium) and kube-dns. A
 * second copy from Capstan would fight them, so Capstan leaves these to the distribution.
 */
export const DISTRIBUTION_BUNDLED: Readonly<Record<Distribution, readonly string[]>> = Object.freeze({
  rke2: ['cilium', 'coredns'],
  gke: ['cilium', 'coredns'],
  kubernetes: [],
});

/** `v1.36.4+rke2r1` -> rke2, `v1.36.2-gke.1100` -> gke, anything else -> kubernetes. */
export function distributionOf(gitVersion: string): Distribution {
  if (/\+rke2r\d+$/.test(gitVersion)) return 'rke2';
  if (/-gke\.\d+$/.test(gitVersion)) return 'gke';
  return 'kubernetes';
}
