import { computeSlaReport, type Exclusion, type MonthlySlaReport, monthRange, type MonthRange, reportTimeline, UnprocessableError } from '@capstan/domain';
import { Clock, decodeCursor, encodeCursor, type Page } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type SlaCluster, SlaReportsRepository, type StoredSlaReport } from './sla-reports.repository';

/**
 * A month is frozen once it ended at least this long ago. The monitor closes an interval only at
 * the next probe and may deliver a vantage point's last results late, so the final minutes of a
 * month are not settled the instant it ends.
 */
export const SLA_FREEZE_GRACE_MS = 60 * 60 * 1000;

/**
 * The reference of the exclusions that take out the minutes of the month before the cluster was
 * created and after it was deleted. The domain's reasons are a closed, contractual list, and
 * "not provisioned" is not on it; these minutes are excluded as `customer_initiated` because the
 * customer chose when to create and delete the cluster. The effect is the rule of the EKS SLA
 * ("if you have been running the cluster for only part of the month, it is assumed to be 100%
 * available for the portion of the month that it was not running"): with the report's
 * whole-month formula, excluded minutes can never count as downtime and never lower availability.
 */
export const CLUSTER_NOT_PRESENT = 'cluster-not-present';

/** One cluster's report for one month, with what billing and the views need around it. */
export interface ClusterSlaReport {
  cluster: SlaCluster;
  /** Frozen in sla_reports: served as stored from now on. */
  final: boolean;
  computedAt: Date;
  report: MonthlySlaReport;
}

/**
 * What `sla_reports.details` holds: the report as computed. Reports frozen before billing owned
 * money also held the cluster's currency; the fee and the credit amount were taken out of them by
 * the migration that restated them (docs/billing.md, "From fees on clusters to prices").
 */
type StoredDetails = MonthlySlaReport & { currency?: string };

export interface SlaListFilter {
  organizationId?: string;
}

@Injectable()
export class SlaReportsService {
  constructor(
    private readonly repository: SlaReportsRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * The report of `clusterId` for `month` (`YYYY-MM`, UTC) as of `now`. A month that ended at least
   * {@link SLA_FREEZE_GRACE_MS} before `now` is frozen the first time it is asked for and served
   * from `sla_reports` afterwards, whatever happens to its inputs; the current month is live.
   */
  async report(clusterId: string, month: string, now: Date): Promise<ClusterSlaReport> {
    const range = this.reportableMonth(month, now);
    const cluster = await this.repository.cluster(undefined, clusterId);
    return this.reportOf(cluster, month, range, now);
  }

  /** {@link report} for a customer: another organisation's cluster is not found. */
  async customerReport(organizationId: string, clusterId: string, month: string | undefined, now = this.clock.now()): Promise<ClusterSlaReport> {
    const chosen = month ?? currentMonth(now);
    const range = this.reportableMonth(chosen, now);
    const cluster = await this.repository.cluster(organizationId, clusterId);
    return this.reportOf(cluster, chosen, range, now);
  }

  /** One report per cluster that existed during the month, by cluster id, a page at a time. */
  async page(
    filter: SlaListFilter,
    month: string | undefined,
    limit: number,
    cursor?: string,
    now = this.clock.now(),
  ): Promise<{ month: string; page: Page<ClusterSlaReport> }> {
    const chosen = month ?? currentMonth(now);
    const range = this.reportableMonth(chosen, now);
    const after = decodeCursor(cursor, 'cl');
    const clusters = await this.repository.clustersPresentIn({ organizationId: filter.organizationId, after }, range, limit);
    const reports = await this.reportsOf(clusters.slice(0, limit), chosen, range, now);
    const last = reports[reports.length - 1];
    return { month: chosen, page: { items: reports, next_cursor: clusters.length > limit && last ? encodeCursor(last.cluster.id) : null } };
  }

  /** Breached clusters of the month across organisations (or one), by cluster id, a page at a time. */
  async breaches(filter: SlaListFilter, month: string | undefined, limit: number, cursor?: string, now = this.clock.now()): Promise<Page<ClusterSlaReport>> {
    const chosen = month ?? currentMonth(now);
    const range = this.reportableMonth(chosen, now);
    const after = decodeCursor(cursor, 'cl');
    // A breach is known only once the report is computed, so the filter runs after it; past months
    // are frozen by the first such call and cost one read per cluster afterwards.
    const all = await this.reportsOf(await this.repository.clustersPresentIn({ organizationId: filter.organizationId, after }, range), chosen, range, now);
    const breached = all.filter((r) => r.report.breached);
    const items = breached.slice(0, limit);
    const last = items[items.length - 1];
    return { items, next_cursor: breached.length > limit && last ? encodeCursor(last.cluster.id) : null };
  }

  /**
   * Clusters whose month in progress is already breached (docs/sla.md, "Error budget"), for the
   * SLA monitor's breach gauge. Only clusters with downtime this month are computed: a breach
   * needs counted downtime, so a healthy fleet costs one query.
   */
  async breachedThisMonth(now = this.clock.now()): Promise<ClusterSlaReport[]> {
    const month = currentMonth(now);
    const range = this.reportableMonth(month, now);
    const reports = await this.reportsOf(await this.repository.clustersPresentIn({ downSince: range.start }, range), month, range, now);
    return reports.filter((r) => r.report.breached);
  }

  /**
   * Clusters whose error budget is burning now (a burn-rate alert firing; docs/sla.md, "Burn-rate
   * alerts"), each with its month in progress: pages first, then tickets, oldest first. Only
   * clusters with an alert are computed.
   */
  async burning(filter: SlaListFilter, now = this.clock.now()): Promise<(ClusterSlaReport & { alert: { severity: 'page' | 'ticket'; firingSince: Date } })[]> {
    const month = currentMonth(now);
    const range = this.reportableMonth(month, now);
    const clusters = await this.repository.clustersPresentIn({ organizationId: filter.organizationId, alertFiring: true }, range);
    const [reports, alerts] = await Promise.all([this.reportsOf(clusters, month, range, now), this.repository.firingAlerts(clusters.map((c) => c.id))]);
    const alertOf = new Map(alerts.map((a) => [a.clusterId, a]));
    const rank = { page: 0, ticket: 1 } as const;
    return reports
      .flatMap((r) => {
        const alert = alertOf.get(r.cluster.id);
        return alert ? [{ ...r, alert: { severity: alert.severity, firingSince: alert.firingSince } }] : [];
      })
      .sort((a, b) => rank[a.alert.severity] - rank[b.alert.severity] || a.alert.firingSince.getTime() - b.alert.firingSince.getTime());
  }

  /**
   * Every cluster owed a credit for the month (a breach always falls in a credit tier), in one
   * list so a billing export is complete. The percentage only: billing turns it into money
   * (docs/billing.md), through a port the API binds to this function.
   */
  async credits(month: string | undefined, now = this.clock.now(), filter: SlaListFilter = {}): Promise<{ month: string; items: ClusterSlaReport[] }> {
    const chosen = month ?? currentMonth(now);
    const range = this.reportableMonth(chosen, now);
    const all = await this.reportsOf(await this.repository.clustersPresentIn({ organizationId: filter.organizationId }, range), chosen, range, now);
    return { month: chosen, items: all.filter((r) => r.report.credit.percent > 0) };
  }

  /**
   * The report computed from the database as it is now, without storing or reading a frozen copy.
   * A frozen report is exactly this, computed once; recomputing it with unchanged inputs gives the
   * same numbers.
   */
  async compute(cluster: SlaCluster, month: string, now: Date): Promise<MonthlySlaReport> {
    const range = monthRange(month);
    // Downtime periods are found on the continuous timeline, so an outage across the month's first
    // or last minute is judged whole (docs/sla.md, "Downtime periods"): read into both neighbours.
    const timeline = reportTimeline(month);
    const [vantagePoints, operations, maintenance, suspensions] = await Promise.all([
      this.repository.intervalsByVantage(cluster.id, timeline),
      this.repository.customerOperations(cluster.id, range, now),
      this.repository.scheduledMaintenance(cluster.id, range, now),
      this.repository.suspensions(cluster.organizationId, range, now),
    ]);
    return computeSlaReport({
      provider: cluster.provider,
      month,
      // Each vantage point's minutes are classified on their own, then combined: docs/sla.md's rule
      // ("at least half of its probes failed, at every vantage point that has data for it") taken
      // minute by minute. Merging the timelines first (mergeVantagePoints) would call a minute up
      // when two locations each saw it mostly down, only not at the same seconds.
      vantagePoints,
      // A suspension while the cluster did not exist excused nothing of it: not listed on its report.
      exclusions: [...lifetimeExclusions(cluster, range), ...operations, ...maintenance, ...suspensions.filter((x) => overlapsLifetime(cluster, x))],
      now,
      timeline,
    });
  }

  private async reportOf(cluster: SlaCluster, month: string, range: MonthRange, now: Date): Promise<ClusterSlaReport> {
    if (!presentIn(cluster, range)) {
      throw new UnprocessableError(
        'cluster-not-present-in-month',
        `cluster ${cluster.id} did not exist in ${month}: it was created ${cluster.createdAt.toISOString()}${cluster.deletedAt ? ` and deleted ${cluster.deletedAt.toISOString()}` : ''}`,
      );
    }
    if (!(await this.repository.hasRun(cluster.id, range.end))) {
      throw new UnprocessableError(
        'cluster-never-ran',
        `cluster ${cluster.id} never ran by the end of ${month} (its creation did not succeed), so it has no SLA report`,
      );
    }
    const [stored] = await this.repository.stored([cluster.id], month);
    return this.resolve(cluster, month, range, now, stored);
  }

  /** Reports of several clusters, reading the frozen ones in one query. */
  private async reportsOf(clusters: SlaCluster[], month: string, range: MonthRange, now: Date): Promise<ClusterSlaReport[]> {
    const stored = new Map(
      (
        await this.repository.stored(
          clusters.map((c) => c.id),
          month,
        )
      ).map((s) => [s.clusterId, s]),
    );
    const reports: ClusterSlaReport[] = [];
    // One cluster at a time: a fleet-wide list should not take every database connection at once.
    for (const cluster of clusters) reports.push(await this.resolve(cluster, month, range, now, stored.get(cluster.id)));
    return reports;
  }

  private async resolve(cluster: SlaCluster, month: string, range: MonthRange, now: Date, stored: StoredSlaReport | undefined): Promise<ClusterSlaReport> {
    if (stored?.final) return fromStored(cluster, stored);
    const report = await this.compute(cluster, month, now);
    if (range.end.getTime() > now.getTime() - SLA_FREEZE_GRACE_MS) {
      return { cluster, final: false, computedAt: now, report };
    }
    const details: StoredDetails = report;
    const frozen = await this.repository.freeze(cluster.id, month, {
      organizationId: cluster.organizationId,
      slaVersion: report.slaVersion,
      targetPercent: report.targetPercent,
      availability: report.availabilityPercent,
      downtimeMinutes: report.countedDowntimeMinutes,
      excludedMinutes: report.excludedMinutes,
      unknownMinutes: report.unknownMinutes,
      breached: report.breached,
      creditPercent: report.credit.percent,
      details: JSON.parse(JSON.stringify(details)) as unknown,
      computedAt: now,
    });
    return fromStored(cluster, frozen);
  }

  /** The month's range, refusing a month that has not begun (there is nothing to report yet). */
  private reportableMonth(month: string, now: Date): MonthRange {
    const range = monthRange(month);
    if (range.start.getTime() > now.getTime()) {
      throw new UnprocessableError('sla-month-in-future', `${month} has not begun yet; the current month is ${currentMonth(now)}`, { month });
    }
    return range;
  }
}

function fromStored(cluster: SlaCluster, stored: StoredSlaReport): ClusterSlaReport {
  const { currency: _currency, ...report } = stored.details as unknown as StoredDetails;
  return { cluster, final: stored.final, computedAt: stored.computedAt, report };
}

export function currentMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}

function presentIn(cluster: SlaCluster, range: MonthRange): boolean {
  return cluster.createdAt.getTime() < range.end.getTime() && (cluster.deletedAt === null || cluster.deletedAt.getTime() > range.start.getTime());
}

function overlapsLifetime(cluster: SlaCluster, period: { start: Date; end: Date }): boolean {
  return period.end.getTime() > cluster.createdAt.getTime() && (cluster.deletedAt === null || period.start.getTime() < cluster.deletedAt.getTime());
}

/** The minutes of the month before the cluster was created and after it was deleted (see {@link CLUSTER_NOT_PRESENT}). */
function lifetimeExclusions(cluster: SlaCluster, range: MonthRange): Exclusion[] {
  const exclusions: Exclusion[] = [];
  if (cluster.createdAt.getTime() > range.start.getTime()) {
    exclusions.push({ start: range.start, end: cluster.createdAt, reason: 'customer_initiated', reference: CLUSTER_NOT_PRESENT });
  }
  if (cluster.deletedAt && cluster.deletedAt.getTime() < range.end.getTime()) {
    exclusions.push({ start: cluster.deletedAt, end: range.end, reason: 'customer_initiated', reference: CLUSTER_NOT_PRESENT });
  }
  return exclusions;
}
