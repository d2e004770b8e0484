/**
 * Rolling-replacement settings of a node pool and the node count it is charged against quota.
 * Surge per pool follows Cluster API / GKE surge upgrades (docs/upgrades.md, "Version skew").
 */
import { FieldViolation, ValidationError } from '../errors/domain-error';

export const DEFAULT_MAX_SURGE = 1;
export const DEFAULT_MAX_UNAVAILABLE = 0;

/**
 * Refuses surge settings that could never make progress: with maxSurge 0 and maxUnavailable 0 no
 * node may be added and none taken away, so a rolling upgrade would stall (Cluster API's RollingUpdate: maxSurge and maxUnavailable are never both 0).
 */
export function validateSurge(maxSurge: number, maxUnavailable: number): void {
  const violations: FieldViolation[] = [];
  for (const [field, value] of [
    ['max_surge', maxSurge],
    ['max_unavailable', maxUnavailable],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) violations.push({ field, message: `must be a whole number of nodes, 0 or more; got ${value}` });
  }
  if (violations.length === 0 && maxSurge === 0 && maxUnavailable === 0) {
    violations.push({
      field: 'max_surge',
      message: 'max_surge and max_unavailable cannot both be 0: an upgrade could then neither add a node nor take one out of service',
    });
  }
  if (violations.length > 0) throw new ValidationError(violations);
}

/**
 * Refuses autoscaling bounds that are half set, negative or inverted, and a fixed count outside them.
 * Fields are the API's (`autoscale_min`, `autoscale_max`, `node_count`).
 */
export function validateNodePoolSize(pool: { nodeCount: number; autoscaleMin?: number | null; autoscaleMax?: number | null }): void {
  const violations: FieldViolation[] = [];
  const { nodeCount } = pool;
  const min = pool.autoscaleMin ?? null;
  const max = pool.autoscaleMax ?? null;
  const whole = (field: string, v: number) => {
    if (!Number.isInteger(v) || v < 0) violations.push({ field, message: `must be a whole number of nodes, 0 or more; got ${v}` });
  };
  whole('node_count', nodeCount);
  if (min !== null) whole('autoscale_min', min);
  if (max !== null) whole('autoscale_max', max);
  if ((min === null) !== (max === null)) {
    violations.push({ field: min === null ? 'autoscale_min' : 'autoscale_max', message: 'autoscaling needs both autoscale_min and autoscale_max' });
  } else if (min !== null && max !== null && violations.length === 0) {
    if (min > max) violations.push({ field: 'autoscale_min', message: `autoscale_min (${min}) is greater than autoscale_max (${max})` });
    else if (nodeCount < min || nodeCount > max) {
      violations.push({ field: 'node_count', message: `node_count (${nodeCount}) must be between autoscale_min (${min}) and autoscale_max (${max})` });
    }
  }
  if (violations.length > 0) throw new ValidationError(violations);
}

/**
 * Nodes a pool counts against the organisation's quota: an autoscaling pool may grow to its maximum
 * without asking again, so it is charged the maximum (never less than its current count).
 */
export function nodeCountOf(pool: { nodeCount: number; autoscaleMin?: number | null; autoscaleMax?: number | null }): number {
  return pool.autoscaleMax != null ? Math.max(pool.nodeCount, pool.autoscaleMax) : pool.nodeCount;
}
