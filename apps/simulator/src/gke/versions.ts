import { VERSION_CATALOGUE } from '@capstan/domain';
import { failedPrecondition, invalidArgument } from './rpc-status';

/**
 * GKE's version strings (`1.35.8-gke.1225000`) and the aliases the Container API accepts in their
 * place: `latest`, `-` (the default), `1.35` (newest patch of a minor) and `1.35.8` (newest GKE
 * build of a patch), as GKE's versioning documentation describes them.
 *
 * The versions the emulated GKE offers are the GKE entries of the repository's version catalogue,
 * whose latest patches are taken from GKE's release notes: the emulator then knows what Capstan
 * offers, and a catalogue version in a form GKE would refuse is refused here too.
 */
export interface GkeVersion {
  major: number;
  minor: number;
  patch: number;
  build: number;
}

const FULL = /^(\d+)\.(\d+)\.(\d+)-gke\.(\d+)$/;

export function parseGkeVersion(text: string): GkeVersion | null {
  const m = FULL.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), build: Number(m[4]) } : null;
}

export function compareGkeVersions(a: GkeVersion, b: GkeVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || a.build - b.build;
}

export interface GkeVersionSet {
  /** Newest first. */
  valid: readonly string[];
  defaultVersion: string;
}

/** The versions on offer: every GKE minor of the catalogue at its latest patch, newest first. */
export function catalogueVersionSet(): GkeVersionSet {
  const gke = VERSION_CATALOGUE.entries.filter((e) => e.provider === 'gke');
  const valid = gke
    .map((e) => e.latestPatch)
    .filter((v) => parseGkeVersion(v) !== null)
    .sort((a, b) => compareGkeVersions(parseGkeVersion(b)!, parseGkeVersion(a)!));
  // GKE creates on the Regular channel's default unless told otherwise: the second-newest minor.
  const defaultVersion = gke.find((e) => e.defaultForNew)?.latestPatch ?? valid[1] ?? valid[0]!;
  return { valid, defaultVersion };
}

/** The exact version `requested` stands for, or INVALID_ARGUMENT naming what was wrong. */
export function resolveGkeVersion(requested: string | undefined, versions: GkeVersionSet, field: string): string {
  const text = (requested ?? '').trim();
  if (text === '' || text === '-') return versions.defaultVersion;
  if (text === 'latest') return versions.valid[0]!;
  const parsed = versions.valid.map((v) => ({ text: v, version: parseGkeVersion(v)! }));
  let candidates: typeof parsed;
  if (/^\d+\.\d+$/.test(text)) {
    candidates = parsed.filter((v) => `${v.version.major}.${v.version.minor}` === text);
  } else if (/^\d+\.\d+\.\d+$/.test(text)) {
    candidates = parsed.filter((v) => `${v.version.major}.${v.version.minor}.${v.version.patch}` === text);
  } else if (FULL.test(text)) {
    candidates = parsed.filter((v) => v.text === text);
  } else {
    throw invalidArgument(`${field} "${text}" is not a valid version: use "latest", "-", "1.X", "1.X.Y" or "1.X.Y-gke.N"`);
  }
  if (candidates.length === 0) {
    throw invalidArgument(`${field} "${text}" is unsupported; valid versions are ${versions.valid.join(', ')}`);
  }
  return candidates[0]!.text;
}

/** GKE moves a control plane one minor at a time and never down; FAILED_PRECONDITION says why not. */
export function assertMasterUpgrade(current: string, target: string): void {
  const from = parseGkeVersion(current)!;
  const to = parseGkeVersion(target)!;
  if (compareGkeVersions(to, from) < 0) throw failedPrecondition(`master version cannot be downgraded from ${current} to ${target}`);
  if (to.major !== from.major || to.minor > from.minor + 1) {
    throw failedPrecondition(`master version can only be upgraded one minor version at a time: ${current} -> ${target} skips ${from.major}.${from.minor + 1}`);
  }
}

/** Nodes never newer than the control plane and at most three minors behind it (Kubernetes' skew policy). */
export function assertNodeVersion(node: string, master: string): void {
  const n = parseGkeVersion(node)!;
  const m = parseGkeVersion(master)!;
  if (compareGkeVersions(n, m) > 0) throw failedPrecondition(`node version ${node} cannot be newer than the master version ${master}`);
  if (n.major !== m.major || m.minor - n.minor > 3)
    throw failedPrecondition(`node version ${node} is more than 3 minor versions older than the master version ${master}`);
}

/** What the API server reports as its `gitVersion` without the `v`: GKE's string as it is. */
export const kubeletVersion = (version: string) => `v${version}`;
