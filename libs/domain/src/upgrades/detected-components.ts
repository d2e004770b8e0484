/**
 * Components a cluster runs that Capstan did not install, recognised from its workloads' container
 * images, and the components its distribution bundles (docs/upgrades.md, "What a cluster runs").
 * Advisories judge them beside Capstan's add-ons. Pure: the scan that reads the workloads lives in
 * libs/kube.
 */

/** A workload's containers as the cluster's API lists them (init containers included). */
export interface ScannedWorkload {
  kind: 'Deployment' | 'DaemonSet';
  namespace: string;
  name: string;
  images: readonly string[];
}

/** A component found running in a workload; `version` is null when its image names none (a digest only). */
export interface DetectedComponent {
  component: string;
  version: string | null;
  namespace: string;
  workloadKind: ScannedWorkload['kind'];
  workload: string;
  image: string;
}

export interface ImageReference {
  /** Registry host, or null for Docker Hub's default. */
  registry: string | null;
  /** The path in the registry, e.g. `ingress-nginx/controller`. */
  repository: string;
  tag: string | null;
  digest: string | null;
}

/**
 * Splits an image reference as the container runtimes read it (distribution/reference grammar):
 * `[registry/]path[:tag][@digest]`; the first path part is a registry when it has a `.` or a `:`
 * or is `localhost`.
 */
export function parseImageReference(image: string): ImageReference {
  const trimmed = image.trim();
  const at = trimmed.indexOf('@');
  const digest = at < 0 ? null : trimmed.slice(at + 1);
  const named = at < 0 ? trimmed : trimmed.slice(0, at);
  const lastSlash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  // A colon before the last slash is a registry's port, not a tag.
  const tag = colon > lastSlash ? named.slice(colon + 1) : null;
  const name = colon > lastSlash ? named.slice(0, colon) : named;
  const parts = name.split('/');
  const first = parts[0]!;
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return {
    registry: hasRegistry ? first : null,
    repository: (hasRegistry ? parts.slice(1) : parts).join('/'),
    tag: tag === '' ? null : tag,
    digest: digest === '' ? null : digest,
  };
}

/**
 * The image repositories of the ingress-nginx controller (kubernetes/ingress-nginx), whatever the
 * registry or mirror: the project's `registry.k8s.io/ingress-nginx/controller` (and before it
 * `k8s.gcr.io`; `-chroot` is its chrooted variant), the pre-1.0 `kubernetes-ingress-controller/nginx-ingress-controller`,
 * and RKE2's hardened build `rancher/nginx-ingress-controller` (its `rke2-ingress-nginx` chart).
 * F5's NGINX Ingress Controller (`nginx/nginx-ingress`) is another product and is not matched.
 */
const INGRESS_NGINX_REPOSITORIES = [
  /(^|\/)ingress-nginx\/controller(-chroot)?$/,
  /(^|\/)kubernetes-ingress-controller\/nginx-ingress-controller$/,
  /^rancher\/nginx-ingress-controller$/,
];

/**
 * The ingress-nginx controller version an image tag names, or null when it names none. Tags seen:
 * `v1.11.3`, `controller-v1.12.1`, RKE2's `nginx-1.10.1-hardened1` and `v1.12.4-hardened2`, and
 * pre-releases `v1.12.0-beta.0`. Only `alpha`, `beta` and `rc` suffixes are pre-releases (they order
 * before the release); a build suffix such as `-hardened1` is dropped, so RKE2's build of 1.11.5 is 1.11.5.
 */
export function ingressNginxTagVersion(tag: string): string | null {
  const m = /^(?:[A-Za-z]+-)?v?(\d+\.\d+\.\d+)(?:-((?:alpha|beta|rc)(?:[.\d]*)?))?(?:[-+].*)?$/i.exec(tag.trim());
  if (!m) return null;
  return m[2] ? `${m[1]}-${m[2].toLowerCase()}` : m[1]!;
}

/** Whether an image is an ingress-nginx controller, and the version its tag names (null: digest only or no version tag). */
export function recogniseIngressNginx(image: string): { version: string | null } | null {
  const ref = parseImageReference(image);
  const repository = ref.repository.replace(/^library\//, '');
  if (!INGRESS_NGINX_REPOSITORIES.some((r) => r.test(repository))) return null;
  return { version: ref.tag === null ? null : ingressNginxTagVersion(ref.tag) };
}

/** The components recognised in a cluster's workloads: one per workload and component (its first recognised image). */
export function detectComponents(workloads: readonly ScannedWorkload[]): DetectedComponent[] {
  const found: DetectedComponent[] = [];
  for (const w of workloads) {
    for (const image of w.images) {
      const nginx = recogniseIngressNginx(image);
      if (!nginx) continue;
      found.push({ component: 'ingress-nginx', version: nginx.version, namespace: w.namespace, workloadKind: w.kind, workload: w.name, image });
      break;
    }
  }
  return found.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.workload.localeCompare(b.workload) || a.workloadKind.localeCompare(b.workloadKind));
}

/** A component a distribution runs itself, per Kubernetes minor, with the source of the claim. */
export interface BundledComponent {
  provider: 'rke2' | 'gke';
  component: string;
  version: string;
  /** Inclusive range of Kubernetes minors whose builds bundle it. */
  minors: { from: string; to: string };
  source: string;
}

/**
 * What the distribution bundles beyond the add-on catalogue (which already holds its CoreDNS and
 * Cilium). GKE's etcd is Google's and not visible to anyone, so it is not listed.
 */
export const BUNDLED_COMPONENTS: readonly BundledComponent[] = Object.freeze([
  {
    provider: 'rke2',
    component: 'etcd',
    version: '3.6.14',
    minors: { from: '1.33', to: '1.36' },
    source: 'docs.rke2.io/release-notes (v1.33 to v1.36: etcd v3.6.14)',
  },
]);

function minorNumber(version: string): number {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) * 1000 + Number(m[2]) : Number.NaN;
}

/** The bundled components of a cluster of `provider` at `version` (a minor or a patch). */
export function bundledComponentsFor(
  provider: string,
  version: string,
  table: readonly BundledComponent[] = BUNDLED_COMPONENTS,
): { name: string; version: string }[] {
  const minor = minorNumber(version);
  return table
    .filter((b) => b.provider === provider && minor >= minorNumber(b.minors.from) && minor <= minorNumber(b.minors.to))
    .map((b) => ({ name: b.component, version: b.version }));
}
