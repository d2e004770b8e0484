import {
  type BurnRateAlertEvaluation,
  type BurnRateSeverity,
  currentSlaPolicy,
  evaluateBurnRateAlerts,
  type Exclusion,
  excludedMinuteMask,
  type MinuteRange,
  minuteStatesAcrossVantagePoints,
  slaTargetPercent,
} from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { BackgroundWork, Clock, Database, Metrics } from '@capstan/platform';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { SlaReportsRepository } from '../reports/sla-reports.repository';

const MINUTE = 60_000;
/** The longest burn-rate window (3 days, SRE workbook): history older than this never matters. */
const LOOKBACK_MINUTES = 3 * 24 * 60;
const EVALUATE_EVERY_MS = 15_000;

/** What one evaluation changed for a cluster: an alert raised (or its severity changed), or resolved. */
export interface BurnRateAlertChange {
  clusterId: string;
  severity: BurnRateSeverity | 'resolved';
}

/**
 * Burn-rate alerts over the 30-day error budget (docs/sla.md, "Burn-rate alerts"): page at 14.4x
 * over 1h and 5m or 6x over 6h and 30m; ticket at 3x over 1d and 2h or 1x over 3d and 6h.
 *
 * An alert is an event in the cluster's organisation (`dev.capstan.sla.burn_rate.page|ticket`
 * when it is raised or its severity changes, `dev.capstan.sla.burn_rate.resolved` when it stops
 * firing), which its webhooks receive and staff see in /admin/v1/events. What fires is kept in
 * `sla_alerts`, not in memory: a restarted monitor neither raises an alert again nor forgets to
 * resolve it, and of several replicas evaluating at once only one writes each change (every
 * change is guarded by the severity it replaces, in the transaction that records its event).
 *
 * Minutes the SLA excludes (the customer's control-plane work, suspensions) neither burn budget
 * nor count as measured, exactly as in the monthly report.
 */
@Injectable()
export class BurnRateAlerter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly work = new BackgroundWork(BurnRateAlerter.name);

  constructor(
    private readonly db: Database,
    private readonly reports: SlaReportsRepository,
    private readonly events: EventsService,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.work.every(EVALUATE_EVERY_MS, 'burn-rate evaluation', async () => {
      for (const change of await this.evaluate()) this.metrics?.burnRateAlertChanges.inc({ severity: change.severity });
    });
    const metrics = this.metrics;
    if (metrics) metrics.sampleWith([metrics.slaAlertsFiring], () => this.sampleFiring(metrics));
  }

  /** Clusters with an alert firing, by severity, fleet-wide (the table is the truth, not this replica's memory). */
  private async sampleFiring(metrics: Metrics): Promise<void> {
    const rows = await this.db
      .selectFrom('sla_alerts')
      .select((eb) => ['severity', eb.fn.countAll<string>().as('n')])
      .where('severity', 'is not', null)
      .groupBy('severity')
      .execute();
    metrics.slaAlertsFiring.reset();
    for (const severity of ['page', 'ticket'] as const) metrics.slaAlertsFiring.set({ severity }, 0);
    for (const row of rows) if (row.severity) metrics.slaAlertsFiring.set({ severity: row.severity }, Number(row.n));
  }

  /** Waits for an evaluation in flight: it must not write an event while the pool is closing. */
  async onModuleDestroy(): Promise<void> {
    await this.work.stop();
  }

  /**
   * Evaluates every cluster that had downtime lately or has an alert firing; returns what changed.
   * Only those can start or stop burning, so a healthy fleet costs one query.
   */
  async evaluate(): Promise<BurnRateAlertChange[]> {
    const now = this.clock.now();
    const end = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
    const window: MinuteRange = { start: new Date(end.getTime() - LOOKBACK_MINUTES * MINUTE), end };
    const candidates = await this.db
      .selectFrom('availability_intervals')
      .select('cluster_id')
      .where('state', '=', 'down')
      .where('ended_at', '>', window.start)
      .union(this.db.selectFrom('sla_alerts').select('cluster_id').where('severity', 'is not', null))
      .execute();
    const changes: BurnRateAlertChange[] = [];
    for (const { cluster_id: clusterId } of candidates) {
      if (this.work.stopping) break;
      const change = await this.evaluateCluster(clusterId, window, now);
      if (change) changes.push(change);
    }
    return changes;
  }

  private async evaluateCluster(clusterId: string, window: MinuteRange, now: Date): Promise<BurnRateAlertChange | undefined> {
    const cluster = await this.db
      .selectFrom('clusters')
      .select(['organization_id', 'provider', 'created_at', 'deleted_at'])
      .where('id', '=', clusterId)
      .executeTakeFirst();
    if (!cluster) return undefined;
    const alert = await this.db.selectFrom('sla_alerts').select('severity').where('cluster_id', '=', clusterId).executeTakeFirst();
    const firing = alert?.severity ?? null;

    let evaluation: BurnRateAlertEvaluation | undefined;
    let fires: BurnRateSeverity | null = null;
    if (!cluster.deleted_at) {
      const [vantagePoints, operations, suspensions] = await Promise.all([
        this.reports.intervalsByVantage(clusterId, window),
        this.reports.customerOperations(clusterId, window, now),
        this.reports.suspensions(cluster.organization_id, window, now),
      ]);
      const exclusions: Exclusion[] = [...operations, ...suspensions];
      const minutes = minuteStatesAcrossVantagePoints(vantagePoints, window);
      evaluation = evaluateBurnRateAlerts(minutes, slaTargetPercent(cluster.provider), currentSlaPolicy(), excludedMinuteMask(exclusions, window));
      fires = evaluation.fires;
    }
    if (fires === firing) return undefined;
    // A deleted cluster's alert resolves: nothing of it is burning any more.
    const changed = await this.db.transaction().execute(async (trx) => {
      const written =
        firing === null
          ? (
              await trx
                .insertInto('sla_alerts')
                .values({ cluster_id: clusterId, organization_id: cluster.organization_id, severity: fires, firing_since: now, updated_at: now })
                .onConflict((oc) =>
                  oc.column('cluster_id').doUpdateSet({ severity: fires, firing_since: now, updated_at: now }).where('sla_alerts.severity', 'is', null),
                )
                .executeTakeFirst()
            ).numInsertedOrUpdatedRows
          : (
              await trx
                .updateTable('sla_alerts')
                .set({ severity: fires, firing_since: fires === null ? null : now, updated_at: now })
                .where('cluster_id', '=', clusterId)
                .where('severity', '=', firing)
                .executeTakeFirst()
            ).numUpdatedRows;
      // Another replica made this change first: it recorded the event.
      if (!written) return false;
      await this.events.record(trx, alertEvent(clusterId, cluster.organization_id, cluster.provider, fires, firing, evaluation));
      return true;
    });
    return changed ? { clusterId, severity: fires ?? 'resolved' } : undefined;
  }
}

function alertEvent(
  clusterId: string,
  organizationId: string,
  provider: 'rke2' | 'gke',
  fires: BurnRateSeverity | null,
  previous: BurnRateSeverity | null,
  evaluation: BurnRateAlertEvaluation | undefined,
) {
  const base = { cluster_id: clusterId, target_percent: slaTargetPercent(provider) };
  const where = { organizationId, source: `/v1/clusters/${clusterId}/sla`, subject: `/v1/clusters/${clusterId}` };
  if (fires === null) {
    return { ...where, type: 'dev.capstan.sla.burn_rate.resolved', data: { ...base, severity: previous } };
  }
  const rule = evaluation!.rules.find((r) => r.fires && r.severity === fires)!;
  return {
    ...where,
    type: `dev.capstan.sla.burn_rate.${fires}`,
    data: {
      ...base,
      severity: fires,
      previous_severity: previous,
      factor: rule.factor,
      long_window_minutes: rule.longWindowMinutes,
      short_window_minutes: rule.shortWindowMinutes,
      long_window_burn_rate: rule.long.rate,
      short_window_burn_rate: rule.short.rate,
      long_window_measured_minutes: rule.long.measuredMinutes,
    },
  };
}
