import type { clusterRoutes, z } from '@capstan/contracts';
import { AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { ClustersRepository } from '../clusters.repository';

export type MaintenanceExclusionView = z.infer<typeof clusterRoutes.maintenanceExclusionSchema>;
type ExclusionRow = Awaited<ReturnType<ClustersRepository['maintenanceExclusions']>>[number];
type Override = MaintenanceExclusionView['overrides'][number];
/** An override as recorded: the exclusions it overrode (scope and span), when the event lists them. */
type RecordedOverride = Override & { overridden: { scope: string; starts_at: string; ends_at: string }[] | null };

/** Staff's security override of exclusions is rare: a cluster's whole history fits one page. */
const OVERRIDES_READ = 100;

/** An exclusion as the API shows it, with the overrides that ran while it was in force. */
export function presentMaintenanceExclusion(row: ExclusionRow, overrides: readonly RecordedOverride[] = []): MaintenanceExclusionView {
  const startsAt = row.starts_at.toISOString();
  const endsAt = row.ends_at.toISOString();
  // The event names the exclusions it overrode by scope and span; an event without them counts
  // for every exclusion in force when it was recorded.
  const suffered = (o: RecordedOverride) =>
    o.overridden ? o.overridden.some((e) => e.scope === row.scope && e.starts_at === startsAt && e.ends_at === endsAt) : startsAt <= o.at && o.at < endsAt;
  return {
    id: row.id,
    cluster_id: row.cluster_id,
    name: row.name,
    scope: row.scope,
    starts_at: startsAt,
    ends_at: endsAt,
    created_at: row.created_at.toISOString(),
    overrides: overrides.filter(suffered).map(({ at, operation_id, advisory_id, reason }) => ({ at, operation_id, advisory_id, reason })),
  };
}

/**
 * GET of a cluster's maintenance exclusions. The critical-security override (docs/upgrades.md,
 * "Advisories") overrides every exclusion in force when staff start it and records itself as a
 * `cluster.exclusion_override` audit event; an exclusion lists the overrides recorded while it was
 * in force, so the customer sees when and why their freeze was not honoured.
 */
@Injectable()
export class ReadMaintenanceExclusions {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly auditLog: AuditLog,
  ) {}

  async list(organizationId: string, clusterId: string): Promise<{ items: MaintenanceExclusionView[] }> {
    await this.clusters.get(organizationId, clusterId);
    const [rows, overrides] = await Promise.all([this.clusters.maintenanceExclusions(organizationId, clusterId), this.overrides(organizationId, clusterId)]);
    return { items: rows.map((row) => presentMaintenanceExclusion(row, overrides)) };
  }

  async get(organizationId: string, clusterId: string, id: string): Promise<MaintenanceExclusionView> {
    const row = await this.clusters.maintenanceExclusion(organizationId, clusterId, id);
    return presentMaintenanceExclusion(row, await this.overrides(organizationId, clusterId));
  }

  private async overrides(organizationId: string, clusterId: string): Promise<RecordedOverride[]> {
    const page = await this.auditLog.list({ organizationId, action: 'cluster.exclusion_override', targetId: clusterId }, OVERRIDES_READ);
    return page.items
      .map((event) => ({
        at: event.created_at,
        operation_id: stringOrNull(event.changes['operation']?.after),
        advisory_id: stringOrNull(event.changes['advisory']?.after),
        reason: event.reason,
        overridden: Array.isArray(event.changes['exclusions']?.after) ? (event.changes['exclusions'].after as RecordedOverride['overridden']) : null,
      }))
      .reverse();
  }
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
