/**
 * The managed add-on catalogue: which add-ons Capstan runs, in which tier, and which chart version
 * of each goes with a Kubernetes minor, with the public source of every compatibility claim.
 *
 * Versions change every few weeks, so they are data (docs/addons.md, "The catalogue"):
 * `addon-catalogue.seed.json` is the versioned seed; the `addon_releases` table, which staff edit
 * through `/admin/v1/addon-versions`, is what a running Capstan reads. This module holds only the
 * rules, and every function takes the releases it works on, so the planner, the create step and
 * the add-on routes all read the one catalogue they are given.
 */
import { UnprocessableError } from '../errors/domain-error';
import { parseMinor } from '../catalogue/kubernetes-versions';
import rawSeed from './addon-catalogue.seed.json';

/**
 * - `always_on`: part of every cluster (CNI, DNS, storage); cannot be removed;
 * - `default`: installed on new clusters, removable;
 * - `optional`: installed when the customer enables it.
 */
export type AddonTier = 'always_on' | 'default' | 'optional';
export const ADDON_TIERS: readonly AddonTier[] = ['always_on', 'default', 'optional'];

/** One chart version of one add-on, and the minors it is qualified for (a catalogue row). */
export interface AddonRelease {
  name: string;
  title: string;
  tier: AddonTier;
  chartRepo: string;
  chart: string;
  /** Where the chart's objects live (HelmChart `targetNamespace`). */
  namespace: string;
  /** The chart version, as a HelmChart's `spec.version` names it. */
  version: string;
  appVersion: string | null;
  /** Inclusive range of Kubernetes minors ("1.31"). */
  minMinor: string;
  maxMinor: string;
  /** JSON Schema of the settings a customer may set; `x-helm-value` names the chart value of each property. */
  settingsSchema: Record<string, unknown>;
  /** False when the claim was carried over or not confirmed against `source` on the seed's checkedOn. */
  checked: boolean;
  source: string;
}

interface SeedAddon {
  name: string;
  title: string;
  tier: AddonTier;
  chart: { repo: string; name: string };
  namespace: string;
  settingsSchema: Record<string, unknown>;
  releases: { version: string; appVersion?: string; minMinor: string; maxMinor: string; checked: boolean; source: string }[];
}

export interface AddonCatalogueSeed {
  revision: number;
  checkedOn: string;
  releases: readonly AddonRelease[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MINOR = /^1\.\d{1,3}$/;

/** Refuses a row that could not be installed or explained: the admin route and the seed loader both use it. */
export function assertValidAddonRelease(release: AddonRelease): void {
  const problems: string[] = [];
  if (!DNS_LABEL.test(release.name)) problems.push(`name ${JSON.stringify(release.name)} is not a DNS-1123 label`);
  if (!DNS_LABEL.test(release.namespace)) problems.push(`namespace ${JSON.stringify(release.namespace)} is not a DNS-1123 label`);
  if (!ADDON_TIERS.includes(release.tier)) problems.push(`tier must be one of ${ADDON_TIERS.join(', ')}`);
  if (!/^https:\/\/[^\s]+$/.test(release.chartRepo)) problems.push('chart_repo must be an https URL');
  if (!DNS_LABEL.test(release.chart)) problems.push('chart must be a chart name');
  if (!/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(release.version)) problems.push(`version ${JSON.stringify(release.version)} is not a chart version`);
  if (!MINOR.test(release.minMinor) || !MINOR.test(release.maxMinor)) problems.push('min_minor and max_minor are minors such as "1.31"');
  else if (parseMinor(release.minMinor).minor > parseMinor(release.maxMinor).minor) problems.push('min_minor is after max_minor');
  if (release.source.trim().length === 0) problems.push('every compatibility claim needs its source');
  if (release.settingsSchema['type'] !== 'object' || release.settingsSchema['additionalProperties'] !== false)
    problems.push('settings_schema must be an object schema with additionalProperties: false');
  // helmValuesFor skips a property without its chart value, so such a setting would be accepted and do nothing.
  const properties = release.settingsSchema['properties'];
  if (properties !== null && typeof properties === 'object')
    for (const [key, property] of Object.entries(properties as Record<string, unknown>)) {
      const path = (property as { 'x-helm-value'?: unknown } | null)?.['x-helm-value'];
      if (typeof path !== 'string' || path.trim().length === 0)
        problems.push(`settings_schema property ${key} has no x-helm-value naming the chart value it sets`);
    }
  if (problems.length > 0)
    throw new UnprocessableError('addon-release-invalid', `add-on release ${release.name} ${release.version}: ${problems.join('; ')}`, {
      rule: 'catalogue rows are installable and sourced',
      problems,
    });
}

/** The namespace of the distribution's own components (CoreDNS, Cilium): an add-on installed there could clash with them. */
const DISTRIBUTION_NAMESPACE = 'kube-system';

/**
 * Refuses a staff row that disagrees with the catalogue it joins: the tier is the add-on's, not a
 * version's (a cluster's add-on would become removable or billed by its version), and only the
 * add-ons already in kube-system (the seed's always-on ones) may have a release there.
 */
export function assertReleaseFitsCatalogue(release: AddonRelease, catalogue: readonly AddonRelease[]): void {
  const others = catalogue.filter((r) => r.name === release.name && r.version !== release.version);
  const otherTiers = [...new Set(others.map((r) => r.tier))];
  if (otherTiers.some((tier) => tier !== release.tier))
    throw new UnprocessableError(
      'addon-release-invalid',
      `add-on release ${release.name} ${release.version}: tier ${release.tier} differs from its other versions (${otherTiers.join(', ')})`,
      { rule: 'one tier per add-on', tier: release.tier, other_tiers: otherTiers },
    );
  const existing = catalogue.filter((r) => r.name === release.name);
  if (release.namespace === DISTRIBUTION_NAMESPACE && (existing.length === 0 || existing.some((r) => r.namespace !== DISTRIBUTION_NAMESPACE)))
    throw new UnprocessableError(
      'addon-release-invalid',
      `add-on release ${release.name} ${release.version}: namespace ${DISTRIBUTION_NAMESPACE} holds the distribution's own components; choose a namespace of the add-on's own`,
      { rule: 'kube-system belongs to the distribution', namespace: release.namespace },
    );
}

function loadSeed(raw: { revision: number; checkedOn: string; addons: SeedAddon[] }): AddonCatalogueSeed {
  const releases: AddonRelease[] = [];
  for (const addon of raw.addons) {
    for (const r of addon.releases) {
      const release: AddonRelease = {
        name: addon.name,
        title: addon.title,
        tier: addon.tier,
        chartRepo: addon.chart.repo,
        chart: addon.chart.name,
        namespace: addon.namespace,
        version: r.version,
        appVersion: r.appVersion ?? null,
        minMinor: r.minMinor,
        maxMinor: r.maxMinor,
        settingsSchema: addon.settingsSchema,
        checked: r.checked,
        source: r.source,
      };
      assertValidAddonRelease(release);
      releases.push(release);
    }
  }
  return { revision: raw.revision, checkedOn: raw.checkedOn, releases: Object.freeze(releases) };
}

/** The seed, validated when the module loads: a row without a source never ships. */
export const ADDON_CATALOGUE_SEED: AddonCatalogueSeed = loadSeed(rawSeed as { revision: number; checkedOn: string; addons: SeedAddon[] });

/** Chart version order: numeric segments, a leading `v` ignored. */
export function compareChartVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .replace(/^v/, '')
      .split(/[-+]/)[0]!
      .split('.')
      .map((n) => Number(n));
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const covers = (release: AddonRelease, minor: number) => parseMinor(release.minMinor).minor <= minor && minor <= parseMinor(release.maxMinor).minor;

/** The newest release of `name` qualified for the minor of `version`; null when there is none. */
export function addonReleaseFor(releases: readonly AddonRelease[], name: string, version: string): AddonRelease | null {
  const { major, minor } = parseMinor(version);
  if (major !== 1) return null;
  let best: AddonRelease | null = null;
  for (const r of releases) {
    if (r.name !== name || !covers(r, minor)) continue;
    if (!best || compareChartVersions(r.version, best.version) > 0) best = r;
  }
  return best;
}

/** One row per add-on name (its newest release), in catalogue order: what the add-on is, whatever the minor. */
export function addonNames(releases: readonly AddonRelease[]): AddonRelease[] {
  const byName = new Map<string, AddonRelease>();
  for (const r of releases) {
    const seen = byName.get(r.name);
    if (!seen || compareChartVersions(r.version, seen.version) > 0) byName.set(r.name, r);
  }
  return [...byName.values()];
}

/** The add-ons a new cluster gets: every always-on and default one. */
export function defaultAddonNames(releases: readonly AddonRelease[]): string[] {
  return addonNames(releases)
    .filter((r) => r.tier !== 'optional')
    .map((r) => r.name);
}

export interface AddonAtVersion {
  name: string;
  version: string;
  chartRepo: string;
  chart: string;
  namespace: string;
}

/** The releases of `names` for the minor of `version`; names with no qualified release are left out (see {@link addonsMissingAt}). */
export function addonsAt(releases: readonly AddonRelease[], version: string, names: readonly string[]): AddonAtVersion[] {
  const out: AddonAtVersion[] = [];
  for (const name of names) {
    const r = addonReleaseFor(releases, name, version);
    if (r) out.push({ name, version: r.version, chartRepo: r.chartRepo, chart: r.chart, namespace: r.namespace });
  }
  return out;
}

/** The names among `names` that have no release qualified for the minor of `version`. */
export function addonsMissingAt(releases: readonly AddonRelease[], version: string, names: readonly string[]): string[] {
  return names.filter((name) => !addonReleaseFor(releases, name, version));
}

/** The add-on changes a move from `from` to `to` brings (a name only on one side is added or dropped). */
export function addonChangesBetween(
  releases: readonly AddonRelease[],
  names: readonly string[],
  from: string,
  to: string,
): { name: string; from: string | null; to: string | null }[] {
  const before = new Map(addonsAt(releases, from, names).map((a) => [a.name, a.version]));
  const after = new Map(addonsAt(releases, to, names).map((a) => [a.name, a.version]));
  const all = [...new Set([...before.keys(), ...after.keys()])].sort();
  return all.filter((n) => before.get(n) !== after.get(n)).map((n) => ({ name: n, from: before.get(n) ?? null, to: after.get(n) ?? null }));
}

/**
 * The Helm values a customer's settings set (HelmChart `spec.set`), through the `x-helm-value`
 * of each schema property. Settings are validated against the schema before they get here.
 */
export function helmValuesFor(release: Pick<AddonRelease, 'settingsSchema'>, settings: Record<string, unknown>): Record<string, string | number | boolean> {
  const properties = (release.settingsSchema['properties'] ?? {}) as Record<string, { 'x-helm-value'?: string }>;
  const values: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(settings)) {
    const path = properties[key]?.['x-helm-value'];
    if (!path || (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')) continue;
    values[path] = value;
  }
  return values;
}
