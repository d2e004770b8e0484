/**
 * The provider's side of upgrades (docs/upgrades.md, "Fleet auto-upgrade" and "Staged rollouts"):
 * which clusters need an upgrade, when each one runs (inside its maintenance window, outside every
 * exclusion that covers the work, announced ahead), in which wave, and whether a wave may let the
 * next one go. Pure: the clock, the catalogue and the clusters are given.
 */
import { comparePatches, parseMinor, type Provider, type VersionCatalogueEntry, versionState } from '../catalogue/kubernetes-versions';
import { BulkOccurrences } from '../maintenance/bulk-occurrences';
import type { MaintenanceWindowSpec, WindowOccurrence } from '../maintenance/maintenance-window';
import type { ExclusionScope } from './upgrade-planner';

const DAY_MS = 86_400_000;

/**
 * Work bound to a maintenance window starts a step (a control-plane hop, a node pool's rollout)
 * only with at least this much of the window left; once started, a step runs to its end, because
 * a pool's rollout stopped half-way leaves nodes on two versions (docs/upgrades.md, "Starting in
 * the next window").
 */
export const MIN_WINDOW_LEFT_FOR_A_STEP_MS = 30 * 60_000;

export interface FleetCluster {
  id: string;
  organizationId: string;
  provider: Provider;
  controlPlaneVersion: string;
  /** The customer's consent to patch and minor upgrades; end of life is upgraded regardless. */
  autoUpgrade: boolean;
  /** The cluster's release channel (`rapid`, `regular`, `stable`, `extended`); absent reads as not `extended`. */
  releaseChannel?: string;
  labels: Readonly<Record<string, string>>;
  window: MaintenanceWindowSpec | null;
  exclusions: readonly { startsAt: Date; endsAt: Date; scope: ExclusionScope }[];
}

export type UpgradeNeedReason = 'end_of_life' | 'end_of_support_near' | 'patch';

export interface UpgradeNeed {
  reason: UpgradeNeedReason;
  /** The patch to reach: one hop at most (the next rollout takes the next minor). */
  target: string;
  minor: boolean;
  detail: string;
}

export interface FleetPolicy {
  /** A minor ending its support within this many days is moved to the next minor. */
  endOfSupportLeadDays: number;
  /** How long before its window a cluster's upgrade is announced, at least. */
  announceLeadMs: number;
  /** After a wave's last window, how long its clusters are watched before the next wave may run. */
  soakMs: number;
  /** How far ahead a window occurrence is looked for. */
  horizonDays: number;
  /** Clusters of one tier per wave, at most (the rest make further waves of that tier). */
  maxWaveSize: number;
  /** A wave whose share of failed or unhealthy clusters exceeds this halts the rollout. */
  maxFailureRate: number;
}

export const DEFAULT_FLEET_POLICY: FleetPolicy = Object.freeze({
  endOfSupportLeadDays: 45,
  announceLeadMs: 48 * 3_600_000,
  soakMs: 24 * 3_600_000,
  horizonDays: 70,
  maxWaveSize: 2_500,
  maxFailureRate: 0.1,
});

/**
 * What a cluster needs, or null: end of life first (upgraded even without the customer's
 * consent, as GKE does at end of support), then a minor whose end of support is near, then a newer
 * patch of the cluster's minor. A minor move goes to the next minor only (no skips); the next minor
 * must be offered and not end of life itself, otherwise nothing can be planned (null).
 */
export function upgradeNeed(
  cluster: Pick<FleetCluster, 'provider' | 'controlPlaneVersion' | 'autoUpgrade' | 'releaseChannel'>,
  catalogue: readonly VersionCatalogueEntry[],
  now: Date,
  policy: Pick<FleetPolicy, 'endOfSupportLeadDays'> = DEFAULT_FLEET_POLICY,
): UpgradeNeed | null {
  const current = parseMinor(cluster.controlPlaneVersion);
  const offered = catalogue.filter((e) => e.provider === cluster.provider);
  const entryOf = (minor: number) =>
    offered.find((e) => {
      const m = parseMinor(e.minor);
      return m.major === current.major && m.minor === minor;
    });
  const entry = entryOf(current.minor);
  const next = entryOf(current.minor + 1);
  const nextUsable = next && !next.preview && versionState(next, now) !== 'eol' ? next : undefined;
  const state = entry ? versionState(entry, now) : 'eol';
  if (state === 'eol') {
    // The next minor may be end of life too (a cluster left on 1.33 when 1.34 has ended as well):
    // it cannot be a target, but the planner passes through it, one minor per hop, on the way to
    // the first minor that is still offered. Stopping short would leave the cluster unplanned for good.
    let m = current.minor + 1;
    let through = entryOf(m);
    while (through && !through.preview && versionState(through, now) === 'eol') through = entryOf(++m);
    const landing = through && !through.preview && versionState(through, now) !== 'eol' ? through : undefined;
    if (!landing) return null;
    const passing = m - current.minor - 1;
    return {
      reason: 'end_of_life',
      target: landing.latestPatch,
      minor: true,
      detail:
        `Kubernetes ${cluster.controlPlaneVersion} is end of life for ${cluster.provider}` +
        (passing > 0
          ? `; the next ${passing === 1 ? 'minor is' : `${passing} minors are`} end of life too, so the upgrade passes through ${passing === 1 ? 'it' : 'them'} to ${landing.minor}`
          : ''),
    };
  }
  if (!cluster.autoUpgrade) return null;
  // GKE's Extended channel is the customer's choice to stay on a minor beyond standard support
  // (cloud.google.com/kubernetes-engine/versioning): no move before the catalogue's end of support.
  // Its end of extended support is not in the catalogue yet, so the end of life above still applies.
  const staysOnMinor = cluster.provider === 'gke' && cluster.releaseChannel === 'extended';
  const endsIn = Date.parse(`${entry!.endOfSupportAt}T00:00:00Z`) - now.getTime();
  if (!staysOnMinor && (state === 'deprecated' || endsIn <= policy.endOfSupportLeadDays * DAY_MS) && nextUsable) {
    return {
      reason: 'end_of_support_near',
      target: nextUsable.latestPatch,
      minor: true,
      detail: `Kubernetes ${entry!.minor} reaches end of support on ${entry!.endOfSupportAt}`,
    };
  }
  if (comparePatchesLoose(entry!.latestPatch, cluster.controlPlaneVersion) > 0) {
    return { reason: 'patch', target: entry!.latestPatch, minor: false, detail: `patch ${entry!.latestPatch} of ${entry!.minor} is available` };
  }
  return null;
}

/**
 * Production or not, from the cluster's `environment` label (docs/upgrades.md, "Staged rollouts").
 * A cluster without the label counts as production: an unlabelled cluster may well serve customers,
 * so it waits for the evidence the non-production waves give.
 */
export function isProductionCluster(labels: Readonly<Record<string, string>>): boolean {
  const env = labels.environment?.trim().toLowerCase();
  return env === undefined || env === '' || env === 'production' || env === 'prod';
}

/** Whether an exclusion of `scope` forbids this work (docs/upgrades.md, "Upgrade plans"). */
export function exclusionCovers(scope: ExclusionScope, work: { minor: boolean }): boolean {
  // Fleet upgrades always touch the node pools, so no_minor_or_node_upgrades covers a patch too.
  return scope === 'no_upgrades' || scope === 'no_minor_or_node_upgrades' || (scope === 'no_minor_upgrades' && work.minor);
}

/**
 * The first occurrence of the window that starts at or after `notBefore` and overlaps no
 * exclusion covering the work, or null within the occurrences given.
 */
export function plannedSlot(
  windowOccurrences: readonly WindowOccurrence[],
  exclusions: FleetCluster['exclusions'],
  work: { minor: boolean },
  notBefore: Date,
): WindowOccurrence | null {
  const blocking = exclusions.filter((e) => exclusionCovers(e.scope, work));
  for (const o of windowOccurrences) {
    if (o.startsAt < notBefore) continue;
    if (blocking.some((e) => e.startsAt < o.endsAt && o.startsAt < e.endsAt)) continue;
    return o;
  }
  return null;
}

export type WaveTier = 'non_production' | 'production';

export interface PlannedClusterUpgrade {
  clusterId: string;
  organizationId: string;
  from: string;
  need: UpgradeNeed;
  slot: WindowOccurrence;
}

export interface PlannedWave {
  index: number;
  tier: WaveTier;
  /** No cluster of this wave starts before this (the previous wave's last window, plus the soak). */
  notBefore: Date;
  clusters: PlannedClusterUpgrade[];
}

export interface UnplannedCluster {
  clusterId: string;
  organizationId: string;
  need: UpgradeNeed;
  reason: string;
}

export interface RolloutPlan {
  waves: PlannedWave[];
  unplanned: UnplannedCluster[];
}

/**
 * Waves: non-production clusters first, then production, each tier cut into waves of at most
 * `maxWaveSize`. Every cluster runs in its own window, at the first occurrence that starts after
 * the announcement lead and after the previous wave's last window plus the soak time, and that no
 * exclusion covering the work overlaps. A cluster with no usable window (none set, or none within
 * the horizon) is not planned and says why.
 */
export function planRollout(
  clusters: readonly (FleetCluster & { need: UpgradeNeed })[],
  now: Date,
  policy: FleetPolicy = DEFAULT_FLEET_POLICY,
  windows = new BulkOccurrences(now, new Date(now.getTime() + policy.horizonDays * DAY_MS)),
): RolloutPlan {
  const unplanned: UnplannedCluster[] = [];
  const byTier: Record<WaveTier, (FleetCluster & { need: UpgradeNeed })[]> = { non_production: [], production: [] };
  for (const c of clusters) {
    if (!c.window) {
      unplanned.push({ clusterId: c.id, organizationId: c.organizationId, need: c.need, reason: 'the cluster has no usable maintenance window' });
      continue;
    }
    byTier[isProductionCluster(c.labels) ? 'production' : 'non_production'].push(c);
  }
  const waves: PlannedWave[] = [];
  let notBefore = new Date(now.getTime() + policy.announceLeadMs);
  for (const tier of ['non_production', 'production'] as const) {
    const members = [...byTier[tier]].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (let i = 0; i < members.length; i += policy.maxWaveSize) {
      const planned: PlannedClusterUpgrade[] = [];
      for (const c of members.slice(i, i + policy.maxWaveSize)) {
        const blocking = c.exclusions.filter((e) => exclusionCovers(e.scope, c.need));
        const slot = windows.first(c.window!, notBefore, (o) => !blocking.some((e) => e.startsAt < o.endsAt && o.startsAt < e.endsAt));
        if (slot) planned.push({ clusterId: c.id, organizationId: c.organizationId, from: c.controlPlaneVersion, need: c.need, slot });
        else
          unplanned.push({
            clusterId: c.id,
            organizationId: c.organizationId,
            need: c.need,
            reason: `no window occurrence free of exclusions within ${policy.horizonDays} days`,
          });
      }
      if (planned.length === 0) continue;
      waves.push({ index: waves.length, tier, notBefore, clusters: planned });
      const lastEnd = Math.max(...planned.map((p) => p.slot.endsAt.getTime()));
      notBefore = new Date(lastEnd + policy.soakMs);
    }
  }
  return { waves, unplanned };
}

export type RolloutClusterState = 'planned' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface WaveClusterOutcome {
  clusterId: string;
  state: RolloutClusterState;
  /** New downtime in the cluster's probes since its upgrade started (read from the SLA monitor). */
  downSinceUpgrade: boolean;
}

export type WaveVerdict =
  | { verdict: 'in_progress'; unhealthy: number; total: number }
  | { verdict: 'healthy'; unhealthy: number; total: number }
  | { verdict: 'halt'; unhealthy: number; total: number; reason: string };

/**
 * Whether a wave lets the next one go. A cluster is unhealthy when its upgrade failed, or when it
 * succeeded but its probes saw new downtime since the upgrade started. The wave halts the rollout
 * as soon as the unhealthy share of the wave exceeds `maxFailureRate` (no need to wait for the
 * rest); it is healthy once every cluster is done (skipped clusters do not count) within the rate.
 */
export function evaluateWave(outcomes: readonly WaveClusterOutcome[], maxFailureRate: number): WaveVerdict {
  const counted = outcomes.filter((o) => o.state !== 'skipped');
  const total = counted.length;
  const failed = counted.filter((o) => o.state === 'failed');
  const down = counted.filter((o) => o.state === 'succeeded' && o.downSinceUpgrade);
  const unhealthy = failed.length + down.length;
  if (total > 0 && unhealthy / total > maxFailureRate) {
    const parts = [];
    if (failed.length > 0) parts.push(`${failed.length} upgrade(s) failed (${failed.map((o) => o.clusterId).join(', ')})`);
    if (down.length > 0) parts.push(`${down.length} cluster(s) had downtime after upgrading (${down.map((o) => o.clusterId).join(', ')})`);
    return {
      verdict: 'halt',
      unhealthy,
      total,
      reason: `${unhealthy} of ${total} clusters of the wave are unhealthy, above the ${Math.round(maxFailureRate * 100)}% threshold: ${parts.join('; ')}`,
    };
  }
  const done = counted.every((o) => o.state === 'succeeded' || o.state === 'failed');
  return { verdict: done ? 'healthy' : 'in_progress', unhealthy, total };
}

/** Patch order, a bare minor ("1.35") being its .0 patch. */
function comparePatchesLoose(a: string, b: string): number {
  const full = (v: string) => (/^v?\d+\.\d+$/.test(v) ? `${v}.0` : v);
  return comparePatches(full(a), full(b));
}
