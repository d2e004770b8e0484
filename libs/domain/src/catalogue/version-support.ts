import type { IsoDay } from '../time/utc-day';
import { type VersionCatalogueEntry, type VersionState, versionState } from './kubernetes-versions';
import type { Provider } from './provider';

/**
 * Where a running cluster's version stands for staff scanning the fleet (docs/staff.md, "Which
 * customers are exposed"), from the catalogue state on the day (docs/upgrades.md, "States"):
 *
 * - `eol`: past end of support; no more patches, and it is to be upgraded;
 * - `deprecated`: still patched but winding down, in upstream's maintenance mode (critical fixes
 *   only) or past the provider's end of standard support (GKE): end of support is near;
 * - `supported`: generally supported, or offered as a preview;
 * - `unknown`: the catalogue has no entry for the minor (no rule can say; staff look at it).
 */
export type SupportStatus = 'supported' | 'deprecated' | 'eol';
export const SUPPORT_STATUSES: readonly SupportStatus[] = ['supported', 'deprecated', 'eol'];

export interface VersionSupport {
  status: SupportStatus | 'unknown';
  /** The catalogue's state of the minor on the day; null when the catalogue has no entry. */
  state: VersionState | null;
  endOfSupportAt: IsoDay | null;
}

type SupportEntry = Pick<VersionCatalogueEntry, 'provider' | 'minor' | 'maintenanceAt' | 'standardSupportEndsAt' | 'endOfSupportAt' | 'preview'>;

const STATUS_OF_STATE: Record<VersionState, SupportStatus> = {
  preview: 'supported',
  supported: 'supported',
  maintenance: 'deprecated',
  deprecated: 'deprecated',
  eol: 'eol',
};

/** The minor of "1.35.4", "v1.35.4" or "1.35.4-gke.1200", as the catalogue keys it; undefined for anything else. */
function minorOf(version: string): string | undefined {
  const m = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[.\-+]|$)/.exec(version);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** The support of a version a cluster runs, on `now`'s UTC day. */
export function versionSupport(entries: readonly SupportEntry[], provider: Provider, version: string, now: Date): VersionSupport {
  const minor = minorOf(version);
  const entry = entries.find((e) => e.provider === provider && e.minor === minor);
  if (!entry) return { status: 'unknown', state: null, endOfSupportAt: null };
  const state = versionState(entry, now);
  return { status: STATUS_OF_STATE[state], state, endOfSupportAt: entry.endOfSupportAt };
}

/** The catalogue's (provider, minor) pairs whose support is `status` on `now`'s UTC day: what a fleet filter matches. */
export function minorsWithSupport(entries: readonly SupportEntry[], status: SupportStatus, now: Date): { provider: Provider; minor: string }[] {
  return entries.filter((e) => STATUS_OF_STATE[versionState(e, now)] === status).map((e) => ({ provider: e.provider, minor: e.minor }));
}
