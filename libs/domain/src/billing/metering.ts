/**
 * Metering (docs/billing.md, "Metering"): what a cluster used, as intervals derived from the
 * facts Capstan records of it. A resource at one quantity over `[start, end)`, `end` null while it
 * still runs; a change closes one interval at the instant it took effect and opens the next.
 */
import { Money } from './money';
import type { UsageKind } from './price-catalogue';

export interface UsageInterval {
  organizationId: string;
  clusterId: string;
  kind: UsageKind;
  resourceId: string;
  sku: string;
  /** Exact decimal: nodes, GiB, or 1. */
  quantity: string;
  start: Date;
  end: Date | null;
}

/** A change of a pool's size, at the instant it took effect, with the size it replaced. */
export interface PoolResize {
  at: Date;
  previousNodeCount: number;
}

export interface MeteredPool {
  id: string;
  machineType: string;
  /** When the pool first ran (its creation succeeded); null if it never did. */
  startedAt: Date | null;
  /** When it was deleted; null while it exists. */
  endedAt: Date | null;
  /** The size it has now (after the last resize). */
  nodeCount: number;
  resizes: PoolResize[];
}

export interface MeteredBackup {
  id: string;
  sizeBytes: bigint;
  /** Stored from (the backup completed). */
  startedAt: Date;
  /** No longer stored (expired or deleted); null while kept. */
  endedAt: Date | null;
}

export interface MeteredAddon {
  name: string;
  startedAt: Date;
  endedAt: Date | null;
}

/** What metering needs to know of one cluster (read through billing's facts port). */
export interface ClusterMeteringFacts {
  id: string;
  organizationId: string;
  provider: string;
  /** When the cluster's creation succeeded; null if it never ran (nothing is billed). */
  runningFrom: Date | null;
  /** When it was deleted; null while it exists. */
  endedAt: Date | null;
  pools: MeteredPool[];
  addons: MeteredAddon[];
  backups: MeteredBackup[];
}

const BYTES_PER_GIB = 1024 ** 3;
/** A backup's size in GiB keeps 9 places (about a byte), the precision `usage_intervals.quantity` stores. */
const GIB_PLACES = 9;

/**
 * The cluster's usage intervals: its management fee over its lifetime, each pool's node count per
 * machine type over time, its add-ons and its backups' storage. Usage ends with the cluster
 * whatever a child says. A resize takes effect when the operation applying it succeeded: until
 * then the pool is billed at the size it had (docs/billing.md, "When a change counts").
 */
export function meterCluster(facts: ClusterMeteringFacts): UsageInterval[] {
  const from = facts.runningFrom;
  if (!from) return [];
  const until = facts.endedAt;
  const base = { organizationId: facts.organizationId, clusterId: facts.id };
  const intervals: UsageInterval[] = [{ ...base, kind: 'cluster_fee', resourceId: facts.id, sku: facts.provider, quantity: '1', start: from, end: until }];

  for (const pool of facts.pools) {
    const span = clip(pool.startedAt, pool.endedAt, from, until);
    if (!span) continue;
    for (const segment of poolSegments(pool, span)) {
      intervals.push({
        ...base,
        kind: 'node',
        resourceId: pool.id,
        sku: pool.machineType,
        quantity: String(segment.nodes),
        start: segment.start,
        end: segment.end,
      });
    }
  }
  for (const addon of facts.addons) {
    const span = clip(addon.startedAt, addon.endedAt, from, until);
    if (span) intervals.push({ ...base, kind: 'addon', resourceId: `${facts.id}/${addon.name}`, sku: addon.name, quantity: '1', ...span });
  }
  for (const backup of facts.backups) {
    const span = clip(backup.startedAt, backup.endedAt, from, null);
    if (!span || backup.sizeBytes <= 0n) continue;
    const gib = new Money(backup.sizeBytes.toString()).dividedBy(BYTES_PER_GIB).toDecimalPlaces(GIB_PLACES, Money.ROUND_HALF_UP);
    // A backup is storage kept for the customer: it is billed while kept, also after its cluster is gone.
    intervals.push({ ...base, kind: 'backup_storage', resourceId: backup.id, sku: 'backup', quantity: gib.toFixed(), ...span });
  }
  return intervals;
}

/** `[start, end)` within `[from, until)`, or null when empty or never started. */
function clip(start: Date | null, end: Date | null, from: Date, until: Date | null): { start: Date; end: Date | null } | null {
  if (!start) return null;
  const s = new Date(Math.max(start.getTime(), from.getTime()));
  const ends = [end, until].filter((d): d is Date => d !== null).map((d) => d.getTime());
  const e = ends.length > 0 ? new Date(Math.min(...ends)) : null;
  if (e && e.getTime() <= s.getTime()) return null;
  return { start: s, end: e };
}

/**
 * The pool's sizes over `span`: before its first resize it had that resize's previous size, after
 * the last one its current size. Equal neighbours merge; zero-node stretches bill nothing.
 */
function poolSegments(pool: MeteredPool, span: { start: Date; end: Date | null }): { start: Date; end: Date | null; nodes: number }[] {
  const resizes = [...pool.resizes].sort((a, b) => a.at.getTime() - b.at.getTime());
  const points: { at: Date; nodes: number }[] = [];
  resizes.forEach((resize, i) => {
    const after = resizes[i + 1]?.previousNodeCount ?? pool.nodeCount;
    points.push({ at: resize.at, nodes: after });
  });
  let nodes = resizes[0]?.previousNodeCount ?? pool.nodeCount;
  let start = span.start;
  const segments: { start: Date; end: Date | null; nodes: number }[] = [];
  for (const point of points) {
    if (point.at.getTime() <= span.start.getTime()) {
      nodes = point.nodes;
      continue;
    }
    if (span.end && point.at.getTime() >= span.end.getTime()) break;
    if (point.nodes === nodes) continue;
    segments.push({ start, end: point.at, nodes });
    start = point.at;
    nodes = point.nodes;
  }
  segments.push({ start, end: span.end, nodes });
  return segments.filter((s) => s.nodes > 0);
}

/** A cluster as Capstan records it: its rows and the operations that changed it. */
export interface RecordedCluster {
  id: string;
  organizationId: string;
  name: string;
  provider: string;
  region: string;
  createdAt: Date;
  deletedAt: Date | null;
  pools: { id: string; machineType: string; nodeCount: number; createdAt: Date; deletedAt: Date | null }[];
  backups: { id: string; sizeBytes: bigint | null; status: string; completedAt: Date | null; expiresAt: Date | null }[];
  /** Its operations that create or resize (create_cluster, create_node_pool, scale_node_pool, update_node_pool). */
  operations: {
    type: string;
    status: string;
    targetId: string;
    finishedAt: Date | null;
    previousNodeCount: number | null;
    /** For `update_addons`: the add-on installed or removed, with its tier. */
    addon?: { name: string; action: 'install' | 'remove'; tier: string } | null;
  }[];
}

const RESIZES = new Set(['scale_node_pool', 'update_node_pool']);

/**
 * The metering facts of a recorded cluster (docs/billing.md, "When a change counts"): it runs
 * from its successful creation; a pool created with it runs from then, a pool added later from
 * its own successful creation; a resize counts from the success of the operation that applied it,
 * with the size it replaced from that operation's parameters; a backup is stored from its
 * completion until it expires (a deleted backup records no instant of deletion, so it is not metered).
 */
export function meteringFactsOf(cluster: RecordedCluster): ClusterMeteringFacts {
  const succeeded = cluster.operations.filter((op) => op.status === 'succeeded' && op.finishedAt !== null);
  const created = succeeded.find((op) => op.type === 'create_cluster');
  const runningFrom = created?.finishedAt ?? null;
  const pools: MeteredPool[] = cluster.pools.map((pool) => {
    const ownCreate = cluster.operations.filter((op) => op.type === 'create_node_pool' && op.targetId === pool.id);
    const startedAt = ownCreate.length > 0 ? (ownCreate.find((op) => op.status === 'succeeded')?.finishedAt ?? null) : runningFrom;
    const resizes = succeeded
      .filter((op) => RESIZES.has(op.type) && op.targetId === pool.id && op.previousNodeCount !== null)
      .map((op) => ({ at: op.finishedAt!, previousNodeCount: op.previousNodeCount! }));
    return { id: pool.id, machineType: pool.machineType, startedAt, endedAt: pool.deletedAt, nodeCount: pool.nodeCount, resizes };
  });
  const backups: MeteredBackup[] = cluster.backups
    .filter((b) => b.completedAt !== null && b.sizeBytes !== null && ['succeeded', 'expired'].includes(b.status))
    .map((b) => ({ id: b.id, sizeBytes: b.sizeBytes!, startedAt: b.completedAt!, endedAt: b.expiresAt }));
  return {
    id: cluster.id,
    organizationId: cluster.organizationId,
    provider: cluster.provider,
    runningFrom,
    endedAt: cluster.deletedAt,
    pools,
    addons: addonPeriods(succeeded),
    backups,
  };
}

/**
 * Optional add-ons are billed per add-on-hour from the success of the operation that installed
 * them until the success of the one that removed them (docs/billing.md, "Add-ons"); a settings
 * change of a running add-on neither starts nor ends a period. Always-on and default add-ons are
 * part of the cluster fee.
 */
function addonPeriods(succeeded: RecordedCluster['operations']): MeteredAddon[] {
  const open = new Map<string, Date>();
  const periods: MeteredAddon[] = [];
  const changes = succeeded
    .filter((op) => op.type === 'update_addons' && op.addon?.tier === 'optional')
    .sort((a, b) => a.finishedAt!.getTime() - b.finishedAt!.getTime());
  for (const op of changes) {
    const { name, action } = op.addon!;
    if (action === 'install' && !open.has(name)) open.set(name, op.finishedAt!);
    if (action === 'remove' && open.has(name)) {
      periods.push({ name, startedAt: open.get(name)!, endedAt: op.finishedAt! });
      open.delete(name);
    }
  }
  for (const [name, startedAt] of open) periods.push({ name, startedAt, endedAt: null });
  return periods;
}
