import { assertDeleteLock, assertWorkloadBackupTool, backupKindFor, type BackupPurpose } from '@capstan/domain';
import { Clock, newId, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { BackupClusterSource, type BackupRequester } from '../backup-cluster-source';
import { presentBackup } from '../backup-view';
import { BackupsRepository } from '../backups.repository';
import { assertWorkloadFields } from './schedule-rules';

export interface BackupRequest {
  /** The provider's default when absent (an etcd snapshot where there is one). */
  kind?: 'etcd_snapshot' | 'workload';
  purpose: Extract<BackupPurpose, 'scheduled' | 'on_demand'>;
  includedNamespaces: string[];
  excludedNamespaces: string[];
  labelSelector: string | null;
  /** Expire this many days after it finished; null: by the schedule's count, or kept until deleted. */
  retainDays: number | null;
  /** Backup for GKE's delete lock in days (null or 0: none); at most `retainDays`. */
  deleteLockDays?: number | null;
  scheduleId?: string;
  /** Where it is stored; the cluster's region by default (the schedule's region was checked against residency). */
  region?: string;
  /** Runs first in the transaction; false means someone else already took this one (nothing is written). */
  claim?: (trx: UnitOfWork) => Promise<boolean>;
}

/** Thrown inside the transaction when `claim` says the window was already handled: rolls it back. */
export class AlreadyHandled extends Error {}

/**
 * Takes a backup: the backup row (pending) and its `create_backup` operation in one transaction,
 * under the cluster's lock (docs/backups.md, "On-demand backups"). The route and the scheduler
 * share this one path; the cluster keeps its status (a backup does not change it).
 */
@Injectable()
export class TakeBackup {
  constructor(
    private readonly source: BackupClusterSource,
    private readonly backups: BackupsRepository,
    private readonly clock: Clock,
  ) {}

  async execute(requester: BackupRequester, clusterId: string, request: BackupRequest) {
    const facts = await this.source.cluster(requester.organizationId, clusterId);
    const kind = backupKindFor(facts.provider, request.kind);
    assertDeleteLock(facts.provider, { deleteLockDays: request.deleteLockDays, retainDays: request.retainDays });
    assertWorkloadFields(kind, {
      included_namespaces: request.includedNamespaces,
      excluded_namespaces: request.excludedNamespaces,
      label_selector: request.labelSelector,
    });
    // An on-demand RKE2 workload backup needs the velero add-on (docs/backups.md, "The model"),
    // checked now and again under the lock. A scheduled one is not refused here: a refused window
    // would stay due and be retried every tick unseen, while a backup that fails with
    // `velero_missing` shows the customer and staff what is wrong.
    const toolCheck = request.purpose === 'on_demand' && kind === 'workload' && facts.provider === 'rke2';
    const assertTool = async (trx?: UnitOfWork) => {
      if (toolCheck)
        assertWorkloadBackupTool(facts, kind, await this.source.enabledAddons(requester.organizationId, clusterId, trx), 'take workload backups of');
    };
    await assertTool();
    const backupId = newId('bk');
    const { operation } = await this.source.start(requester, clusterId, 'create_backup', async (cluster, trx) => {
      if (request.claim && !(await request.claim(trx))) throw new AlreadyHandled();
      await assertTool(trx);
      await this.backups.insertBackup(trx, {
        id: backupId,
        cluster_id: clusterId,
        organization_id: requester.organizationId,
        schedule_id: request.scheduleId ?? null,
        kind,
        status: 'pending',
        region: request.region ?? cluster.region,
        cluster_version: cluster.version,
        purpose: request.purpose,
        included_namespaces: request.includedNamespaces,
        excluded_namespaces: request.excludedNamespaces,
        label_selector: request.labelSelector,
        created_at: this.clock.now(),
      });
      return {
        type: 'create_backup',
        status: null,
        target: { type: 'backup', id: backupId },
        params: { backupId, retainDays: request.retainDays, ...(request.deleteLockDays ? { deleteLockDays: request.deleteLockDays } : {}) },
        audit: {
          action: 'backup.create',
          target: { type: 'backup', id: backupId },
          changes: { kind: { before: null, after: kind }, purpose: { before: null, after: request.purpose } },
        },
        enqueued: (operationId, tx) => this.backups.setOperation(tx, backupId, operationId),
      };
    });
    return { backup: presentBackup(await this.backups.backup(requester.organizationId, clusterId, backupId)), operation };
  }
}
