import type { ApiServerObservation, WatchedCluster } from '@capstan/domain';
import { EventRecordingModule, EventsService } from '@capstan/events';
import { Clock, Database, type UnitOfWork } from '@capstan/platform';
import { AuditLog } from '@capstan/tenancy';
import { Injectable, Module } from '@nestjs/common';
import { sql } from 'kysely';

const MONITOR = { type: 'system' as const, id: 'sla-monitor' };

export type { ApiServerObservation, WatchedCluster };

/** Serving in a status the organisation was not told (`degraded` unannounced, or `running` after an announced `degraded`). */
const UNANNOUNCED = sql<boolean>`(status IN ('running', 'degraded') AND degraded_announced <> (status = 'degraded'))`;

/** A change between `running` and `degraded` the organisation was told about (its event), whoever made it. */
export type AnnouncedHealthChange = 'degraded' | 'running';

/**
 * What the SLA monitor records about a cluster's API server (public to other features:
 * docs/architecture.md, "Feature-to-feature calls"; docs/sla.md, "Cluster status").
 *
 * The monitor's view is data on the cluster's row, written in any status: `api_server_down_since`
 * and `api_server_down_reason` while it holds the API server down. An operation's end reads it to
 * leave the cluster `degraded` rather than `running` (`clusterStatusAfterOperation`, libs/domain),
 * and the monitor knows a `degraded` cluster as its own by it, never by the reason's text.
 *
 * Each change is a conditional UPDATE, all in one transaction: several monitor replicas (and every
 * vantage point) reach the same conclusion from the same stored minutes, the guards let exactly
 * one of them write it, and a restarted monitor repeats nothing. Only `running` becomes `degraded`
 * and only a `degraded` cluster the monitor holds down becomes `running`: any other status belongs
 * to the operation that set it, whose end decides from the view.
 *
 * The organisation hears of a change once: `degraded_announced` says what it was last told, and
 * whichever flip made `running` and `degraded` differ from it (the monitor's, or an operation's end
 * seen at the monitor's next look) is announced with one event, so an operation that passes through
 * a degraded cluster that is still down announces nothing, and one that ends on a cluster that went
 * down meanwhile is announced within a few seconds.
 */
@Injectable()
export class RecordApiServerHealth {
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Records `observation` and announces the flip it (or an operation's end before it) made, if any. */
  async observe(clusterId: string, observation: ApiServerObservation): Promise<AnnouncedHealthChange | null> {
    return this.db.transaction().execute(async (trx) => {
      if (observation.state === 'down') {
        await trx
          .updateTable('clusters')
          .set({ api_server_down_since: observation.since, api_server_down_reason: observation.reason })
          .where('id', '=', clusterId)
          .where('deleted_at', 'is', null)
          .where('api_server_down_since', 'is', null)
          .execute();
        // A cluster an operation left `running` (or one marked before its operation held it) is marked now.
        await this.flip(trx, clusterId, 'running', 'degraded');
      } else if (observation.state === 'up') {
        await this.flip(trx, clusterId, 'degraded', 'running');
        await trx
          .updateTable('clusters')
          .set({ api_server_down_since: null, api_server_down_reason: null })
          .where('id', '=', clusterId)
          .where('api_server_down_since', 'is not', null)
          .execute();
      }
      return this.announce(trx, clusterId);
    });
  }

  /**
   * The clusters the monitor must look at besides those its probes see down: the ones it holds
   * down, and the ones whose status changed between `running` and `degraded` unannounced.
   */
  async watched(): Promise<WatchedCluster[]> {
    const rows = await this.db
      .selectFrom('clusters')
      .select(['id', 'status', sql<boolean>`api_server_down_since IS NOT NULL`.as('held_down'), sql<boolean>`${UNANNOUNCED}`.as('unannounced')])
      .where('deleted_at', 'is', null)
      .where((eb) => eb.or([eb('api_server_down_since', 'is not', null), UNANNOUNCED]))
      .execute();
    return rows.map((r) => ({ clusterId: r.id, status: r.status, heldDown: r.held_down, unannounced: r.unannounced }));
  }

  /** The monitor's own status change, with its audit event; guarded by the view so it never touches another's `degraded`. */
  private async flip(trx: UnitOfWork, clusterId: string, from: 'running' | 'degraded', to: 'running' | 'degraded'): Promise<void> {
    const changed = await trx
      .updateTable('clusters')
      .set((eb) => ({
        status: to,
        status_reason: to === 'degraded' ? eb.ref('api_server_down_reason') : null,
        resource_version: eb('resource_version', '+', 1),
        updated_at: this.clock.now(),
      }))
      .where('id', '=', clusterId)
      .where('deleted_at', 'is', null)
      .where('status', '=', from)
      .where('api_server_down_since', 'is not', null)
      .returning('organization_id')
      .executeTakeFirst();
    if (!changed) return;
    await this.audit.record(trx, {
      organizationId: changed.organization_id,
      actor: MONITOR,
      action: to === 'degraded' ? 'cluster.degraded' : 'cluster.recovered',
      target: { type: 'cluster', id: clusterId },
      changes: { status: { before: from, after: to } },
    });
  }

  private async announce(trx: UnitOfWork, clusterId: string): Promise<AnnouncedHealthChange | null> {
    const told = await trx
      .updateTable('clusters')
      .set({ degraded_announced: sql<boolean>`status = 'degraded'` })
      .where('id', '=', clusterId)
      .where('deleted_at', 'is', null)
      .where(UNANNOUNCED)
      .returning(['organization_id', 'status', 'status_reason', 'resource_version', 'api_server_down_since'])
      .executeTakeFirst();
    if (!told) return null;
    const degraded = told.status === 'degraded';
    await this.events.record(trx, {
      organizationId: told.organization_id,
      type: degraded ? 'dev.capstan.cluster.degraded' : 'dev.capstan.cluster.recovered',
      source: `/v1/clusters/${clusterId}`,
      subject: `/v1/clusters/${clusterId}`,
      data: {
        cluster_id: clusterId,
        status: told.status,
        resource_version: told.resource_version,
        ...(degraded ? { reason: told.status_reason, unreachable_since: told.api_server_down_since?.toISOString() ?? null } : {}),
      },
    });
    return degraded ? 'degraded' : 'running';
  }
}

/** Provides RecordApiServerHealth to the SLA monitor, which serves no cluster routes. */
@Module({
  imports: [EventRecordingModule],
  providers: [RecordApiServerHealth, AuditLog],
  exports: [RecordApiServerHealth],
})
export class ApiServerHealthModule {}
