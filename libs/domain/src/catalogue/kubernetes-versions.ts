/**
 * The Kubernetes versions each provider offers, and what their dates mean for new clusters.
 *
 * Dates change several times a year, so they are data, not logic (docs/upgrades.md, "The version
 * catalogue"): `kubernetes-versions.seed.json` is the versioned seed, with a source for every date,
 * and the `kubernetes_versions` table, which staff edit, is what a running Capstan reads. This module
 * holds only the rules. The catalogue is per provider because GKE ends standard support on its own
 * dates, not upstream's.
 */
import { UnprocessableError, ValidationError } from '../errors/domain-error';
import { isIsoDay, IsoDay, utcDay } from '../time/utc-day';
import rawCatalogue from './kubernetes-versions.seed.json';
import { isProvider, Provider } from './provider';

export type { Provider } from './provider';

/**
 * - `maintenance`: upstream's maintenance mode (only critical fixes, still patched);
 * - `deprecated`: past the provider's end of standard support (GKE), still running but no longer
 *   standard; both warn on create, `eol` refuses (docs/upgrades.md, "States").
 */
export type VersionState = 'preview' | 'supported' | 'maintenance' | 'deprecated' | 'eol';

export const VERSION_STATES: readonly VersionState[] = ['preview', 'supported', 'maintenance', 'deprecated', 'eol'];

/** The dated fields of a catalogue entry, each of which must name where it comes from. */
export const DATED_FIELDS = ['releasedAt', 'maintenanceAt', 'standardSupportEndsAt', 'endOfSupportAt', 'latestPatch'] as const;
export type DatedField = (typeof DATED_FIELDS)[number];
/** One source per dated field, plus `preview` when an entry is held back, saying why. */
export type VersionSources = Partial<Record<DatedField | 'preview', string>>;

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
  /** The provider's own end of standard support (GKE); null where the provider follows upstream (RKE2). */
  standardSupportEndsAt: IsoDay | null;
  /** End of life: no more patches, no new clusters. */
  endOfSupportAt: IsoDay;
  /** Offered before it is generally supported (e.g. GKE's Rapid channel only). */
  preview?: boolean;
  /** Staff's choice for new clusters that name no version (see {@link defaultVersionFor}). */
  defaultForNew?: boolean;
  /** Where each date (and the latest patch) comes from; every non-null date must have one. */
  sources: VersionSources;
}

export interface VersionCatalogue {
  /** Bumped on every edit of the seed file, so a database can tell which seed it was filled from. */
  revision: number;
  source: string;
  checkedOn: IsoDay;
  entries: readonly VersionCatalogueEntry[];
}

export interface KubernetesVersion {
  provider: Provider;
  minor: string;
  latestPatch: string;
  releasedAt: string;
  maintenanceAt: string | null;
  standardSupportEndsAt: string | null;
  endOfSupportAt: string;
  state: VersionState;
  defaultForNew: boolean;
  sources: VersionSources;
}

const MINOR = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:[-+][0-9A-Za-z.-]+)?)?$/;

/**
 * Major and minor of "1.35", "1.35.4", "v1.35.4" or "1.35.4-gke.1200".
 * Throws a ValidationError (field `version`) for anything else.
 */
export function parseMinor(version: string): { major: number; minor: number } {
  const m = VERSION.exec(version);
  if (!m) {
    throw new ValidationError([{ field: 'version', message: `"${version}" is not a Kubernetes version such as 1.35 or 1.35.4` }]);
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
 * The state of a version on `now`'s UTC day (docs/upgrades.md, "States"): each date starts its state
 * on its own UTC day, and a later date wins.
 *
 * - eol on and after its end-of-support day: upstream ships no more patches and GKE upgrades
 *   clusters regardless of channel;
 * - deprecated on and after the provider's end of standard support (GKE's own date);
 * - maintenance on and after upstream's maintenance-mode day (RKE2 follows upstream);
 * - otherwise preview when flagged in the catalogue, else supported.
 */
export function versionState(
  entry: {
    maintenanceAt: IsoDay | Date | null;
    standardSupportEndsAt?: IsoDay | Date | null;
    endOfSupportAt: IsoDay | Date;
    preview?: boolean | null;
  },
  now: Date,
): VersionState {
  const today = utcDay(now);
  if (today >= utcDay(entry.endOfSupportAt)) return 'eol';
  if (entry.standardSupportEndsAt != null && today >= utcDay(entry.standardSupportEndsAt)) return 'deprecated';
  if (entry.maintenanceAt !== null && today >= utcDay(entry.maintenanceAt)) return 'maintenance';
  return entry.preview ? 'preview' : 'supported';
}

/**
 * Checks a catalogue read from JSON. Staff edit the file by hand, so a typo must stop the process
 * at start-up with every problem named, rather than surface later as a wrong EOL answer.
 */
export function parseVersionCatalogue(raw: unknown): VersionCatalogue {
  const problems: string[] = [];
  const obj = (raw ?? {}) as Record<string, unknown>;
  if (typeof obj.revision !== 'number' || !Number.isInteger(obj.revision) || obj.revision < 1) problems.push('"revision" must be a positive integer');
  if (typeof obj.source !== 'string' || obj.source.trim() === '') problems.push('"source" must be a non-empty string');
  if (typeof obj.checkedOn !== 'string' || !isIsoDay(obj.checkedOn)) problems.push('"checkedOn" must be a day written as YYYY-MM-DD');
  if (!Array.isArray(obj.entries)) problems.push('"entries" must be an array');

  const entries: VersionCatalogueEntry[] = [];
  const seen = new Set<string>();
  for (const [i, item] of (Array.isArray(obj.entries) ? obj.entries : []).entries()) {
    const e = (item ?? {}) as Record<string, unknown>;
    const at = `entries[${i}]${typeof e.provider === 'string' && typeof e.minor === 'string' ? ` (${e.provider} ${e.minor})` : ''}`;
    const found = versionEntryProblems(e);
    problems.push(...found.map((p) => `${at}: ${p}`));
    const key = `${String(e.provider)} ${String(e.minor)}`;
    if (seen.has(key)) problems.push(`${at}: ${key} is listed twice`);
    seen.add(key);
    if (found.length > 0) continue;
    const entry = e as unknown as VersionCatalogueEntry;
    entries.push({ ...entry, sources: { ...entry.sources } });
  }

  if (problems.length > 0) {
    throw new Error(`the Kubernetes version catalogue is invalid:\n- ${problems.join('\n- ')}`);
  }
  return { revision: obj.revision as number, source: obj.source as string, checkedOn: obj.checkedOn as string, entries };
}

/**
 * Every problem of one catalogue entry, as sentences (empty when it is valid). Used for the seed
 * file and for staff edits, so both obey the same rules: dates in order, a source for every date.
 */
export function versionEntryProblems(e: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!isProvider(e.provider)) problems.push('provider must be "rke2" or "gke"');
  if (typeof e.minor !== 'string' || !MINOR.test(e.minor)) problems.push('minor must look like 1.35');
  if (typeof e.latestPatch !== 'string' || typeof e.minor !== 'string' || !patchPattern(e.provider, e.minor).test(e.latestPatch)) {
    problems.push(`latestPatch must be a patch of its minor (${e.provider === 'gke' ? 'e.g. 1.35.4-gke.1200' : 'e.g. 1.35.4'})`);
  }
  for (const field of ['releasedAt', 'endOfSupportAt'] as const) {
    if (typeof e[field] !== 'string' || !isIsoDay(e[field] as string)) problems.push(`${field} must be a day written as YYYY-MM-DD`);
  }
  for (const field of ['maintenanceAt', 'standardSupportEndsAt'] as const) {
    if (e[field] !== null && (typeof e[field] !== 'string' || !isIsoDay(e[field] as string)))
      problems.push(`${field} must be a day written as YYYY-MM-DD, or null`);
  }
  if (e.preview !== undefined && typeof e.preview !== 'boolean') problems.push('preview must be true or false when present');
  const sources = e.sources;
  if (typeof sources !== 'object' || sources === null || Array.isArray(sources)) {
    problems.push('sources must name where each date comes from');
  } else {
    for (const field of DATED_FIELDS) {
      const value = (sources as Record<string, unknown>)[field];
      const needed = e[field] !== null && e[field] !== undefined;
      if (needed && (typeof value !== 'string' || value.trim() === '')) problems.push(`sources.${field} must name where ${field} comes from`);
      if (value !== undefined && typeof value !== 'string') problems.push(`sources.${field} must be text`);
    }
  }
  if (problems.length > 0) return problems;

  // Maintenance mode and the end of standard support both fall between release and end of life;
  // they are independent of each other (GKE has no maintenance mode, RKE2 no own end of standard support).
  const released = e.releasedAt as string;
  const end = e.endOfSupportAt as string;
  if (!(released < end)) problems.push('dates must be in order: releasedAt before endOfSupportAt');
  for (const field of ['maintenanceAt', 'standardSupportEndsAt'] as const) {
    const day = e[field] as string | null;
    if (day !== null && !(released < day && day < end)) problems.push(`${field} must fall after releasedAt and before endOfSupportAt`);
  }
  return problems;
}

function patchPattern(provider: unknown, minor: string): RegExp {
  const escaped = minor.replace(/\./g, '\\.');
  return provider === 'gke' ? new RegExp(`^${escaped}\\.(0|[1-9]\\d*)-gke\\.\\d+$`) : new RegExp(`^${escaped}\\.(0|[1-9]\\d*)$`);
}

/**
 * The seed shipped with this build, checked when the module loads. A running Capstan reads the
 * `kubernetes_versions` table, filled from this seed (docs/upgrades.md, "The version catalogue").
 */
export const VERSION_CATALOGUE: VersionCatalogue = parseVersionCatalogue(rawCatalogue);

/** Every catalogue version with its state on `now`, by provider, newest minor first. */
export function listVersions(now: Date, provider: Provider | undefined, catalogue: readonly VersionCatalogueEntry[]): KubernetesVersion[] {
  return catalogue
    .filter((e) => provider === undefined || e.provider === provider)
    .map((e) => ({
      provider: e.provider,
      minor: e.minor,
      latestPatch: e.latestPatch,
      releasedAt: e.releasedAt,
      maintenanceAt: e.maintenanceAt,
      standardSupportEndsAt: e.standardSupportEndsAt,
      endOfSupportAt: e.endOfSupportAt,
      state: versionState(e, now),
      defaultForNew: e.defaultForNew === true,
      sources: e.sources,
    }))
    .sort((a, b) => a.provider.localeCompare(b.provider) || compareMinors(b.minor, a.minor));
}

/**
 * What a new cluster gets when it names no version: the minor staff set as the default while it is
 * generally supported, else the newest generally supported minor (so a default that ages into
 * maintenance mode stops being handed out without anyone having to notice).
 */
export function defaultVersionFor(provider: Provider, now: Date, catalogue: readonly VersionCatalogueEntry[]): KubernetesVersion | undefined {
  const supported = listVersions(now, provider, catalogue).filter((v) => v.state === 'supported');
  return supported.find((v) => v.defaultForNew) ?? supported[0];
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
 * (docs/upgrades.md, "States"); a preview is never chosen by default.
 */
export function resolveVersionForCreate(
  provider: Provider,
  requested: string | undefined,
  now: Date,
  catalogue: readonly VersionCatalogueEntry[],
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
  const exact = versions.find((v) => namesOfferedVersion(provider, wanted, v));
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
      `Kubernetes ${version.minor} is deprecated for ${provider} since ${version.standardSupportEndsAt}, and it reaches end of life on ${version.endOfSupportAt}; plan an upgrade before then`,
    );
  }
  if (version.state === 'maintenance') {
    warnings.push(
      `Kubernetes ${version.minor} is in upstream maintenance mode since ${version.maintenanceAt} (critical fixes only) and reaches end of life on ${version.endOfSupportAt}; plan an upgrade before then`,
    );
  }
  if (version.state === 'preview') {
    warnings.push(`Kubernetes ${version.minor} is a preview for ${provider} and is not yet generally supported`);
  }
  return { minor: version.minor, patch: version.latestPatch, warnings };
}

/**
 * Whether `requested` names `entry`'s minor or its latest patch, in a spelling the provider itself
 * uses (docs/upgrades.md, "Version strings"): a leading "v"; RKE2's release names, where
 * "v1.36.4+rke2r1" is upstream 1.36.4 as RKE2 builds it (any revision rN); and GKE's version
 * aliases, where "1.35.8" is the newest GKE build of 1.35.8, as the GKE API takes it.
 */
export function namesOfferedVersion(provider: Provider, requested: string, entry: { minor: string; latestPatch: string }): boolean {
  let wanted = requested.trim().replace(/^v(?=\d)/, '');
  if (provider === 'rke2') wanted = wanted.replace(/\+rke2r[1-9]\d*$/, '');
  if (wanted === entry.minor || wanted === entry.latestPatch) return true;
  return provider === 'gke' && /^\d+\.\d+\.\d+$/.test(wanted) && entry.latestPatch.startsWith(`${wanted}-gke.`);
}

function offeredSentence(offered: readonly KubernetesVersion[]): string {
  if (offered.length === 0) return 'no versions are offered at the moment';
  const names = offered.map((v) => (v.state === 'supported' ? v.minor : `${v.minor} (${v.state})`));
  return `offered versions are ${names.join(', ')}`;
}

/**
 * Orders two patches of one minor: by patch number, then by a GKE build number
 * (`1.35.4-gke.1200` < `1.35.4-gke.1300` < `1.35.5-gke.100`). Throws a ValidationError for text
 * that is not a version.
 */
export function comparePatches(a: string, b: string): number {
  const key = (v: string) => {
    const m = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-gke\.(\d+))?$/.exec(v);
    if (!m) {
      throw new ValidationError([{ field: 'latest_patch', message: `"${v.slice(0, 64)}" is not a patch version such as 1.35.4 or 1.35.4-gke.1200` }]);
    }
    return [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  };
  const x = key(a);
  const y = key(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}
