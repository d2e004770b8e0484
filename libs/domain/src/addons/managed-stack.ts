import { parseMinor } from '../catalogue/kubernetes-versions';

/**
 * The managed stack every cluster gets, with the version of each add-on that goes with a
 * Kubernetes minor. Sources: RKE2 1.33-1.36 release notes (etcd 3.6.14, CoreDNS 1.14.6,
 * Cilium 1.19.6); kubeadm's CoreDNS 1.11.3 for 1.31-1.32; Cilium 1.19 is tested on 1.32-1.35.
 * ingress-nginx is retired (no releases after March 2026): new clusters get HAProxy ingress.
 * Kept as data: a new minor means a new row, not new logic.
 */
export interface AddonRelease {
  name: string;
  version: string;
  /** Inclusive range of Kubernetes minors this version is installed on. */
  minMinor: number;
  maxMinor: number;
}

export const MANAGED_ADDONS: readonly AddonRelease[] = Object.freeze([
  { name: 'cilium', version: '1.18.4', minMinor: 31, maxMinor: 31 },
  { name: 'cilium', version: '1.19.6', minMinor: 32, maxMinor: 36 },
  { name: 'coredns', version: '1.11.3', minMinor: 31, maxMinor: 32 },
  { name: 'coredns', version: '1.14.6', minMinor: 33, maxMinor: 36 },
  { name: 'haproxy-ingress', version: '3.2.1', minMinor: 31, maxMinor: 36 },
  { name: 'cert-manager', version: '1.19.1', minMinor: 31, maxMinor: 36 },
  { name: 'kube-prometheus-stack', version: '79.4.0', minMinor: 31, maxMinor: 36 },
  { name: 'loki', version: '6.46.0', minMinor: 31, maxMinor: 36 },
  { name: 'argo-cd', version: '3.2.0', minMinor: 31, maxMinor: 36 },
  { name: 'external-secrets', version: '1.1.0', minMinor: 31, maxMinor: 36 },
  { name: 'keda', version: '2.18.1', minMinor: 31, maxMinor: 36 },
  { name: 'velero', version: '1.17.1', minMinor: 31, maxMinor: 36 },
]);

/** The add-ons (one version each) for a cluster on `version`. */
export function managedAddonsFor(version: string): { name: string; version: string }[] {
  const { major, minor } = parseMinor(version);
  if (major !== 1) return [];
  return MANAGED_ADDONS.filter((a) => minor >= a.minMinor && minor <= a.maxMinor).map(({ name, version: v }) => ({ name, version: v }));
}
