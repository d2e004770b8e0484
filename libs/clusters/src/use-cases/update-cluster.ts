import { clusterRoutes, type z } from '@capstan/contracts';
import { ConflictError } from '@capstan/domain';
import { Clock } from '@capstan/platform';
import { changesBetween } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { ClusterUnitOfWork, type Requester } from '../cluster-change';
import { presentCluster } from '../cluster-view';
import { ClustersRepository } from '../clusters.repository';
import { updateClusterSettings } from '../cluster-writes';
import { assertEtag, audited } from './change-rows';
import { checkedWindow } from './window-rules';

export type UpdateClusterInput = z.infer<typeof clusterRoutes.updateClusterBody>;

/** PATCH /v1/clusters/{id}: labels, flags, release channel and maintenance window, under If-Match. */
@Injectable()
export class UpdateCluster {
  constructor(
    private readonly unitOfWork: ClusterUnitOfWork,
    private readonly clusters: ClustersRepository,
    private readonly clock: Clock,
  ) {}

  async execute(requester: Requester, id: string, ifMatch: string | undefined, input: UpdateClusterInput) {
    const updated = await this.unitOfWork.run(requester, { clusterId: id }, async ({ trx, cluster, audit }) => {
      const before = cluster!;
      assertEtag('cluster', before.id, before.resource_version, ifMatch);
      if (before.status === 'deleting') throw new ConflictError('cluster-state-conflict', `cluster ${id} is being deleted; it can no longer be changed`);
      await updateClusterSettings(trx, id, { ...input, maintenance_window: checkedWindow(before.provider, input.maintenance_window, this.clock.now()) });
      const after = await this.clusters.get(requester.organizationId, id, trx);
      await audit({
        action: 'cluster.update',
        target: { type: 'cluster', id },
        changes: changesBetween(audited(before), audited(after), ['labels', 'autoUpgrade', 'deletionProtection', 'releaseChannel', 'maintenanceWindow']),
      });
      return after;
    });
    return presentCluster(updated);
  }
}
