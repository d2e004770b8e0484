import {
  type AnnouncedMaintenance,
  CONTROL_PLANE_OPERATION_TYPES,
  type Exclusion,
  scheduledMaintenanceExclusion,
  type MinuteRange,
  type MonthRange,
  NotFoundError,
  type StateInterval,
} from '@capstan/domain';
import { Database, type db } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { DB } from '@capstan/platform';

/** What a report needs of its cluster. Deleted clusters included: their past months still owe credits. */
export interface SlaCluster {
  id: string;
  organizationId: string;
  name: string;
  provider: db.Provider;
  createdAt: Date;
  deletedAt: Date | null;
}

export interface StoredSlaReport {
  clusterId: string;
  month: string;
  final: boolean;
  computedAt: Date;
  details: unknown;
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
  details: unknown;
  computedAt: Date;
}

const SUSPEND = 'organization.suspend';
const RESUME = 'organization.resume';

/**
 * Reads and writes behind SLA reports. Cluster lookups take the caller's organisation (undefined
 * only for staff), so another organisation's cluster is simply not found.
 */
@Injectable()
export class SlaReportsRepository {
  constructor(private readonly db: Database) {}

  async cluster(organizationId: string | undefined, clusterId: string): Promise<SlaCluster> {
    const row = await this.selectClusters()
      .where('c.id', '=', clusterId)
      .$if(organizationId !== undefined, (q) => q.where('c.organization_id', '=', organizationId!))
      .executeTakeFirst();
    if (!row) throw new NotFoundError('cluster', clusterId);
    return row;
  }

  /**
   * Clusters that existed at some moment of `range` and had run by its end, by id; `limit + 1` rows
   * when a limit is given. A cluster whose creation failed never served anyone: it has no SLA
   * month to report (docs/sla.md, "Clusters created or deleted mid-month"), so it is not listed.
   */
  clustersPresentIn(
    filter: { organizationId?: string; after?: string; downSince?: Date; alertFiring?: boolean },
    range: MonthRange,
    limit?: number,
  ): Promise<SlaCluster[]> {
    return (
      this.selectClusters()
        .where('c.created_at', '<', range.end)
        .where((eb) => eb.or([eb('c.deleted_at', 'is', null), eb('c.deleted_at', '>', range.start)]))
        .where((eb) => ranBefore(eb, range.end))
        .$if(filter.organizationId !== undefined, (q) => q.where('c.organization_id', '=', filter.organizationId!))
        .$if(filter.after !== undefined, (q) => q.where('c.id', '>', filter.after!))
        // Only clusters seen down since then: without downtime no budget can be spent.
        .$if(filter.downSince !== undefined, (q) =>
          q.where('c.id', 'in', (eb) =>
            eb.selectFrom('availability_intervals').select('cluster_id').where('state', '=', 'down').where('ended_at', '>=', filter.downSince!),
          ),
        )
        .$if(filter.alertFiring === true, (q) =>
          q.where('c.id', 'in', (eb) => eb.selectFrom('sla_alerts').select('cluster_id').where('severity', 'is not', null)),
        )
        .orderBy('c.id')
        .$if(limit !== undefined, (q) => q.limit(limit! + 1))
        .execute()
    );
  }

  /** The burn-rate alerts firing for these clusters (`sla_alerts`, written by the monitor's BurnRateAlerter). */
  async firingAlerts(clusterIds: readonly string[]): Promise<{ clusterId: string; severity: 'page' | 'ticket'; firingSince: Date }[]> {
    if (clusterIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('sla_alerts')
      .select(['cluster_id', 'severity', 'firing_since'])
      .where('cluster_id', 'in', clusterIds)
      .where('severity', 'is not', null)
      .execute();
    return rows.flatMap((r) => (r.severity && r.firing_since ? [{ clusterId: r.cluster_id, severity: r.severity, firingSince: r.firing_since }] : []));
  }

  /** Whether the cluster had run (was probed, or its creation succeeded) before `end`. */
  async hasRun(clusterId: string, end: Date): Promise<boolean> {
    const row = await this.db
      .selectFrom('clusters as c')
      .select('c.id')
      .where('c.id', '=', clusterId)
      .where((eb) => ranBefore(eb, end))
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Each vantage point's intervals overlapping `range` (the month and the stretch of its neighbours
   * a report looks at). A row covers `[started_at, ended_at)`: ended_at is the last probe that
   * confirmed the state, so what follows it is a gap (unknown) until the next row.
   */
  async intervalsByVantage(clusterId: string, range: MinuteRange): Promise<StateInterval[][]> {
    const rows = await this.db
      .selectFrom('availability_intervals')
      .select(['vantage', 'state', 'started_at', 'ended_at'])
      .where('cluster_id', '=', clusterId)
      .where('started_at', '<', range.end)
      .where('ended_at', '>', range.start)
      .orderBy('vantage')
      .orderBy('started_at')
      .execute();
    const byVantage = new Map<string, StateInterval[]>();
    for (const row of rows) {
      const list = byVantage.get(row.vantage) ?? [];
      list.push({ state: row.state, start: row.started_at, end: row.ended_at });
      byVantage.set(row.vantage, list);
    }
    return [...byVantage.values()];
  }

  /**
   * Operations the customer asked for (requested with an API token) that can affect the control
   * plane ({@link CONTROL_PLANE_OPERATION_TYPES}) and ran during `range`: from start to finish,
   * or to `now` while still running. An operation that never started has no window.
   */
  async customerOperations(clusterId: string, range: MinuteRange, now: Date): Promise<Exclusion[]> {
    const rows = await this.db
      .selectFrom('operations')
      .select(['id', 'started_at', 'finished_at'])
      .where('cluster_id', '=', clusterId)
      .where('requested_by_type', '=', 'api_token')
      .where('type', 'in', [...CONTROL_PLANE_OPERATION_TYPES])
      .where('started_at', 'is not', null)
      .where('started_at', '<', range.end)
      .where((eb) => eb.or([eb('finished_at', 'is', null), eb('finished_at', '>', range.start)]))
      .orderBy('started_at')
      .execute();
    return rows
      .map((op) => ({ start: op.started_at!, end: op.finished_at ?? now, reason: 'customer_initiated' as const, reference: op.id }))
      .filter((x) => x.end.getTime() > x.start.getTime());
  }

  /**
   * Provider-initiated work (started by the system, e.g. a fleet auto-upgrade) announced ahead,
   * for the part of it that ran inside its announced window (`scheduledMaintenanceExclusion`).
   */
  async scheduledMaintenance(clusterId: string, range: MinuteRange, now: Date): Promise<Exclusion[]> {
    const rows = await this.db
      .selectFrom('operations')
      .select(['id', 'started_at', 'finished_at', 'params'])
      .where('cluster_id', '=', clusterId)
      .where('requested_by_type', '=', 'system')
      .where('started_at', 'is not', null)
      .where('started_at', '<', range.end)
      .where((eb) => eb.or([eb('finished_at', 'is', null), eb('finished_at', '>', range.start)]))
      .orderBy('started_at')
      .execute();
    return rows.flatMap((op) => {
      const maintenance = (op.params as { maintenance?: Partial<AnnouncedMaintenance> } | null)?.maintenance;
      const exclusion = scheduledMaintenanceExclusion({ id: op.id, startedAt: op.started_at!, finishedAt: op.finished_at, maintenance }, now);
      return exclusion ? [exclusion] : [];
    });
  }

  /**
   * The organisation's suspensions from the audit log: each `organization.suspend` up to the next
   * `organization.resume` (or `now` while still suspended), referenced by the suspend event's id.
   */
  async suspensions(organizationId: string, range: MinuteRange, now: Date): Promise<Exclusion[]> {
    const events = await this.db
      .selectFrom('audit_events')
      .select(['id', 'action', 'created_at'])
      .where('organization_id', '=', organizationId)
      .where('action', 'in', [SUSPEND, RESUME])
      .where('created_at', '<', range.end)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const periods: Exclusion[] = [];
    let open: { id: string; at: Date } | undefined;
    for (const event of events) {
      if (event.action === SUSPEND && !open) open = { id: event.id, at: event.created_at };
      if (event.action === RESUME && open) {
        periods.push({ start: open.at, end: event.created_at, reason: 'organization_suspended', reference: open.id });
        open = undefined;
      }
    }
    // Still suspended at the end of the events read: open until now (or the next resume after the month).
    if (open) periods.push({ start: open.at, end: new Date(Math.max(now.getTime(), open.at.getTime())), reason: 'organization_suspended', reference: open.id });
    return periods.filter((p) => p.end.getTime() > range.start.getTime());
  }

  async stored(clusterIds: readonly string[], month: string): Promise<StoredSlaReport[]> {
    if (clusterIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('sla_reports')
      .select(['cluster_id', 'month', 'final', 'computed_at', 'details'])
      .where('cluster_id', 'in', [...clusterIds])
      .where('month', '=', month)
      .execute();
    return rows.map(toStored);
  }

  /**
   * Stores a final report unless one is stored already, and returns whichever is stored: when two
   * requests freeze the same month at once, the first insert wins and both serve its numbers. A
   * non-final row (a live report someone cached) is replaced.
   */
  async freeze(clusterId: string, month: string, columns: SlaReportColumns): Promise<StoredSlaReport> {
    const values = {
      organization_id: columns.organizationId,
      sla_version: columns.slaVersion,
      target_percent: String(columns.targetPercent),
      availability: String(columns.availability),
      downtime_minutes: columns.downtimeMinutes,
      excluded_minutes: columns.excludedMinutes,
      unknown_minutes: columns.unknownMinutes,
      breached: columns.breached,
      credit_percent: columns.creditPercent,
      details: JSON.stringify(columns.details),
      final: true,
      computed_at: columns.computedAt,
    };
    const row = await this.db
      .insertInto('sla_reports')
      .values({ cluster_id: clusterId, month, ...values })
      .onConflict((oc) => oc.columns(['cluster_id', 'month']).doUpdateSet(values).where('sla_reports.final', '=', false))
      .returning(['cluster_id', 'month', 'final', 'computed_at', 'details'])
      .executeTakeFirst();
    if (row) return toStored(row);
    // A final report was there first: serve its numbers.
    const [stored] = await this.stored([clusterId], month);
    return stored;
  }

  private selectClusters() {
    return this.db
      .selectFrom('clusters as c')
      .select(['c.id', 'c.organization_id as organizationId', 'c.name', 'c.provider', 'c.created_at as createdAt', 'c.deleted_at as deletedAt']);
  }
}

/** The cluster `c` had been probed, or its creation had succeeded, before `end`. */
function ranBefore(eb: ExpressionBuilder<DB & { c: DB['clusters'] }, 'c'>, end: Date): Expression<SqlBool> {
  return eb.or([
    eb.exists(eb.selectFrom('availability_intervals as ai').select('ai.id').whereRef('ai.cluster_id', '=', 'c.id').where('ai.started_at', '<', end)),
    eb.exists(
      eb
        .selectFrom('operations as o')
        .select('o.id')
        .whereRef('o.cluster_id', '=', 'c.id')
        .where('o.type', '=', 'create_cluster')
        .where('o.status', '=', 'succeeded')
        .where('o.finished_at', '<', end),
    ),
  ]);
}

function toStored(row: { cluster_id: string; month: string; final: boolean; computed_at: Date; details: unknown }): StoredSlaReport {
  return { clusterId: row.cluster_id, month: row.month, final: row.final, computedAt: row.computed_at, details: row.details };
}
