/**
 * Per-organisation limits on clusters and nodes (the `max_clusters` / `max_nodes` columns of an
 * organisation), checked before any operation that adds either.
 */
import { UnprocessableError } from '../errors/domain-error';

export interface Quota {
  maxClusters: number;
  maxNodes: number;
}

export interface Usage {
  clusters: number;
  nodes: number;
}

type Dimension = { quota: 'clusters' | 'nodes'; limit: number; usage: number; requested: number };

/**
 * Refuses a request that would take the organisation over a quota, naming the quota, its limit,
 * the usage and the amount asked for. Only additions are checked: a request that removes or keeps
 * capacity is always allowed, so an organisation already over a lowered quota can still shrink.
 * Clusters are checked before nodes, so the error names the quota that a new cluster trips first.
 *
 * `action` starts the sentence, e.g. "creating this cluster" or "scaling node pool np_1".
 */
export function assertWithinQuota(quota: Quota, usage: Usage, adding: { clusters?: number; nodes?: number }, action = 'this request'): void {
  const dimensions: Dimension[] = [
    { quota: 'clusters', limit: quota.maxClusters, usage: usage.clusters, requested: adding.clusters ?? 0 },
    { quota: 'nodes', limit: quota.maxNodes, usage: usage.nodes, requested: adding.nodes ?? 0 },
  ];
  for (const d of dimensions) {
    // NaN would compare false and silently pass; a bad count is a bug, not a customer error.
    if ([d.limit, d.usage, d.requested].some(Number.isNaN)) throw new RangeError(`quota check on ${d.quota} got NaN`);
    if (d.requested <= 0 || d.usage + d.requested <= d.limit) continue;

    const unit = (n: number) => `${n} ${n === 1 ? d.quota.replace(/s$/, '') : d.quota}`;
    throw new UnprocessableError(
      'quota-exceeded',
      `${action} would use ${unit(d.usage + d.requested)}; the organisation's quota is ${unit(d.limit)} and ${d.usage} ${d.usage === 1 ? 'is' : 'are'} in use`,
      { quota: d.quota, limit: d.limit, usage: d.usage, requested: d.requested },
    );
  }
}
