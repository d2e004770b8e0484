import { EventRecordingModule, EventsService } from '@capstan/events';
import { Clock, Database, type UnitOfWork } from '@capstan/platform';
import { AuditLog } from '@capstan/tenancy';
import { Injectable, Module } from '@nestjs/common';

/**
 * The status reason the SLA monitor writes, and by which it knows a `degraded` cluster as its own:
 * it brings back to `running` only a cluster it marked, never one degraded for another reason.
 */
export const API_SERVER_DOWN_REASON_PREFIX = 'API server unreachable';

const MONITOR = { type: 'system' as const, id: 'sla-monitor' };

/**
 * What the SLA monitor records about a cluster's API server (public to other features:
 * docs/architecture.md, "Feature-to-feature calls"; docs/sla.md, "Cluster status").
 *
 * Each change is one conditional UPDATE and, only when it changed a row, its event and audit event
 * in the same transaction. Several monitor replicas (and every vantage point) reach the same
 * conclusion from the same stored minutes; the guard lets exactly one of them write it, and a
 * restarted monitor repeats nothing. Only `running` becomes `degraded`: a cluster in any other
 * status belongs to the operation that set it, which sets it back.
 */
@Injectable()
export class RecordApiServerHealth {
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** `running` -> `degraded` with `reason` (which must start with the prefix above). Returns whether it changed the cluster. */
  async degraded(clusterId: string, reason: string, since: Date): Promise<boolean> {
    if (!reason.startsWith(API_SERVER_DOWN_REASON_PREFIX)) throw new Error(`an API server reason starts with "${API_SERVER_DOWN_REASON_PREFIX}"`);
    return this.db.transaction().execute(async (trx) => {
      const changed = await this.setStatus(trx, clusterId, { from: 'running', to: 'degraded', reason });
      if (!changed) return false;
      await this.record(trx, changed, 'degraded', { reason, unreachable_since: since.toISOString() });
      return true;
    });
  }

  /** A cluster this monitor marked `degraded` -> `running`, its reason cleared. Returns whether it changed the cluster. */
  async recovered(clusterId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const changed = await this.setStatus(trx, clusterId, { from: 'degraded', to: 'running', reason: null });
      if (!changed) return false;
      await this.record(trx, changed, 'recovered', {});
      return true;
    });
  }

  /** The clusters this monitor marked `degraded` and has not seen recover yet. */
  async markedDegraded(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('clusters')
      .select('id')
      .where('status', '=', 'degraded')
      .where('deleted_at', 'is', null)
      .where('status_reason', 'like', `${API_SERVER_DOWN_REASON_PREFIX}%`)
      .execute();
    return rows.map((r) => r.id);
  }

  private async setStatus(trx: UnitOfWork, clusterId: string, change: { from: 'running' | 'degraded'; to: 'running' | 'degraded'; reason: string | null }) {
    let query = trx
      .updateTable('clusters')
      .set((eb) => ({ status: change.to, status_reason: change.reason, resource_version: eb('resource_version', '+', 1), updated_at: this.clock.now() }))
      .where('id', '=', clusterId)
      .where('deleted_at', 'is', null)
      .where('status', '=', change.from);
    if (change.from === 'degraded') query = query.where('status_reason', 'like', `${API_SERVER_DOWN_REASON_PREFIX}%`);
    const row = await query.returning(['organization_id', 'resource_version']).executeTakeFirst();
    return row ? { clusterId, organizationId: row.organization_id, resourceVersion: row.resource_version } : undefined;
  }

  private async record(
    trx: UnitOfWork,
    changed: { clusterId: string; organizationId: string; resourceVersion: number },
    what: 'degraded' | 'recovered',
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.events.record(trx, {
      organizationId: changed.organizationId,
      type: `dev.capstan.cluster.${what}`,
      source: `/v1/clusters/${changed.clusterId}`,
      subject: `/v1/clusters/${changed.clusterId}`,
      data: { cluster_id: changed.clusterId, status: what === 'degraded' ? 'degraded' : 'running', resource_version: changed.resourceVersion, ...data },
    });
    await this.audit.record(trx, {
      organizationId: changed.organizationId,
      actor: MONITOR,
      action: `cluster.${what}`,
      target: { type: 'cluster', id: changed.clusterId },
      changes: { status: what === 'degraded' ? { before: 'running', after: 'degraded' } : { before: 'degraded', after: 'running' } },
    });
  }
}

/** Provides RecordApiServerHealth to the SLA monitor, which serves no cluster routes. */
@Module({
  imports: [EventRecordingModule],
  providers: [RecordApiServerHealth, AuditLog],
  exports: [RecordApiServerHealth],
})
export class ApiServerHealthModule {}
