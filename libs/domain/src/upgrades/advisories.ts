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

/** Numeric order of dotted versions ("v1.12.0", "1.11.5-gke.1"): pre-release and build suffixes are ignored. */
export function compareComponentVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .trim()
      .replace(/^v/i, '')
      .split(/[-+]/)[0]!
      .split('.')
      .map((p) => Number.parseInt(p, 10) || 0);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
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
  version: string;
  severity: AdvisorySeverity;
}

/** The advisories a cluster's components fall under. */
export function findingsFor(components: readonly { name: string; version: string }[], advisories: readonly Advisory[]): AdvisoryFinding[] {
  const findings: AdvisoryFinding[] = [];
  for (const a of advisories) {
    for (const c of components) {
      if (c.name === a.component && versionAffected(c.version, a.affected))
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
    // Affected: every release before 1.11.5, and 1.12.0; fixed in 1.11.5 and 1.12.1.
    affected: [{ fixed: '1.11.5' }, { introduced: '1.12.0', fixed: '1.12.1' }],
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
