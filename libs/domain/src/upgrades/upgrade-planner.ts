/**
 * The upgrade planner: from a cluster's versions, the catalogue and what is known about the
 * cluster's contents, an explainable plan to a target version, or the rule that forbids it.
 * Pure: no I/O, no clock (`now` is given). Rules and sources: docs/upgrades.md, "Upgrade plans".
 *
 * - One minor at a time, never a skip, never a downgrade (kube-apiserver upgrades one minor per
 *   step: kubernetes.io/releases/version-skew-policy).
 * - Per hop: the control plane first, then each node pool with its surge settings, then the
 *   add-ons that go with the new minor.
 * - kubelet never newer than the API server and at most three minors older (same policy): after
 *   every step the plan records the skew check; a pool that the next control-plane hop would leave
 *   too far behind is caught up to the current control plane first.
 * - Blockers say why a plan cannot run now; the plan is still shown so the customer sees the path.
 */
import { UnprocessableError } from '../errors/domain-error';
import { ADDON_CATALOGUE_SEED, type AddonRelease, addonChangesBetween, addonsMissingAt, defaultAddonNames } from '../addons/addon-catalogue';
import { comparePatches, namesOfferedVersion, parseMinor, type Provider, type VersionCatalogueEntry, versionState } from '../catalogue/kubernetes-versions';
import { type ClusterObject, migrationTarget, type RemovedApi, REMOVED_APIS, removalAffecting } from './removed-apis';

/** kubelet may be at most this many minors older than kube-apiserver (Kubernetes 1.28 and later). */
export const MAX_KUBELET_SKEW = 3;

export type ExclusionScope = 'no_upgrades' | 'no_minor_upgrades' | 'no_minor_or_node_upgrades';

export interface PlannedPool {
  id: string;
  name: string;
  version: string;
  maxSurge: number;
  maxUnavailable: number;
}

export interface PodDisruptionBudgetState {
  namespace: string;
  name: string;
  /** status.disruptionsAllowed: 0 means no pod it covers may be evicted now. */
  disruptionsAllowed: number;
  /** Pods it covers (status.expectedPods). */
  expectedPods: number;
}

export interface UpgradePlanInput {
  provider: Provider;
  controlPlaneVersion: string;
  pools: readonly PlannedPool[];
  /** A minor ("1.36") or a patch the catalogue offers ("1.36.4"). */
  target: string;
  catalogue: readonly VersionCatalogueEntry[];
  now: Date;
  /** Objects found in the cluster, or null when no removed-API scan has run. */
  objects: readonly ClusterObject[] | null;
  /** PodDisruptionBudgets found in the cluster, or null when none were read. */
  disruptionBudgets: readonly PodDisruptionBudgetState[] | null;
  exclusions: readonly { startsAt: Date; endsAt: Date; scope: ExclusionScope }[];
  removedApis?: readonly RemovedApi[];
  /**
   * The add-on catalogue rows and the add-ons the cluster runs (docs/addons.md, "Upgrades"). Without
   * it, the catalogue seed and its always-on and default add-ons.
   */
  addons?: { releases: readonly AddonRelease[]; enabled: readonly string[] };
}

export interface SkewCheck {
  ok: boolean;
  controlPlane: string;
  /** Pools outside the window after the step, with why. */
  violations: { pool: string; version: string; reason: string }[];
}

export type UpgradeStep =
  | { kind: 'node_pool_catch_up'; pool: string; poolId: string; from: string; to: string; maxSurge: number; maxUnavailable: number; skew: SkewCheck }
  | { kind: 'control_plane'; from: string; to: string; skew: SkewCheck }
  | { kind: 'node_pool'; pool: string; poolId: string; from: string; to: string; maxSurge: number; maxUnavailable: number; skew: SkewCheck }
  | { kind: 'addons'; changes: { name: string; from: string | null; to: string | null }[]; skew: SkewCheck };

export interface UpgradeHop {
  /** The minor reached by this hop; a patch-only plan has one hop within the same minor. */
  from: string;
  to: string;
  minor: boolean;
  steps: UpgradeStep[];
}

export type BlockerKind = 'removed_api' | 'addon_incompatible' | 'pool_outside_skew' | 'pdb_blocks_drain' | 'active_exclusion';

export interface UpgradeBlocker {
  kind: BlockerKind;
  reason: string;
  details: Record<string, unknown>;
}

export interface UpgradePlan {
  from: string;
  to: string;
  hops: UpgradeHop[];
  blockers: UpgradeBlocker[];
  removedApiScan: { ran: boolean; note: string };
  disruptionBudgetScan: { ran: boolean; note: string };
}

/** A request the version rules forbid. `rule` names the rule, for the problem+json body. */
export class UpgradeRefusedError extends UnprocessableError {
  constructor(
    type: 'version-downgrade' | 'version-skip' | 'already-at-version' | 'version-not-offered' | 'version-end-of-life',
    rule: string,
    detail: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(type, detail, { rule, ...extensions });
  }
}

const minorOf = (v: string) => parseMinor(v).minor;
const minorText = (major: number, minor: number) => `${major}.${minor}`;

/** The skew of every pool against `controlPlane` (docs/upgrades.md, "Version skew"). */
export function skewCheck(controlPlane: string, pools: readonly { name: string; version: string }[]): SkewCheck {
  const cp = minorOf(controlPlane);
  const violations: SkewCheck['violations'] = [];
  for (const p of pools) {
    const m = minorOf(p.version);
    if (m > cp) violations.push({ pool: p.name, version: p.version, reason: `kubelet ${p.version} is newer than the control plane ${controlPlane}` });
    else if (cp - m > MAX_KUBELET_SKEW)
      violations.push({
        pool: p.name,
        version: p.version,
        reason: `kubelet ${p.version} is more than ${MAX_KUBELET_SKEW} minors older than the control plane ${controlPlane}`,
      });
  }
  return { ok: violations.length === 0, controlPlane, violations };
}

/** Refuses a single control-plane move that skips a minor or goes backwards. */
export function assertSingleMinorHop(from: string, to: string): void {
  const a = parseMinor(from);
  const b = parseMinor(to);
  if (a.major !== b.major || b.minor < a.minor) {
    throw new UpgradeRefusedError(
      'version-downgrade',
      'never downgrade',
      `the control plane cannot go from ${from} back to ${to}: Kubernetes does not support downgrades`,
    );
  }
  if (b.minor - a.minor > 1) {
    throw new UpgradeRefusedError(
      'version-skip',
      'one minor at a time',
      `the control plane cannot go from ${from} to ${to} in one step: it must pass through every minor in between`,
      {
        next_minor: minorText(a.major, a.minor + 1),
      },
    );
  }
}

/** The plan from the cluster's versions to `input.target`, or the rule that forbids it. */
export function planUpgrade(input: UpgradePlanInput): UpgradePlan {
  const offered = input.catalogue.filter((e) => e.provider === input.provider);
  const current = parseMinor(input.controlPlaneVersion);
  const wanted = input.target.trim().replace(/^v(?=\d)/, '');
  const targetMinor = parseMinor(wanted);
  const targetEntry = offered.find((e) => compareMinorNumbers(e.minor, targetMinor) === 0);
  if (!targetEntry || !namesOfferedVersion(input.provider, wanted, targetEntry)) {
    throw new UpgradeRefusedError(
      'version-not-offered',
      'only catalogue versions',
      `Kubernetes ${wanted.slice(0, 64)} is not offered for ${input.provider}; ask for a minor of the catalogue or its latest patch`,
      {
        offered: offered.map((e) => e.minor),
      },
    );
  }
  if (targetMinor.major !== current.major || targetMinor.minor < current.minor) {
    throw new UpgradeRefusedError(
      'version-downgrade',
      'never downgrade',
      `the cluster runs ${input.controlPlaneVersion}; Kubernetes does not support going back to ${targetEntry.minor}`,
    );
  }
  if (versionState(targetEntry, input.now) === 'eol') {
    throw new UpgradeRefusedError(
      'version-end-of-life',
      'never to an end-of-life version',
      `Kubernetes ${targetEntry.minor} reached end of life for ${input.provider} on ${targetEntry.endOfSupportAt}`,
    );
  }
  const sameMinor = targetMinor.minor === current.minor;
  // An older patch of the same minor is a downgrade too (kube-apiserver never goes back); asked for
  // by its minor, only when nothing would move: pools behind an ahead control plane may still catch up.
  if (
    sameMinor &&
    comparePatchesSafe(targetEntry.latestPatch, input.controlPlaneVersion) < 0 &&
    (wanted !== targetEntry.minor || input.pools.every((p) => comparePatchesSafe(targetEntry.latestPatch, p.version) <= 0))
  ) {
    throw new UpgradeRefusedError(
      'version-downgrade',
      'never downgrade',
      `the cluster runs ${input.controlPlaneVersion}, newer than ${targetEntry.latestPatch}, the latest patch of ${targetEntry.minor} Capstan offers; Kubernetes does not support going back to an older patch`,
      { latest_patch: targetEntry.latestPatch },
    );
  }
  if (
    sameMinor &&
    comparePatchesSafe(targetEntry.latestPatch, input.controlPlaneVersion) <= 0 &&
    input.pools.every((p) => comparePatchesSafe(targetEntry.latestPatch, p.version) <= 0)
  ) {
    throw new UpgradeRefusedError(
      'already-at-version',
      'upgrades move forward',
      `the cluster already runs ${input.controlPlaneVersion}, the latest patch of ${targetEntry.minor} Capstan offers`,
    );
  }

  // Every minor in between must be in the catalogue: a gap would force a skip.
  const path: VersionCatalogueEntry[] = [];
  for (let m = current.minor + 1; m <= targetMinor.minor; m++) {
    const entry = offered.find((e) => compareMinorNumbers(e.minor, { major: current.major, minor: m }) === 0);
    if (!entry) {
      throw new UpgradeRefusedError(
        'version-skip',
        'one minor at a time',
        `going from ${input.controlPlaneVersion} to ${targetEntry.minor} would skip ${minorText(current.major, m)}, which the ${input.provider} catalogue does not offer`,
        {
          missing_minor: minorText(current.major, m),
        },
      );
    }
    path.push(entry);
  }

  const blockers: UpgradeBlocker[] = [];
  const addons = input.addons ?? { releases: ADDON_CATALOGUE_SEED.releases, enabled: defaultAddonNames(ADDON_CATALOGUE_SEED.releases) };
  const pools = input.pools.map((p) => ({ ...p }));
  const initialSkew = skewCheck(input.controlPlaneVersion, pools);
  for (const v of initialSkew.violations) {
    blockers.push({
      kind: 'pool_outside_skew',
      reason: `node pool ${v.pool}: ${v.reason}; repair it before upgrading`,
      details: { pool: v.pool, version: v.version },
    });
  }

  let cp = input.controlPlaneVersion;
  const hops: UpgradeHop[] = [];
  const hopTargets = sameMinor ? [targetEntry] : path;
  for (const entry of hopTargets) {
    const from = cp;
    const steps: UpgradeStep[] = [];
    const toPatch = entry.latestPatch;
    const hopMinor = minorOf(toPatch);
    // a pool the control-plane hop would leave more than MAX_KUBELET_SKEW behind goes to the current control plane first
    for (const p of pools) {
      if (hopMinor - minorOf(p.version) > MAX_KUBELET_SKEW && minorOf(p.version) <= minorOf(cp)) {
        const before = p.version;
        p.version = cp;
        steps.push({
          kind: 'node_pool_catch_up',
          pool: p.name,
          poolId: p.id,
          from: before,
          to: cp,
          maxSurge: p.maxSurge,
          maxUnavailable: p.maxUnavailable,
          skew: skewCheck(cp, pools),
        });
      }
    }
    if (comparePatchesSafe(toPatch, cp) > 0) {
      cp = toPatch;
      steps.push({ kind: 'control_plane', from, to: cp, skew: skewCheck(cp, pools) });
    }
    for (const p of pools) {
      if (comparePatchesSafe(cp, p.version) <= 0) continue;
      const before = p.version;
      p.version = cp;
      steps.push({
        kind: 'node_pool',
        pool: p.name,
        poolId: p.id,
        from: before,
        to: cp,
        maxSurge: p.maxSurge,
        maxUnavailable: p.maxUnavailable,
        skew: skewCheck(cp, pools),
      });
    }
    const changes = addonChangesBetween(addons.releases, addons.enabled, from, cp);
    if (changes.length > 0) steps.push({ kind: 'addons', changes, skew: skewCheck(cp, pools) });
    hops.push({ from, to: cp, minor: minorOf(from) !== minorOf(cp), steps });
  }

  // add-ons the cluster runs that have no qualified release for a minor on the path
  for (const entry of path) {
    const missing = addonsMissingAt(addons.releases, entry.minor, addons.enabled);
    if (missing.length > 0) {
      blockers.push({
        kind: 'addon_incompatible',
        reason: `no qualified version of ${missing.join(', ')} for Kubernetes ${entry.minor}`,
        details: { minor: entry.minor, addons: missing },
      });
    }
  }

  const removedApiScan = { ran: input.objects !== null, note: '' };
  if (input.objects === null) {
    removedApiScan.note = 'no removed-API scan has run on this cluster: objects using APIs removed on the way cannot be named yet';
  } else {
    removedApiScan.note = `${input.objects.length} objects checked against the deprecation guide`;
    for (const o of input.objects) {
      const table = input.removedApis ?? REMOVED_APIS;
      const removal = removalAffecting(o, targetMinor.minor, current.minor, table);
      if (!removal) continue;
      const name = o.namespace ? `${o.namespace}/${o.name}` : o.name;
      const successor = migrationTarget(removal, targetMinor.minor, table);
      blockers.push({
        kind: 'removed_api',
        reason: `${o.kind} ${name} uses ${o.apiVersion}, removed in ${removal.removedIn}; ${successor.replacement ? `migrate it to ${successor.replacement}` : (successor.note ?? 'it has no successor')}`,
        details: {
          kind: o.kind,
          namespace: o.namespace ?? null,
          name: o.name,
          api_version: o.apiVersion,
          removed_in: removal.removedIn,
          replacement: successor.replacement,
        },
      });
    }
  }

  const disruptionBudgetScan = { ran: input.disruptionBudgets !== null, note: '' };
  if (input.disruptionBudgets === null) {
    disruptionBudgetScan.note = 'PodDisruptionBudgets have not been read from this cluster: a drain may still be blocked by one';
  } else {
    disruptionBudgetScan.note = `${input.disruptionBudgets.length} PodDisruptionBudgets checked`;
    const drains = hops.some((h) => h.steps.some((s) => s.kind === 'node_pool' || s.kind === 'node_pool_catch_up'));
    for (const pdb of input.disruptionBudgets) {
      if (!drains || pdb.disruptionsAllowed > 0 || pdb.expectedPods === 0) continue;
      blockers.push({
        kind: 'pdb_blocks_drain',
        reason: `PodDisruptionBudget ${pdb.namespace}/${pdb.name} allows no disruption now, so draining a node running its pods would stall`,
        details: { namespace: pdb.namespace, name: pdb.name, disruptions_allowed: pdb.disruptionsAllowed, expected_pods: pdb.expectedPods },
      });
    }
  }

  const minorHop = hops.some((h) => h.minor);
  const nodeWork = hops.some((h) => h.steps.some((s) => s.kind !== 'control_plane' && s.kind !== 'addons'));
  for (const ex of input.exclusions) {
    if (!(ex.startsAt <= input.now && input.now < ex.endsAt)) continue;
    const blocks =
      ex.scope === 'no_upgrades' || (ex.scope === 'no_minor_upgrades' && minorHop) || (ex.scope === 'no_minor_or_node_upgrades' && (minorHop || nodeWork));
    if (!blocks) continue;
    blockers.push({
      kind: 'active_exclusion',
      reason: `a maintenance exclusion (${ex.scope}) is active until ${ex.endsAt.toISOString()}`,
      details: { scope: ex.scope, starts_at: ex.startsAt.toISOString(), ends_at: ex.endsAt.toISOString() },
    });
  }

  return { from: input.controlPlaneVersion, to: cp, hops, blockers, removedApiScan, disruptionBudgetScan };
}

function compareMinorNumbers(minor: string, v: { major: number; minor: number }): number {
  const m = parseMinor(minor);
  return m.major - v.major || m.minor - v.minor;
}

/** Patch order, treating a bare minor ("1.35") as its .0 patch. */
function comparePatchesSafe(a: string, b: string): number {
  const full = (v: string) => (/^v?\d+\.\d+$/.test(v) ? `${v}.0` : v);
  return comparePatches(full(a), full(b));
}
