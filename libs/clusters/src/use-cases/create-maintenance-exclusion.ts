import { clusterRoutes, type z } from '@capstan/contracts';
import { assertExclusionAllowed, ConflictError, parseMinor } from '@capstan/domain';
import { presentOperation } from '@capstan/operations';
import { Clock, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import type { ClusterWithRelations } from '../cluster-view';
import { insertMaintenanceExclusion } from '../cluster-writes';
import { ClustersRepository } from '../clusters.repository';
import { VersionCatalogueRepository } from '../version-catalogue.repository';
import { assertNotDeleting, exclusionAuditChanges, providerHoldsExclusions, windowSpecOf } from './exclusion-changes';
import { startSettingsUpdate } from './settings-update';
import { presentMaintenanceExclusion } from './read-maintenance-exclusions';

export type CreateMaintenanceExclusionInput = z.infer<typeof clusterRoutes.createMaintenanceExclusionBody>;

/**
 * POST /v1/clusters/{id}/maintenance-exclusions (docs/upgrades.md, "Maintenance exclusions"):
 * checked against the cluster's other exclusions under the cluster's row lock (so two requests
 * cannot both pass), then saved with its audit event; on GKE with the `update_cluster` operation
 * that applies it there, in the same transaction.
 */
@Injectable()
export class CreateMaintenanceExclusion {
  constructor(
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly clusters: ClustersRepository,
    private readonly versions: VersionCatalogueRepository,
    private readonly clock: Clock,
  ) {}

  async execute(requester: Requester, clusterId: string, input: CreateMaintenanceExclusionInput) {
    return this.unitOfWork.run(requester, { clusterId }, async ({ trx, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      assertNotDeleting(owner);
      const now = this.clock.now();
      const existing = await this.clusters.maintenanceExclusions(requester.organizationId, clusterId, trx);
      // GKE keys a cluster's exclusions by name, so two of one name could not both reach it.
      if (existing.some((e) => e.name === input.name)) {
        throw new ConflictError('exclusion-name-taken', `cluster ${clusterId} already has a maintenance exclusion named ${input.name}`);
      }
      const candidate = { name: input.name, scope: input.scope, startsAt: new Date(input.starts_at), endsAt: new Date(input.ends_at) };
      assertExclusionAllowed({
        provider: owner.provider,
        candidate,
        existing: existing.map((e) => ({ name: e.name, scope: e.scope, startsAt: e.starts_at, endsAt: e.ends_at })),
        now,
        supportEndsAt: await this.supportEndsAt(trx, owner),
        window: windowSpecOf(owner),
      });
      const id = await insertMaintenanceExclusion(trx, clusterId, candidate, now);
      const operation = providerHoldsExclusions(owner.provider) ? await startSettingsUpdate({ trx, active, enqueue }, owner, ['maintenanceExclusions']) : null;
      await audit({
        action: 'maintenance_exclusion.create',
        target: { type: 'maintenance_exclusion', id },
        changes: exclusionAuditChanges('after', clusterId, { name: input.name, scope: input.scope, startsAt: input.starts_at, endsAt: input.ends_at }),
      });
      const row = await this.clusters.maintenanceExclusion(requester.organizationId, clusterId, id, trx);
      return { exclusion: presentMaintenanceExclusion(row), operation: operation && presentOperation(operation) };
    });
  }

  /**
   * When GKE stops supporting the cluster's minor: the end of standard support, or on the
   * extended channel the end of extended support (GKE's limit for the minor scopes). RKE2 has none.
   */
  private async supportEndsAt(trx: UnitOfWork, cluster: ClusterWithRelations): Promise<Date | null> {
    if (cluster.provider !== 'gke') return null;
    const { major, minor } = parseMinor(cluster.current_version);
    const version = await this.versions.get(trx, cluster.provider, `${major}.${minor}`);
    if (!version) return null;
    const day = cluster.release_channel === 'extended' ? version.endOfSupportAt : (version.standardSupportEndsAt ?? version.endOfSupportAt);
    return new Date(`${day}T00:00:00.000Z`);
  }
}
