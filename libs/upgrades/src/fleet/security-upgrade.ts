import type { fleetRoutes, RouteInput } from '@capstan/contracts';
import { NotFoundError, UnprocessableError } from '@capstan/domain';
import { EventsService } from '@capstan/events';
import { Clock, Database } from '@capstan/platform';
import { type Actor, AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { StartUpgrade } from '../use-cases/start-upgrade';
import { ListAdvisories } from './advisories';
import { FleetClusterSource } from './fleet-cluster-source';

type Body = RouteInput<typeof fleetRoutes.adminSecurityUpgrade>['body'];

/**
 * `POST /admin/v1/clusters/{cluster_id}/security-upgrade` (docs/upgrades.md, "Advisories"): staff
 * upgrade a cluster that a critical advisory affects, over the customer's maintenance exclusions.
 * Every other rule of an upgrade holds. The operation records the override (its params, with the
 * `cluster.upgrade` audit event, in one transaction); the override's own audit event
 * (`cluster.exclusion_override`) and the customer's notice (`dev.capstan.upgrade.exclusion_overridden`)
 * are written right after, in a second one.
 */
@Injectable()
export class StaffSecurityUpgrade {
  constructor(
    private readonly source: FleetClusterSource,
    private readonly advisories: ListAdvisories,
    private readonly startUpgrade: StartUpgrade,
    private readonly auditLog: AuditLog,
    private readonly events: EventsService,
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async execute(actor: Actor, clusterId: string, body: Body) {
    const [cluster] = await this.source.byIds([clusterId], this.clock.now());
    if (!cluster) throw new NotFoundError('cluster', clusterId);
    const advisory = await this.advisories.affects(cluster, body.advisory_id);
    if (!advisory) {
      throw new UnprocessableError('advisory-not-affecting', `advisory ${body.advisory_id.slice(0, 64)} does not affect cluster ${clusterId}`, {
        rule: 'exclusions are overridden only for a critical advisory that affects the cluster',
      });
    }
    if (advisory.severity !== 'critical') {
      throw new UnprocessableError('advisory-not-critical', `advisory ${advisory.id} is ${advisory.severity}, not critical`, {
        rule: 'exclusions are overridden only for a critical advisory that affects the cluster',
      });
    }
    const result = await this.startUpgrade.execute(
      { organizationId: cluster.organizationId, actor },
      clusterId,
      { version: body.version, start: 'now' },
      {
        advisoryId: advisory.id,
        reason: body.reason,
      },
    );
    const operation = result.operation as { id: string };
    const now = this.clock.now();
    const overridden = cluster.exclusions
      .filter((e) => e.startsAt <= now && now < e.endsAt)
      .map((e) => ({ scope: e.scope, starts_at: e.startsAt.toISOString(), ends_at: e.endsAt.toISOString() }));
    await this.db.transaction().execute(async (trx) => {
      await this.auditLog.record(trx, {
        organizationId: cluster.organizationId,
        actor,
        action: 'cluster.exclusion_override',
        target: { type: 'cluster', id: clusterId },
        // The exclusions overridden, so each exclusion can show the overrides it suffered (GET .../maintenance-exclusions).
        changes: { advisory: { after: advisory.id }, operation: { after: operation.id }, exclusions: { after: overridden } },
        reason: body.reason,
      });
      await this.events.record(trx, {
        organizationId: cluster.organizationId,
        type: 'dev.capstan.upgrade.exclusion_overridden',
        source: `/v1/clusters/${clusterId}`,
        subject: `/v1/operations/${operation.id}`,
        data: {
          cluster_id: clusterId,
          operation_id: operation.id,
          advisory_id: advisory.id,
          advisory_title: advisory.title,
          severity: advisory.severity,
          to: body.version,
          reason: body.reason,
          overridden_exclusions: overridden,
        },
      });
    });
    return result;
  }
}
