import { type Exclusion, type MonthRange, NotFoundError, type StateInterval } from '@capstan/domain';
import { type db, Prisma, PrismaService } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/** What a report needs of its cluster. Deleted clusters included: their past months still owe credits. */
export interface SlaCluster {
  id: string;
  organizationId: string;
  name: string;
  provider: db.Provider;
  monthlyFeeCents: number;
  currency: string;
  createdAt: Date;
  deletedAt: Date | null;
}

export interface StoredSlaReport {
  clusterId: string;
  month: string;
  final: boolean;
  computedAt: Date;
  details: Prisma.JsonValue;
}

/** The columns of a frozen report, besides its keys (see the `SlaReport` model). */
export interface SlaReportColumns {
  organizationId: string;
  slaVersion: string;
  targetPercent: number;
  availability: number;
  downtimeMinutes: number;
  excludedMinutes: number;
  unknownMinutes: number;
  breached: boolean;
  creditPercent: number;
  creditAmountCents: number;
  details: Prisma.InputJsonValue;
  computedAt: Date;
}

const SLA_CLUSTER = {
  id: true,
  organizationId: true,
  name: true,
  provider: true,
  monthlyFeeCents: true,
  currency: true,
  createdAt: true,
  deletedAt: true,
} satisfies Prisma.ClusterSelect;

const SUSPEND = 'organization.suspend';
const RESUME = 'organization.resume';

/**
 * Reads and writes behind SLA reports. Cluster lookups take the caller's organisation (undefined
 * only for staff), so another organisation's cluster is simply not found.
 */
@Injectable()
export class SlaReportsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async cluster(organizationId: string | undefined, clusterId: string): Promise<SlaCluster> {
    const cluster = await this.prisma.cluster.findFirst({ where: { id: clusterId, organizationId }, select: SLA_CLUSTER });
    if (!cluster) throw new NotFoundError('cluster', clusterId);
    return cluster;
  }

  /** Clusters that existed at some moment of `range`, by id; `limit + 1` rows when a limit is given. */
  clustersPresentIn(filter: { organizationId?: string; after?: string }, range: MonthRange, limit?: number): Promise<SlaCluster[]> {
    return this.prisma.cluster.findMany({
      where: {
        organizationId: filter.organizationId,
        createdAt: { lt: range.end },
        OR: [{ deletedAt: null }, { deletedAt: { gt: range.start } }],
        ...(filter.after ? { id: { gt: filter.after } } : {}),
      },
      select: SLA_CLUSTER,
      orderBy: { id: 'asc' },
      ...(limit !== undefined ? { take: limit + 1 } : {}),
    });
  }

  /**
   * Each vantage point's intervals overlapping `range`. A row covers `[startedAt, endedAt)`: endedAt is
   * the last probe that confirmed the state, so what follows it is a gap (unknown) until the next row.
   */
  async intervalsByVantage(clusterId: string, range: MonthRange): Promise<StateInterval[][]> {
    const rows = await this.prisma.availabilityInterval.findMany({
      where: { clusterId, startedAt: { lt: range.end }, endedAt: { gt: range.start } },
      select: { vantage: true, state: true, startedAt: true, endedAt: true },
      orderBy: [{ vantage: 'asc' }, { startedAt: 'asc' }],
    });
    const byVantage = new Map<string, StateInterval[]>();
    for (const row of rows) {
      const list = byVantage.get(row.vantage) ?? [];
      list.push({ state: row.state, start: row.startedAt, end: row.endedAt });
      byVantage.set(row.vantage, list);
    }
    return [...byVantage.values()];
  }

  /**
   * Operations the customer asked for (requested with an API token) that ran during `range`: from
   * start to finish, or to `now` while still running. An operation that never started has no window.
   */
  async customerOperations(clusterId: string, range: MonthRange, now: Date): Promise<Exclusion[]> {
    const rows = await this.prisma.operation.findMany({
      where: {
        clusterId,
        requestedByType: 'api_token',
        startedAt: { not: null, lt: range.end },
        OR: [{ finishedAt: null }, { finishedAt: { gt: range.start } }],
      },
      select: { id: true, startedAt: true, finishedAt: true },
      orderBy: { startedAt: 'asc' },
    });
    return rows
      .map((op) => ({ start: op.startedAt!, end: op.finishedAt ?? now, reason: 'customer_initiated' as const, reference: op.id }))
      .filter((x) => x.end.getTime() > x.start.getTime());
  }

  /**
   * The organisation's suspensions from the audit log: each `organization.suspend` up to the next
   * `organization.resume` (or `now` while still suspended), referenced by the suspend event's id.
   */
  async suspensions(organizationId: string, range: MonthRange, now: Date): Promise<Exclusion[]> {
    const events = await this.prisma.auditEvent.findMany({
      where: { organizationId, action: { in: [SUSPEND, RESUME] }, createdAt: { lt: range.end } },
      select: { id: true, action: true, createdAt: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const periods: Exclusion[] = [];
    let open: { id: string; at: Date } | undefined;
    for (const event of events) {
      if (event.action === SUSPEND && !open) open = { id: event.id, at: event.createdAt };
      if (event.action === RESUME && open) {
        periods.push({ start: open.at, end: event.createdAt, reason: 'organization_suspended', reference: open.id });
        open = undefined;
      }
    }
    // Still suspended at the end of the events read: open until now (or the next resume after the month).
    if (open) periods.push({ start: open.at, end: new Date(Math.max(now.getTime(), open.at.getTime())), reason: 'organization_suspended', reference: open.id });
    return periods.filter((p) => p.end.getTime() > range.start.getTime());
  }

  stored(clusterIds: readonly string[], month: string): Promise<StoredSlaReport[]> {
    return this.prisma.slaReport.findMany({
      where: { clusterId: { in: [...clusterIds] }, month },
      select: { clusterId: true, month: true, final: true, computedAt: true, details: true },
    });
  }

  /**
   * Stores a final report unless one is stored already, and returns whichever is stored: when two
   * requests freeze the same month at once, the first insert wins and both serve its numbers. A
   * non-final row (a live report someone cached) is replaced.
   */
  async freeze(clusterId: string, month: string, columns: SlaReportColumns): Promise<StoredSlaReport> {
    const row = { clusterId, month, final: true, ...columns };
    await this.prisma.slaReport.createMany({ data: [row], skipDuplicates: true });
    await this.prisma.slaReport.updateMany({ where: { clusterId, month, final: false }, data: { ...columns, final: true } });
    return this.prisma.slaReport.findUniqueOrThrow({
      where: { clusterId_month: { clusterId, month } },
      select: { clusterId: true, month: true, final: true, computedAt: true, details: true },
    });
  }
}
