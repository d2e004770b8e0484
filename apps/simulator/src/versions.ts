import { invalid } from './errors';

/**
 * Kubernetes versions as the simulated cloud understands them. The rules are Kubernetes' own
 * version-skew policy (https://kubernetes.io/releases/version-skew-policy/): the control plane
 * moves one minor at a time, kubelets are never newer than the API server and at most three
 * minors older.
 */
export interface KubernetesVersion {
  major: number;
  minor: number;
  patch: number;
}

export const MAX_KUBELET_SKEW = 3;

export function parseVersion(text: string): KubernetesVersion {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!match) throw invalid(`"${text}" is not a Kubernetes version like 1.35.4`);
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

export function compareVersions(a: KubernetesVersion, b: KubernetesVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatVersion(v: KubernetesVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** Why a control-plane upgrade from `current` to `target` is refused, or null when it is allowed. */
export function controlPlaneUpgradeRefusal(current: KubernetesVersion, target: KubernetesVersion): string | null {
  const from = formatVersion(current);
  const to = formatVersion(target);
  if (target.major !== current.major) return `cannot upgrade the control plane across major versions (${from} -> ${to})`;
  if (compareVersions(target, current) < 0) return `control-plane downgrades are not supported (${from} -> ${to})`;
  if (target.minor > current.minor + 1) {
    return `control-plane upgrades move one minor version at a time: ${from} -> ${to} skips ${current.major}.${current.minor + 1}`;
  }
  return null;
}

/** Why a kubelet at `node` cannot run under a control plane at `controlPlane`, or null. */
export function kubeletSkewRefusal(node: KubernetesVersion, controlPlane: KubernetesVersion): string | null {
  if (compareVersions(node, controlPlane) > 0) {
    return `nodes cannot be newer than the control plane (${formatVersion(node)} > ${formatVersion(controlPlane)})`;
  }
  if (node.major !== controlPlane.major || controlPlane.minor - node.minor > MAX_KUBELET_SKEW) {
    return `nodes at ${formatVersion(node)} would be more than ${MAX_KUBELET_SKEW} minor versions behind the control plane (${formatVersion(controlPlane)})`;
  }
  return null;
}
