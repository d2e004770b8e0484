/**
 * Advisories: component versions with a known vulnerability, or components that are retired
 * (docs/upgrades.md, "Advisories"). Kept as data with their sources; which clusters they affect
 * is computed from the versions each cluster runs. Pure.
 */

export type AdvisorySeverity = 'critical' | 'high' | 'medium' | 'low';
export type AdvisoryKind = 'vulnerability' | 'retirement';

/** Affected when `introduced <= version < fixed` (either bound may be absent). */
export interface AffectedRange {
  introduced?: string;
  fixed?: string;
}

export interface Advisory {
  id: string;
  kind: AdvisoryKind;
  component: string;
  title: string;
  severity: AdvisorySeverity;
  /** CVSS v3.1 base score, when one was published. */
  cvss: number | null;
  affected: readonly AffectedRange[];
  /** Versions that fix it (empty for a retirement: the remedy is a migration). */
  fixedIn: readonly string[];
  remedy: string;
  publishedOn: string;
  sources: readonly string[];
}

/**
 * Order of component versions as releases and image tags spell them ("v1.12.0", "1.12.1-rc.1",
 * "controller-v1.12.1", "1.35.4-gke.1200"), by semver precedence (semver.org, section 11): numbers first; a pre-release
 * sorts before its release (1.12.1-rc.1 < 1.12.1: a candidate of the fix is not the fix); build
 * metadata after "+" does not order. GKE's "-gke.N" is not a pre-release but GKE's build N of a
 * released patch (cloud.google.com/kubernetes-engine/versioning), ordered after that patch by N.
 */
export function compareComponentVersions(a: string, b: string): number {
  const x = componentVersion(a);
  const y = componentVersion(b);
  for (let i = 0; i < Math.max(x.numbers.length, y.numbers.length); i++) {
    const d = (x.numbers[i] ?? 0) - (y.numbers[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.preRelease === null || y.preRelease === null) {
    if (x.preRelease !== y.preRelease) return x.preRelease === null ? 1 : -1;
  } else {
    const d = comparePreReleases(x.preRelease, y.preRelease);
    if (d !== 0) return d;
  }
  return x.gkeBuild - y.gkeBuild;
}

function componentVersion(v: string): { numbers: number[]; preRelease: string[] | null; gkeBuild: number } {
  // "v1.12.1", and ingress-nginx's release tags "controller-v1.12.1": the version starts at its first digit
  const withoutBuild = v
    .trim()
    .replace(/^[A-Za-z]+-(?=v?\d)/, '')
    .replace(/^v/i, '')
    .split('+')[0]!;
  const dash = withoutBuild.indexOf('-');
  const core = dash < 0 ? withoutBuild : withoutBuild.slice(0, dash);
  const suffix = dash < 0 ? null : withoutBuild.slice(dash + 1);
  const numbers = core.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const gke = suffix === null ? null : /^gke\.(\d+)$/.exec(suffix);
  if (gke) return { numbers, preRelease: null, gkeBuild: Number(gke[1]) };
  return { numbers, preRelease: suffix === null ? null : suffix.split('.'), gkeBuild: 0 };
}

/** semver.org 11.4: identifier by identifier; numeric ones numerically and before alphanumeric ones; a longer set wins a tie. */
function comparePreReleases(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const p = a[i]!;
    const q = b[i]!;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) {
      if (Number(p) !== Number(q)) return Number(p) - Number(q);
    } else if (pn !== qn) return pn ? -1 : 1;
    else if (p !== q) return p < q ? -1 : 1;
  }
  return a.length - b.length;
}

export function versionAffected(version: string, ranges: readonly AffectedRange[]): boolean {
  return ranges.some(
    (r) =>
      (r.introduced === undefined || compareComponentVersions(version, r.introduced) >= 0) &&
      (r.fixed === undefined || compareComponentVersions(version, r.fixed) < 0),
  );
}

export interface AdvisoryFinding {
  advisoryId: string;
  component: string;
  /** Null when the component was found without a version (an image pinned by digest only). */
  version: string | null;
  severity: AdvisorySeverity;
}

/**
 * Whether a component of unknown version falls under the ranges: only a range that covers every
 * version (a retirement) can say so; a vulnerability's bounded ranges cannot be judged without one.
 */
function unknownVersionAffected(ranges: readonly AffectedRange[]): boolean {
  return ranges.some((r) => r.introduced === undefined && r.fixed === undefined);
}

/** The advisories a cluster's components fall under (a null version: see unknownVersionAffected). */
export function findingsFor(components: readonly { name: string; version: string | null }[], advisories: readonly Advisory[]): AdvisoryFinding[] {
  const findings: AdvisoryFinding[] = [];
  for (const a of advisories) {
    for (const c of components) {
      if (c.name === a.component && (c.version === null ? unknownVersionAffected(a.affected) : versionAffected(c.version, a.affected)))
        findings.push({ advisoryId: a.id, component: c.name, version: c.version, severity: a.severity });
    }
  }
  return findings;
}

/**
 * The seed: what Capstan knows on the day it ships, each with its public sources. Staff add rows
 * in the `advisories` table; the seeder brings these rows up to date on every start.
 */
export const SEEDED_ADVISORIES: readonly Advisory[] = Object.freeze([
  {
    id: 'CVE-2025-1974',
    kind: 'vulnerability',
    component: 'ingress-nginx',
    title: 'IngressNightmare: unauthenticated remote code execution through the ingress-nginx admission controller',
    severity: 'critical',
    cvss: 9.8,
    // Affected: every release before 1.11.5, and 1.12.0 with its pre-releases (GHSA-mgvx-rpfc-9mpv:
    // ">= 1.12.0-beta.0, < 1.12.1"); fixed in 1.11.5 and 1.12.1.
    affected: [{ fixed: '1.11.5' }, { introduced: '1.12.0-beta.0', fixed: '1.12.1' }],
    fixedIn: ['1.11.5', '1.12.1'],
    remedy: 'upgrade ingress-nginx to 1.11.5 or 1.12.1 or later, or better migrate to the HAProxy ingress controller (ingress-nginx is retired)',
    publishedOn: '2025-03-24',
    sources: [
      'https://kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974/',
      'https://github.com/kubernetes/kubernetes/issues/131009',
      'https://github.com/advisories/GHSA-mgvx-rpfc-9mpv',
    ],
  },
  {
    id: 'RETIRED-ingress-nginx',
    kind: 'retirement',
    component: 'ingress-nginx',
    title: 'ingress-nginx is retired: best-effort maintenance ended in March 2026, no further releases or security fixes',
    severity: 'high',
    cvss: null,
    affected: [{}],
    fixedIn: [],
    remedy: 'migrate the cluster’s Ingress objects to the HAProxy ingress controller that Capstan installs on new clusters (or to Gateway API)',
    publishedOn: '2025-11-11',
    sources: ['https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/'],
  },
] satisfies Advisory[]);
