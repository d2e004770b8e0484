import { AddonCatalogue } from '@capstan/addons';
import { RecordRestore, ReadClusters, StartBackupOperation } from '@capstan/clusters';
import { type BackupClusterFacts, BackupClusterSource, type BackupRequester, type PlannedBackupOperation, RestoredClusters } from '@capstan/backups';
import type { UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/** The presented cluster as libs/backups needs it. */
function backupFacts(
  cluster: { id: string; provider: 'rke2' | 'gke'; region: string; status: BackupClusterFacts['status']; current_version: string },
  organizationId: string,
): BackupClusterFacts {
  return { id: cluster.id, organizationId, provider: cluster.provider, region: cluster.region, status: cluster.status, version: cluster.current_version };
}

/**
 * libs/backups' view of clusters (the API's routes, the worker's scheduler and steps), answered by
 * ReadClusters and StartBackupOperation of libs/clusters and AddonCatalogue of libs/addons
 * (docs/architecture.md, "Feature-to-feature calls"). Composition only: no rule lives here.
 */
@Injectable()
export class ClustersForBackups extends BackupClusterSource {
  constructor(
    private readonly clusters: ReadClusters,
    private readonly start_: StartBackupOperation,
    private readonly addons: AddonCatalogue,
  ) {
    super();
  }

  async cluster(organizationId: string, clusterId: string): Promise<BackupClusterFacts> {
    return backupFacts(await this.clusters.get(organizationId, clusterId), organizationId);
  }

  enabledAddons(organizationId: string, clusterId: string, trx?: UnitOfWork): Promise<string[]> {
    return this.addons.enabledAddons(clusterId, organizationId, trx);
  }

  start(
    requester: BackupRequester,
    clusterId: string,
    type: PlannedBackupOperation['type'],
    plan: (cluster: BackupClusterFacts, trx: UnitOfWork) => Promise<PlannedBackupOperation>,
  ) {
    return this.start_.execute(requester, clusterId, type, (cluster, trx) => plan(backupFacts(cluster, requester.organizationId), trx));
  }
}

/** Restore steps put the cluster back to running through libs/clusters' RecordRestore (the worker). */
@Injectable()
export class ClusterRestores extends RestoredClusters {
  constructor(private readonly record: RecordRestore) {
    super();
  }

  restored(clusterId: string) {
    return this.record.restored(clusterId);
  }
}
