import { KubeConfig } from '@kubernetes/client-node';
import { type BackupKindName, BackupDriver, type BackupSpec, type ProviderBackup, type RestoreSpec } from '../../backup-driver';
import { ProviderError } from '../../cluster-provider';
import type { ProviderOperation, ProviderOperationStatus } from '../../infrastructure-driver';
import { CAPI_CLUSTER_NAME_LABEL, CAPI_CONTROL_PLANE_LABEL, CLUSTER_API_VERSION } from '../api-versions';
import { ManagementCluster } from '../management-cluster';
import type { Manifest } from '../manifest';
import { clusterObjectNames } from '../naming';
import type { Rke2DriverOptions } from '../rke2-driver';
import {
  BACKUP_LABEL,
  backupLabels,
  ETCD_RESTORE_KIND,
  ETCD_RESTORE_OPERATION,
  ETCD_SNAPSHOT_KIND,
  ETCD_SNAPSHOT_OPERATION,
  presentEtcdBackup,
  restoreObjectName,
  restoreOperationStatus,
  SNAPSHOT_FILE_API_VERSION,
  SNAPSHOT_FILE_KIND,
  snapshotFileOf,
  snapshotObjectName,
  snapshotOperationStatus,
  TURTLES_API_VERSION,
} from './etcd-objects';
import {
  buildVeleroBackup,
  buildVeleroRestore,
  presentVeleroBackup,
  VELERO_API_VERSION,
  VELERO_BACKUP_OPERATION,
  VELERO_NAMESPACE,
  VELERO_RESTORE_OPERATION,
  veleroBackupName,
  veleroOperationStatus,
  veleroRestoreName,
} from './velero-objects';
import { WorkloadCluster } from './workload-cluster';

/**
 * Backups of RKE2 clusters through their management cluster (docs/rke2-driver.md, "Backups").
 *
 * An etcd snapshot is an `ETCDMachineSnapshot` named from the backup id, next to the cluster's
 * Cluster API objects: the etcd controller (Rancher Turtles' day-2 operations) runs `rke2
 * etcd-snapshot save` on one of the cluster's servers, and RKE2 lists the file (and its S3 copy)
 * as `ETCDSnapshotFile`s on the workload cluster, where getBackup reads location, size and
 * readiness. A control-plane restore is an `ETCDSnapshotRestore` named from the restore id: the
 * controller pauses the cluster, stops RKE2 on every server, runs `rke2 server --cluster-reset
 * --cluster-reset-restore-path=<file>` on the machine that took the snapshot, starts RKE2 again
 * and unpauses.
 *
 * A workload backup is a Velero `Backup` (velero.io/v1, namespace `velero`) on the workload
 * cluster itself, named from the backup id (namespaces, label selector); a workload restore is a
 * Velero `Restore` of it on the target cluster, which may be another cluster of the organisation
 * whose Velero shares the backup storage location. Velero comes with the `velero` add-on.
 */
export class Rke2BackupDriver extends BackupDriver {
  readonly provider = 'rke2' as const;
  private readonly management: ManagementCluster;
  private readonly timeoutMs: number;

  constructor(options: Rke2DriverOptions) {
    super();
    const config = typeof options.kubeconfig === 'string' ? loadKubeconfig(options.kubeconfig) : options.kubeconfig;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.management = new ManagementCluster(config, options.settings.namespace, this.timeoutMs);
  }

  async startBackup(spec: BackupSpec): Promise<ProviderOperation> {
    if (spec.kind === 'workload') return this.startVeleroBackup(spec);
    const name = snapshotObjectName(spec.backupId);
    const doing = `taking etcd snapshot ${spec.backupId} of cluster ${spec.cluster}`;
    const operation: ProviderOperation = { provider: 'rke2', kind: ETCD_SNAPSHOT_OPERATION, name: `${ETCD_SNAPSHOT_KIND}/${name}`, target: spec.cluster };
    // Repeated after a crash: the snapshot the first call asked for is the one to follow.
    const existing = await this.management.get(this.snapshotKey(name), doing);
    if (existing) return this.ownSnapshot(existing, spec.cluster, spec.backupId) && operation;

    await this.liveCluster(spec.cluster, doing);
    const machine = await this.snapshotMachine(spec.cluster, doing);
    const { object } = await this.management.create(
      {
        apiVersion: TURTLES_API_VERSION,
        kind: ETCD_SNAPSHOT_KIND,
        metadata: { name, labels: backupLabels(spec.cluster, spec.backupId) },
        spec: { clusterName: clusterObjectNames(spec.cluster).cluster, machineName: machine },
      },
      doing,
    );
    this.ownSnapshot(object, spec.cluster, spec.backupId);
    return operation;
  }

  async getBackup(cluster: string, backupId: string, kind: BackupKindName): Promise<ProviderBackup | null> {
    if (kind === 'workload') {
      const doing = `reading workload backup ${backupId} of cluster ${cluster}`;
      const backup = await (await this.workload(cluster, doing)).get(this.veleroBackupKey(backupId), doing);
      return backup ? presentVeleroBackup(backupId, backup) : null;
    }
    const doing = `reading etcd snapshot ${backupId} of cluster ${cluster}`;
    const snapshot = await this.management.get(this.snapshotKey(snapshotObjectName(backupId)), doing);
    if (!snapshot || (snapshot.spec as { clusterName?: string } | undefined)?.clusterName !== cluster) return null;
    const file = snapshotFileOf(snapshot);
    const files = file ? await this.snapshotFiles(cluster, file, doing) : [];
    return presentEtcdBackup(backupId, snapshot, files);
  }

  /**
   * Deleting the ETCDMachineSnapshot makes its controller delete the snapshot files (`rke2
   * etcd-snapshot delete`, on disk and in S3) before the object goes; absent is fine.
   */
  async deleteBackup(cluster: string, backupId: string, kind: BackupKindName): Promise<void> {
    if (kind === 'workload') return this.deleteVeleroBackup(cluster, backupId);
    const doing = `deleting etcd snapshot ${backupId} of cluster ${cluster}`;
    const key = this.snapshotKey(snapshotObjectName(backupId));
    const snapshot = await this.management.get(key, doing);
    if (!snapshot) return;
    this.ownSnapshot(snapshot, cluster, backupId);
    await this.management.delete(key, doing);
  }

  async startRestore(spec: RestoreSpec): Promise<ProviderOperation> {
    const { backup } = spec;
    if (spec.scope === 'workloads' && backup.kind === 'workload') return this.startVeleroRestore(spec);
    if (spec.scope !== 'control_plane' || backup.kind !== 'etcd_snapshot')
      throw new ProviderError(
        spec.scope === 'control_plane'
          ? 'a control-plane restore needs an etcd snapshot; a workload backup restores workloads'
          : 'a workload restore needs a workload backup; an etcd snapshot restores the whole control plane',
        false,
        'restore_unsupported',
      );
    if (spec.targetCluster !== backup.cluster)
      throw new ProviderError(
        `an etcd snapshot of cluster ${backup.cluster} restores that cluster only, not ${spec.targetCluster}`,
        false,
        'restore_target_invalid',
      );
    const name = restoreObjectName(spec.restoreId);
    const snapshotName = snapshotObjectName(backup.backupId);
    const doing = `restoring cluster ${backup.cluster} from etcd snapshot ${backup.backupId}`;
    const operation: ProviderOperation = { provider: 'rke2', kind: ETCD_RESTORE_OPERATION, name: `${ETCD_RESTORE_KIND}/${name}`, target: backup.cluster };
    const key = { apiVersion: TURTLES_API_VERSION, kind: ETCD_RESTORE_KIND, name };
    const existing = await this.management.get(key, doing);
    if (existing) return this.ownRestore(existing, backup.cluster, snapshotName) && operation;

    await this.liveCluster(backup.cluster, doing);
    const snapshot = await this.management.get(this.snapshotKey(snapshotName), doing);
    if (!snapshot) throw new ProviderError(`cluster ${backup.cluster} has no etcd snapshot ${backup.backupId}`, false, 'backup_missing');
    this.ownSnapshot(snapshot, backup.cluster, backup.backupId);
    if ((snapshot.status as { phase?: string } | undefined)?.phase !== 'Done')
      throw new ProviderError(
        `etcd snapshot ${backup.backupId} of cluster ${backup.cluster} has not succeeded; it cannot be restored`,
        false,
        'backup_not_ready',
      );
    const { object } = await this.management.create(
      {
        apiVersion: TURTLES_API_VERSION,
        kind: ETCD_RESTORE_KIND,
        metadata: { name, labels: backupLabels(backup.cluster, backup.backupId) },
        spec: { clusterName: clusterObjectNames(backup.cluster).cluster, etcdMachineSnapshotName: snapshotName },
      },
      doing,
    );
    this.ownRestore(object, backup.cluster, snapshotName);
    return operation;
  }

  async getOperation(operation: ProviderOperation): Promise<ProviderOperationStatus> {
    const [kind, name] = operation.name.split('/');
    if (operation.provider === 'rke2' && operation.kind === ETCD_SNAPSHOT_OPERATION && kind === ETCD_SNAPSHOT_KIND && name) {
      const snapshot = await this.management.get(this.snapshotKey(name), `following the etcd snapshot of cluster ${operation.target}`);
      return snapshotOperationStatus(snapshot, operation.target);
    }
    if (operation.provider === 'rke2' && operation.kind === ETCD_RESTORE_OPERATION && kind === ETCD_RESTORE_KIND && name) {
      const restore = await this.management.get(
        { apiVersion: TURTLES_API_VERSION, kind: ETCD_RESTORE_KIND, name },
        `following the etcd restore of cluster ${operation.target}`,
      );
      return restoreOperationStatus(restore, operation.target);
    }
    if (operation.provider === 'rke2' && (operation.kind === VELERO_BACKUP_OPERATION || operation.kind === VELERO_RESTORE_OPERATION) && name) {
      const what = operation.kind === VELERO_BACKUP_OPERATION ? 'backup' : 'restore';
      if (kind !== (what === 'backup' ? 'Backup' : 'Restore')) throw unknownOperation(operation);
      const doing = `following the workload ${what} on cluster ${operation.target}`;
      const object = await (
        await this.workload(operation.target, doing)
      ).get({ apiVersion: VELERO_API_VERSION, kind, name, namespace: VELERO_NAMESPACE }, doing);
      return veleroOperationStatus(object, what, operation.target);
    }
    throw unknownOperation(operation);
  }

  private async startVeleroBackup(spec: BackupSpec): Promise<ProviderOperation> {
    const doing = `taking workload backup ${spec.backupId} of cluster ${spec.cluster}`;
    const object = buildVeleroBackup(spec);
    const operation: ProviderOperation = { provider: 'rke2', kind: VELERO_BACKUP_OPERATION, name: `Backup/${object.metadata.name}`, target: spec.cluster };
    await this.liveCluster(spec.cluster, doing);
    const { object: found } = await (await this.workload(spec.cluster, doing)).create(object, doing);
    if (found.metadata.labels?.[BACKUP_LABEL] !== spec.backupId)
      throw new ProviderError(
        `Velero backup ${object.metadata.name} on cluster ${spec.cluster} was not made by Capstan for backup ${spec.backupId}`,
        false,
        'name_taken',
      );
    return operation;
  }

  /**
   * Velero deletes a backup (its Backup object and what it wrote to the storage location) on a
   * DeleteBackupRequest; deleting the Backup object alone would bring it back at the next sync.
   */
  private async deleteVeleroBackup(cluster: string, backupId: string): Promise<void> {
    const doing = `deleting workload backup ${backupId} of cluster ${cluster}`;
    const workload = await this.workload(cluster, doing);
    if (!(await workload.get(this.veleroBackupKey(backupId), doing))) return;
    const name = `delete-${veleroBackupName(backupId)}`;
    await workload.create(
      {
        apiVersion: VELERO_API_VERSION,
        kind: 'DeleteBackupRequest',
        metadata: { name, namespace: VELERO_NAMESPACE, labels: { 'velero.io/backup-name': veleroBackupName(backupId), [BACKUP_LABEL]: backupId } },
        spec: { backupName: veleroBackupName(backupId) },
      },
      doing,
    );
  }

  private async startVeleroRestore(spec: RestoreSpec): Promise<ProviderOperation> {
    const { backup } = spec;
    const doing = `restoring workload backup ${backup.backupId} into cluster ${spec.targetCluster}`;
    const object = buildVeleroRestore(spec);
    const operation: ProviderOperation = {
      provider: 'rke2',
      kind: VELERO_RESTORE_OPERATION,
      name: `Restore/${veleroRestoreName(spec.restoreId)}`,
      target: spec.targetCluster,
    };
    const target = await this.workload(spec.targetCluster, doing);
    const existing = await target.get({ apiVersion: VELERO_API_VERSION, kind: 'Restore', name: object.metadata.name, namespace: VELERO_NAMESPACE }, doing);
    if (existing) return operation;
    const source = await (await this.workload(backup.cluster, doing)).get(this.veleroBackupKey(backup.backupId), doing);
    if (!source) throw new ProviderError(`cluster ${backup.cluster} has no workload backup ${backup.backupId}`, false, 'backup_missing');
    if (presentVeleroBackup(backup.backupId, source).state !== 'succeeded')
      throw new ProviderError(
        `workload backup ${backup.backupId} of cluster ${backup.cluster} has not succeeded; it cannot be restored`,
        false,
        'backup_not_ready',
      );
    await this.liveCluster(spec.targetCluster, doing);
    await target.create(object, doing);
    return operation;
  }

  private veleroBackupKey(backupId: string) {
    return { apiVersion: VELERO_API_VERSION, kind: 'Backup', name: veleroBackupName(backupId), namespace: VELERO_NAMESPACE };
  }

  /** The workload cluster through its admin kubeconfig; retryable while CAPRKE2 has not written it. */
  private async workload(cluster: string, doing: string): Promise<WorkloadCluster> {
    const secret = await this.management.get({ apiVersion: 'v1', kind: 'Secret', name: clusterObjectNames(cluster).kubeconfigSecret }, doing);
    const workload = WorkloadCluster.fromKubeconfigSecret(cluster, secret as { data?: Record<string, string> } | null, this.timeoutMs);
    if (workload) return workload;
    await this.liveCluster(cluster, doing);
    throw new ProviderError(`cluster ${cluster} has no admin kubeconfig yet: its control plane is still starting`, true, 'kubeconfig_pending');
  }

  private snapshotKey(name: string) {
    return { apiVersion: TURTLES_API_VERSION, kind: ETCD_SNAPSHOT_KIND, name };
  }

  /** True, or a final error when a same-named object is not this backup of this cluster. */
  private ownSnapshot(snapshot: Manifest, cluster: string, backupId: string): true {
    if ((snapshot.spec as { clusterName?: string } | undefined)?.clusterName !== cluster)
      throw new ProviderError(`etcd snapshot ${backupId} belongs to another cluster than ${cluster}`, false, 'name_taken');
    return true;
  }

  private ownRestore(restore: Manifest, cluster: string, snapshotName: string): true {
    const spec = (restore.spec ?? {}) as { clusterName?: string; etcdMachineSnapshotName?: string };
    if (spec.clusterName !== cluster || spec.etcdMachineSnapshotName !== snapshotName)
      throw new ProviderError(`restore ${restore.metadata.name} exists for another cluster or snapshot`, false, 'name_taken');
    return true;
  }

  private async liveCluster(cluster: string, doing: string): Promise<void> {
    const found = await this.management.get({ apiVersion: CLUSTER_API_VERSION, kind: 'Cluster', name: clusterObjectNames(cluster).cluster }, doing);
    if (!found) throw new ProviderError(`cluster ${cluster} does not exist`, false, 'cluster_missing');
    if (found.metadata.deletionTimestamp) throw new ProviderError(`cluster ${cluster} is being deleted`, false, 'cluster_deleting');
  }

  /**
   * The server that takes the snapshot: the first running control-plane machine with a node, by
   * name, so two attempts pick the same one while nothing changes. None yet is retryable.
   */
  private async snapshotMachine(cluster: string, doing: string): Promise<string> {
    const machines = await this.management.list(CLUSTER_API_VERSION, 'Machine', `${CAPI_CLUSTER_NAME_LABEL}=${cluster},${CAPI_CONTROL_PLANE_LABEL}`, doing);
    const ready = machines
      .filter((m) => !m.metadata.deletionTimestamp)
      .filter((m) => {
        const status = (m.status ?? {}) as { phase?: string; nodeRef?: { name?: string } };
        return status.phase === 'Running' && Boolean(status.nodeRef?.name);
      })
      .map((m) => m.metadata.name)
      .sort();
    if (ready.length === 0)
      throw new ProviderError(`cluster ${cluster} has no running server to take an etcd snapshot on yet`, true, 'control_plane_not_ready');
    return ready[0]!;
  }

  /**
   * The ETCDSnapshotFiles RKE2 lists for `file` on the workload cluster, through its admin
   * kubeconfig; null when the cluster cannot be asked (its API server down, no kubeconfig): the
   * management cluster's record of the snapshot then stands alone.
   */
  private async snapshotFiles(cluster: string, file: string, doing: string): Promise<Manifest[] | null> {
    const secret = await this.management.get({ apiVersion: 'v1', kind: 'Secret', name: clusterObjectNames(cluster).kubeconfigSecret }, doing);
    const workload = WorkloadCluster.fromKubeconfigSecret(cluster, secret as { data?: Record<string, string> } | null, this.timeoutMs);
    if (!workload) return null;
    try {
      const files = await workload.list(SNAPSHOT_FILE_API_VERSION, SNAPSHOT_FILE_KIND, doing);
      return files.filter((item) => (item.spec as { snapshotName?: string } | undefined)?.snapshotName === file);
    } catch (error) {
      // Down or unreachable: the cluster may be the one being repaired; what the management cluster knows still answers.
      if (error instanceof ProviderError && error.retryable) return null;
      throw error;
    }
  }
}

function unknownOperation(operation: ProviderOperation): ProviderError {
  return new ProviderError(`operation ${operation.kind} ${operation.name} is not an RKE2 backup or restore`, false, 'unknown_operation');
}

function loadKubeconfig(yaml: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(yaml);
  return config;
}
