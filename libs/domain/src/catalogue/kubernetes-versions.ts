/**
 * The Kubernetes versions each provider offers, and what their dates mean for new clusters.
 *
 * Dates change several times a year, so they live in `kubernetes-versions.json` (with the source
 * of every entry) and this module only holds the rules (DOMAIN.md "Kubernetes versions": "keeps it
 * as data ... never hard-coded in logic"). The catalogue is per provider because GKE ends standard
 * support on its own dates, not upstream's.
 */
import { UnprocessableError, ValidationError } from '../errors/domain-error';
import { daysBetween, isIsoDay, IsoDay, utcDay } from '../time/utc-day';
import rawCatalogue from './kubernetes-versions.json';
import { isProvider, Provider } from './provider';

export type { Provider } from './provider';

export type VersionState = 'preview' | 'supported' | 'deprecated' | 'eol';

/** One minor as the catalogue file lists it. */
export interface VersionCatalogueEntry {
  provider: Provider;
  /** e.g. "1.35". */
  minor: string;
  /** The only patch offered for new clusters, e.g. "1.35.4" or GKE's "1.35.4-gke.1200". */
  latestPatch: string;
  releasedAt: IsoDay;
  /** Upstream's maintenance mode (only critical fixes); GKE has none, hence null. */
  maintenanceAt: IsoDay | null;
  endOfSupportAt: IsoDay;
  /** Offered before it is generally supported (e.g. GKE's Rapid channel only). */
  preview?: boolean;
  source: string;
}

export interface VersionCatalogue {
  source: string;
  updated: IsoDay;
  entries: readonly VersionCatalogueEntry[];
}

export interface KubernetesVersion {
  provider: Provider;
  minor: string;
  latestPatch: string;
  releasedAt: string;
  maintenanceAt: string | null;
  endOfSupportAt: string;
  state: VersionState;
  source: string;
}

/** Where a version is deprecated although upstream has not put it in maintenance mode yet. */
export const DEPRECATION_NOTICE_DAYS = 60;

const MINOR = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:[-+][0-9A-Za-z.-]+)?)?$/;

/**
 * Major and minor of "1.35", "1.35.4", "v1.35.4" or "1.35.4-gke.1200".
 * Throws a ValidationError (field `version`) for anything else.
 */
export function parseMinor(version: string): { major: number; minor: number } {
  const m = VERSION.exec(version);
  if (!m) {
    throw new ValidationError([
      { field: 'version', message: `"${version}" is not a Kubernetes version such as 1.35 or 1.35.4` },
    ]);
  }
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Orders by minor only, numerically (1.10 is newer than 1.9); patches of one minor compare equal. */
export function compareMinors(a: string, b: string): number {
  const x = parseMinor(a);
  const y = parseMinor(b);
  return x.major - y.major || x.minor - y.minor;
}

/**
 * The state of a version on `now`'s UTC day.
 *
 * - eol on and after its end-of-support day: GKE then upgrades clusters regardless of channel and
 *   upstream ships no more patches (DOMAIN.md "Kubernetes versions").
 * - deprecated once upstream puts the minor in maintenance mode (only critical fixes), or within
 *   {@link DEPRECATION_NOTICE_DAYS} days of end of support, so customers get a warning while there is
 *   still time to plan an upgrade (GKE has no maintenance mode, so this is its only deprecation).
 * - preview when flagged in the catalogue, otherwise supported.
 */
export function versionState(
  entry: { maintenanceAt: IsoDay | Date | null; endOfSupportAt: IsoDay | Date; preview?: boolean | null },
  now: Date,
): VersionState {
  const today = utcDay(now);
  const endOfSupport = utcDay(entry.endOfSupportAt);
  if (today >= endOfSupport) return 'eol';
  if (entry.maintenanceAt !== null && today >= utcDay(entry.maintenanceAt)) return 'deprecated';
  if (daysBetween(today, endOfSupport) <= DEPRECATION_NOTICE_DAYS) return 'deprecated';
  return entry.preview ? 'preview' : 'supported';
}

/**
 * Checks a catalogue read from JSON. Staff edit the file by hand, so a typo must stop the process
 * at start-up with every problem named, rather than surface later as a wrong EOL answer.
 */
export function parseVersionCatalogue(raw: unknown): VersionCatalogue {
  const problems: string[] = [];
  const obj = (raw ?? {}) as Record<string, unknown>;
  if (typeof obj.source !== 'string' || obj.source.trim() === '') problems.push('"source" must be a non-empty string');
  if (typeof obj.updated !== 'string' || !isIsoDay(obj.updated)) problems.push('"updated" must be a day written as YYYY-MM-DD');
  if (!Array.isArray(obj.entries)) problems.push('"entries" must be an array');

  const entries: VersionCatalogueEntry[] = [];
  const seen = new Set<string>();
  for (const [i, item] of (Array.isArray(obj.entries) ? obj.entries : []).entries()) {
    const e = (item ?? {}) as Record<string, unknown>;
    const at = `entries[${i}]${typeof e.provider === 'string' && typeof e.minor === 'string' ? ` (${e.provider} ${e.minor})` : ''}`;
    const before = problems.length;
    if (!isProvider(e.provider)) problems.push(`${at}: provider must be "rke2" or "gke"`);
    if (typeof e.minor !== 'string' || !MINOR.test(e.minor)) problems.push(`${at}: minor must look like 1.35`);
    if (typeof e.latestPatch !== 'string' || typeof e.minor !== 'string' || !patchPattern(e.provider, e.minor).test(e.latestPatch)) {
      problems.push(`${at}: latestPatch must be a patch of its minor (${e.provider === 'gke' ? 'e.g. 1.35.4-gke.1200' : 'e.g. 1.35.4'})`);
    }
    for (const field of ['releasedAt', 'endOfSupportAt'] as const) {
      if (typeof e[field] !== 'string' || !isIsoDay(e[field] as string)) problems.push(`${at}: ${field} must be a day written as YYYY-MM-DD`);
    }
    if (e.maintenanceAt !== null && (typeof e.maintenanceAt !== 'string' || !isIsoDay(e.maintenanceAt))) {
      problems.push(`${at}: maintenanceAt must be a day written as YYYY-MM-DD, or null`);
    }
    if (e.preview !== undefined && typeof e.preview !== 'boolean') problems.push(`${at}: preview must be true or false when present`);
    if (typeof e.source !== 'string' || e.source.trim() === '') problems.push(`${at}: source must name where the dates come from`);
    if (problems.length > before) continue;

    const entry = e as unknown as VersionCatalogueEntry;
    const dates = [entry.releasedAt, entry.maintenanceAt, entry.endOfSupportAt].filter((d): d is string => d !== null);
    if (dates.some((d, j) => j > 0 && d <= dates[j - 1])) {
      problems.push(`${at}: dates must be in order releasedAt < maintenanceAt < endOfSupportAt`);
    }
    const key = `${entry.provider} ${entry.minor}`;
    if (seen.has(key)) problems.push(`${at}: ${key} is listed twice`);
    seen.add(key);
    entries.push({ ...entry });
  }

  if (problems.length > 0) {
    throw new Error(`the Kubernetes version catalogue is invalid:\n- ${problems.join('\n- ')}`);
  }
  return { source: obj.source as string, updated: obj.updated as string, entries };
}

function patchPattern(provider: unknown, minor: string): RegExp {
  const escaped = minor.replace(/\./g, '\\.');
  return provider === 'gke' ? new RegExp(`^${escaped}\\.(0|[1-9]\\d*)-gke\\.\\d+$`) : new RegExp(`^${escaped}\\.(0|[1-9]\\d*)$`);
}

/** The catalogue shipped with this build, checked when the module loads. */
export const VERSION_CATALOGUE: VersionCatalogue = parseVersionCatalogue(rawCatalogue);

/** Every catalogue version with its state on `now`, by provider, newest minor first. */
export function listVersions(
  now: Date,
  provider?: Provider,
  catalogue: readonly VersionCatalogueEntry[] = VERSION_CATALOGUE.entries,
): KubernetesVersion[] {
  return catalogue
    .filter((e) => provider === undefined || e.provider === provider)
    .map((e) => ({
      provider: e.provider,
      minor: e.minor,
      latestPatch: e.latestPatch,
      releasedAt: e.releasedAt,
      maintenanceAt: e.maintenanceAt,
      endOfSupportAt: e.endOfSupportAt,
      state: versionState(e, now),
      source: e.source,
    }))
    .sort((a, b) => a.provider.localeCompare(b.provider) || compareMinors(b.minor, a.minor));
}

/** What a new cluster gets when it names no version: the newest generally supported minor. */
export function defaultVersionFor(
  provider: Provider,
  now: Date,
  catalogue: readonly VersionCatalogueEntry[] = VERSION_CATALOGUE.entries,
): KubernetesVersion | undefined {
  return listVersions(now, provider, catalogue).find((v) => v.state === 'supported');
}

export interface ResolvedVersion {
  minor: string;
  patch: string;
  /** Human sentences to pass on to the caller (e.g. an approaching end of life). */
  warnings: string[];
}

/**
 * The version a new cluster is created on.
 *
 * `requested` is a minor ("1.35"), the minor's latest patch ("1.35.4", GKE "1.35.4-gke.1200"), or
 * undefined (or blank) for {@link defaultVersionFor}. Only the latest patch of a minor is offered, as with the
 * providers themselves. Creating on an EOL version is refused and on a deprecated one warns
 * (DOMAIN.md "Catalogue states drive behaviour"); a preview is never chosen by default.
 */
export function resolveVersionForCreate(
  provider: Provider,
  requested: string | undefined,
  now: Date,
  catalogue: readonly VersionCatalogueEntry[] = VERSION_CATALOGUE.entries,
): ResolvedVersion {
  const versions = listVersions(now, provider, catalogue);
  const offered = versions.filter((v) => v.state !== 'eol');
  const extensions = { provider, requested: requested ?? null, offered: offered.map((v) => v.minor) };

  if (requested === undefined || requested.trim() === '') {
    const chosen = defaultVersionFor(provider, now, catalogue);
    if (!chosen) {
      throw new UnprocessableError(
        'version-not-offered',
        `no Kubernetes version of ${provider} is generally supported for new clusters today; ${offeredSentence(offered)}, and one of them must be asked for explicitly`,
        extensions,
      );
    }
    return { minor: chosen.minor, patch: chosen.latestPatch, warnings: [] };
  }

  const wanted = requested.trim().replace(/^v(?=\d)/, '');
  // Echoed into the problem detail, so keep a pasted blob from filling the response.
  const shown = wanted.length > 64 ? `${wanted.slice(0, 64)}…` : wanted;
  const exact = versions.find((v) => v.minor === wanted || v.latestPatch === wanted);
  const version = exact ?? (VERSION.test(wanted) ? versions.find((v) => compareMinors(v.minor, wanted) === 0) : undefined);
  if (!version) {
    throw new UnprocessableError('version-not-offered', `Kubernetes ${shown} is not offered for ${provider}; ${offeredSentence(offered)}`, extensions);
  }
  if (version.state === 'eol') {
    throw new UnprocessableError(
      'version-end-of-life',
      `Kubernetes ${version.minor} reached end of life for ${provider} on ${version.endOfSupportAt} and cannot be used for new clusters; ${offeredSentence(offered)}`,
      { ...extensions, end_of_support_at: version.endOfSupportAt },
    );
  }
  if (!exact) {
    throw new UnprocessableError(
      'version-not-offered',
      `Kubernetes ${shown} is not offered for ${provider}: only the latest patch of ${version.minor}, ${version.latestPatch}, is; ask for "${version.minor}" or "${version.latestPatch}"`,
      { ...extensions, latest_patch: version.latestPatch },
    );
  }

  const warnings: string[] = [];
  if (version.state === 'deprecated') {
    warnings.push(
      `Kubernetes ${version.minor} is deprecated for ${provider} and reaches end of life on ${version.endOfSupportAt}; plan an upgrade before then`,
    );
  }
  if (version.state === 'preview') {
    warnings.push(`Kubernetes ${version.minor} is a preview for ${provider} and is not yet generally supported`);
  }
  return { minor: version.minor, patch: version.latestPatch, warnings };
}

function offeredSentence(offered: readonly KubernetesVersion[]): string {
  if (offered.length === 0) return 'no versions are offered at the moment';
  const names = offered.map((v) => (v.state === 'supported' ? v.minor : `${v.minor} (${v.state})`));
  return `offered versions are ${names.join(', ')}`;
}
