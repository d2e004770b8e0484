import { presentOperation } from '@capstan/operations';
import { Clock } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { deleteMaintenanceExclusion } from '../cluster-writes';
import { ClustersRepository } from '../clusters.repository';
import { assertNotDeleting, exclusionAuditChanges, providerHoldsExclusions } from './exclusion-changes';
import { startSettingsUpdate } from './settings-update';

/**
 * DELETE /v1/clusters/{id}/maintenance-exclusions/{exclusion}: gone from Capstan's planning at
 * once; on GKE an `update_cluster` operation takes it out of GKE's maintenance policy too, unless
 * it had already ended (GKE is sent only exclusions that have not, so there is nothing to take out).
 */
@Injectable()
export class DeleteMaintenanceExclusion {
  constructor(
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly clusters: ClustersRepository,
    private readonly clock: Clock,
  ) {}

  async execute(requester: Requester, clusterId: string, id: string) {
    return this.unitOfWork.run(requester, { clusterId }, async ({ trx, cluster, active, enqueue, audit }) => {
      const owner = cluster!;
      const exclusion = await this.clusters.maintenanceExclusion(requester.organizationId, clusterId, id, trx);
      assertNotDeleting(owner);
      await deleteMaintenanceExclusion(trx, clusterId, id);
      const atProvider = providerHoldsExclusions(owner.provider) && exclusion.ends_at > this.clock.now();
      const operation = atProvider ? await startSettingsUpdate({ trx, active, enqueue }, owner, ['maintenanceExclusions']) : null;
      await audit({
        action: 'maintenance_exclusion.delete',
        target: { type: 'maintenance_exclusion', id },
        changes: exclusionAuditChanges('before', clusterId, {
          name: exclusion.name,
          scope: exclusion.scope,
          startsAt: exclusion.starts_at.toISOString(),
          endsAt: exclusion.ends_at.toISOString(),
        }),
      });
      return { operation: operation && presentOperation(operation) };
    });
  }
}
