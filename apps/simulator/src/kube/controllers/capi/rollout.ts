import { createHash } from 'node:crypto';

/**
 * The arithmetic of a MachineDeployment's RollingUpdate, as Cluster API does it (the same as a
 * Deployment's): the new MachineSet grows while the total stays within `replicas + maxSurge`, and
 * old MachineSets shrink while at least `replicas - maxUnavailable` machines stay available.
 * Pure, so the fence posts are tested without a cluster.
 */
export interface MachineSetCounts {
  name: string;
  /** `spec.replicas`: what the set is asked to hold. */
  desired: number;
  /** Machines Running with a Ready node. */
  available: number;
}

export interface RolloutPlan {
  /** The new `spec.replicas` of each MachineSet that changes. */
  scale: Map<string, number>;
}

export interface Fenceposts {
  maxSurge: number;
  maxUnavailable: number;
}

/** `maxSurge` rounds up and `maxUnavailable` down from percentages; both zero would stall, so unavailable becomes 1 (upstream's `ResolveFenceposts`). */
export function resolveFenceposts(replicas: number, maxSurge: unknown, maxUnavailable: unknown): Fenceposts {
  const surge = scaledValue(maxSurge ?? 1, replicas, true);
  const unavailable = scaledValue(maxUnavailable ?? 0, replicas, false);
  if (surge === 0 && unavailable === 0) return { maxSurge: 0, maxUnavailable: 1 };
  return { maxSurge: surge, maxUnavailable: unavailable };
}

function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return Math.max(0, Math.floor(value));
  if (typeof value === 'string') {
    const percent = /^(\d+)%$/.exec(value);
    if (percent) {
      const scaled = (Number(percent[1]) * total) / 100;
      return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
    }
    if (/^\d+$/.test(value)) return Number(value);
  }
  return roundUp ? 1 : 0;
}

export function planRollingUpdate(replicas: number, fenceposts: Fenceposts, newSet: MachineSetCounts, oldSets: MachineSetCounts[]): RolloutPlan {
  const scale = new Map<string, number>();
  const all = [newSet, ...oldSets];
  const totalDesired = sum(all.map((s) => s.desired));

  // The new set grows within the surge allowance (or shrinks to a lowered replica count).
  let newDesired = newSet.desired;
  if (newDesired > replicas) newDesired = replicas;
  else if (totalDesired < replicas + fenceposts.maxSurge) newDesired = Math.min(replicas, newDesired + (replicas + fenceposts.maxSurge - totalDesired));
  if (newDesired !== newSet.desired) scale.set(newSet.name, newDesired);

  // Old sets shrink while enough stays available: first the machines that are not available
  // anyway, then available ones, oldest set first.
  const minAvailable = replicas - fenceposts.maxUnavailable;
  const newUnavailable = Math.max(0, newSet.desired - newSet.available);
  const maxScaledDown = totalDesired - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return { scale };
  const oldDesired = new Map(oldSets.map((s) => [s.name, s.desired]));
  let cleaned = 0;
  for (const set of oldSets) {
    const cut = Math.min(maxScaledDown - cleaned, Math.max(0, set.desired - set.available));
    if (cut <= 0) continue;
    oldDesired.set(set.name, set.desired - cut);
    cleaned += cut;
  }
  const available = sum(all.map((s) => s.available));
  let scaleDown = available - minAvailable;
  for (const set of oldSets) {
    if (scaleDown <= 0) break;
    const current = oldDesired.get(set.name)!;
    const cut = Math.min(current, scaleDown);
    oldDesired.set(set.name, current - cut);
    scaleDown -= cut;
  }
  for (const set of oldSets) {
    const next = oldDesired.get(set.name)!;
    if (next !== set.desired) scale.set(set.name, next);
  }
  return { scale };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * The MachineSet name for a MachineDeployment's template: the deployment's name and a hash of the
 * template's spec, so that two simulators reconciling at once pick the same name and a template
 * change (version, bootstrap or infrastructure template) makes a new set.
 */
export function templateHash(templateSpec: unknown): string {
  return createHash('sha256').update(stableJson(templateSpec)).digest('hex').slice(0, 10);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A machine name like upstream's (`<owner>-<5 random characters>`), derived from the owner and a
 * slot number instead of chance: concurrent reconciles of the same gap choose the same name, and
 * the second create answers AlreadyExists instead of making an extra machine.
 */
export function machineName(owner: string, slot: number): string {
  const digest = createHash('sha256').update(`${owner}/${slot}`).digest();
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[digest[i]! % SUFFIX_ALPHABET.length];
  return `${owner.slice(0, 57)}-${suffix}`;
}
