import type { backupRoutes, RouteInput } from '@capstan/contracts';
import { assertRestoreAllowed, clusterStatusDuringBackupWork, ValidationError } from '@capstan/domain';
import type { UnitOfWork } from '@capstan/platform';
import { OrganizationsService } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { type BackupClusterFacts, BackupClusterSource, type BackupRequester } from '../backup-cluster-source';
import type { BackupRow } from '../backup-view';
import { BackupsRepository } from '../backups.repository';

type Body = RouteInput<typeof backupRoutes.restoreBackup>['body'];

/** What a restore operation keeps in its params. */
export interface RestoreParams {
  backupId: string;
  scope: 'control_plane' | 'workloads';
  sourceClusterId: string;
  namespaces: string[];
}

/**
 * POST /v1/clusters/{cluster_id}/restore (docs/backups.md, "Restore"): `cluster_id` is the backup's
 * cluster; the restore runs on the target (the same cluster, or for workloads another one of the
 * organisation), whose lock it takes. The rules are checked before and again under the lock, from
 * the target as locked (a version that moved meanwhile is refused).
 */
@Injectable()
export class RestoreBackup {
  constructor(
    private readonly source: BackupClusterSource,
    private readonly backups: BackupsRepository,
    private readonly organizations: OrganizationsService,
  ) {}

  async execute(requester: BackupRequester, clusterId: string, body: Body) {
    if (body.scope === 'control_plane' && (body.target_cluster_id !== undefined || body.namespaces.length > 0)) {
      const fields = [...(body.target_cluster_id !== undefined ? ['target_cluster_id'] : []), ...(body.namespaces.length > 0 ? ['namespaces'] : [])];
      throw new ValidationError(
        fields.map((field) => ({ field, message: "is for workload restores only: a control-plane restore resets the backup's own cluster whole" })),
      );
    }
    const own = await this.source.cluster(requester.organizationId, clusterId);
    const backup = await this.backups.backup(requester.organizationId, clusterId, body.backup_id);
    const targetId = body.target_cluster_id ?? clusterId;
    const { residency } = await this.organizations.get(requester.organizationId);
    const check = (target: BackupClusterFacts, targetAddons: readonly string[]) =>
      assertRestoreAllowed({
        organizationId: requester.organizationId,
        residency,
        backup: restorable(backup, own.provider),
        target,
        scope: body.scope,
        namespaces: body.namespaces,
        targetAddons,
      });
    // Only an RKE2 workload restore asks about add-ons (rule 8, the velero add-on on the target).
    const addonsOf = (target: BackupClusterFacts, trx?: UnitOfWork) =>
      body.scope === 'workloads' && target.provider === 'rke2' ? this.source.enabledAddons(requester.organizationId, target.id, trx) : Promise.resolve([]);
    const target = await this.source.cluster(requester.organizationId, targetId);
    check(target, await addonsOf(target));
    const params: RestoreParams = { backupId: backup.id, scope: body.scope, sourceClusterId: clusterId, namespaces: body.namespaces };
    return this.source.start(requester, targetId, 'restore_backup', async (target, trx) => {
      // Again under the lock: an add-on change takes it too, so what is read here holds until commit.
      check(target, await addonsOf(target, trx));
      return {
        type: 'restore_backup',
        status: clusterStatusDuringBackupWork(body.scope === 'control_plane' ? 'restore_control_plane' : 'restore_workloads'),
        target: { type: 'cluster', id: targetId },
        params: { ...params },
        audit: {
          action: 'cluster.restore',
          target: { type: 'cluster', id: targetId },
          changes: { backup: { before: null, after: backup.id }, scope: { before: null, after: body.scope } },
        },
        enqueued: (operationId, trx) => this.backups.markRestoring(trx, backup.id, operationId),
      };
    });
  }
}

function restorable(b: BackupRow, provider: BackupClusterFacts['provider']) {
  return {
    id: b.id,
    organizationId: b.organization_id,
    clusterId: b.cluster_id,
    kind: b.kind,
    status: b.status,
    statusReason: b.status === 'deleted' || b.status === 'failed' ? reasonOf(b.error) : null,
    region: b.region,
    clusterVersion: b.cluster_version,
    provider,
    includedNamespaces: b.included_namespaces ?? [],
    excludedNamespaces: b.excluded_namespaces ?? [],
  };
}

/** The message a backup's `error` records (why it failed, or why it went: docs/backups.md). */
function reasonOf(error: unknown): string | null {
  const message = error && typeof error === 'object' ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : null;
}
