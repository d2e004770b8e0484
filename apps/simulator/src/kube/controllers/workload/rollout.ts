/**
 * The Deployment controller's arithmetic (Kubernetes docs "Deployments", rolling update with
 * maxSurge / maxUnavailable), free of I/O: one step of a rollout at a time, as upstream takes it.
 * Scale the new ReplicaSet up within the surge; failing that, scale old ones down (unhealthy
 * replicas first, oldest ReplicaSets first) without going under the minimum available.
 */

export interface ReplicaSetState {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  /** creationTimestamp, for oldest-first ordering */
  created: string;
}

export interface RolloutSettings {
  replicas: number;
  strategy: 'RollingUpdate' | 'Recreate';
  maxSurge: number | string;
  maxUnavailable: number | string;
}

/** The ReplicaSets whose `spec.replicas` should change, by name, to what. Empty when nothing to do now. */
export type ScaleStep = Map<string, number>;

export function scaledValue(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return Number.parseInt(value, 10) || 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge rounds up and maxUnavailable down; both zero would stall, so maxUnavailable becomes 1. */
export function fenceposts(settings: RolloutSettings): { surge: number; unavailable: number } {
  if (settings.strategy !== 'RollingUpdate') return { surge: 0, unavailable: settings.replicas };
  const surge = scaledValue(settings.maxSurge, settings.replicas, true);
  let unavailable = scaledValue(settings.maxUnavailable, settings.replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, settings.replicas) };
}

export function maxUnavailable(settings: RolloutSettings): number {
  if (settings.strategy !== 'RollingUpdate' || settings.replicas === 0) return 0;
  return fenceposts(settings).unavailable;
}

export function planRollingStep(settings: RolloutSettings, fresh: ReplicaSetState, old: ReplicaSetState[]): ScaleStep {
  const step: ScaleStep = new Map();
  const all = [...old, fresh];
  const total = sum(all, (rs) => rs.replicas);

  if (fresh.replicas > settings.replicas) {
    step.set(fresh.name, settings.replicas);
    return step;
  }
  if (fresh.replicas < settings.replicas) {
    const { surge } = fenceposts(settings);
    const room = settings.replicas + surge - total;
    if (room > 0) {
      step.set(fresh.name, fresh.replicas + Math.min(room, settings.replicas - fresh.replicas));
      return step;
    }
  }

  if (sum(old, (rs) => rs.replicas) === 0) return step;
  const minAvailable = settings.replicas - maxUnavailable(settings);
  const freshUnavailable = fresh.replicas - fresh.available;
  const maxScaledDown = total - minAvailable - freshUnavailable;
  if (maxScaledDown <= 0) return step;

  const oldest = [...old].sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
  const replicas = new Map(oldest.map((rs) => [rs.name, rs.replicas]));
  let cleaned = 0;
  for (const rs of oldest) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = rs.replicas - rs.available;
    if (rs.replicas === 0 || unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    replicas.set(rs.name, rs.replicas - down);
    cleaned += down;
  }

  const available = sum(all, (rs) => rs.available);
  let allowed = available - minAvailable;
  for (const rs of oldest) {
    if (allowed <= 0) break;
    const current = replicas.get(rs.name)!;
    if (current === 0) continue;
    const down = Math.min(current, allowed);
    replicas.set(rs.name, current - down);
    allowed -= down;
  }
  for (const rs of oldest) if (replicas.get(rs.name) !== rs.replicas) step.set(rs.name, replicas.get(rs.name)!);
  return step;
}

/** Recreate: every old pod gone before the new ReplicaSet gets any. */
export function planRecreateStep(settings: RolloutSettings, fresh: ReplicaSetState, old: ReplicaSetState[], oldPodsRunning: number): ScaleStep {
  const step: ScaleStep = new Map();
  for (const rs of old) if (rs.replicas > 0) step.set(rs.name, 0);
  if (step.size > 0 || oldPodsRunning > 0) return step;
  if (fresh.replicas !== settings.replicas) step.set(fresh.name, settings.replicas);
  return step;
}

function sum<T>(items: T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
