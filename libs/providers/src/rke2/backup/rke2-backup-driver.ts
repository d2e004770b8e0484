import { createConfiguration, KubeConfig, KubernetesObjectApi, ServerConfiguration } from '@kubernetes/client-node';
import { type BackupKindName, BackupDriver, type BackupSpec, type ProviderBackup, type RestoreSpec } from '../../backup-driver';
import { ProviderError } from '../../cluster-provider';
import type { ProviderOperation, ProviderOperationStatus } from '../../infrastructure-driver';
import { kubeNetworkReason, kubeStatusCode } from '../../kube-answers';
import { CAPI_CLUSTER_NAME_LABEL, CAPI_CONTROL_PLANE_LABEL, CLUSTER_API_VERSION } from '../api-versions';
import { ManagementCluster } from '../management-cluster';
import type { Manifest } from '../manifest';
import { clusterObjectNames } from '../naming';
import type { Rke2DriverOptions } from '../rke2-driver';
import {
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
 * and unpauses. Workload backups (Velero's model) are not offered on RKE2 yet.
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
    assertEtcd(spec.kind);
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
    assertEtcd(kind);
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
    assertEtcd(kind);
    const doing = `deleting etcd snapshot ${backupId} of cluster ${cluster}`;
    const key = this.snapshotKey(snapshotObjectName(backupId));
    const snapshot = await this.management.get(key, doing);
    if (!snapshot) return;
    this.ownSnapshot(snapshot, cluster, backupId);
    await this.management.delete(key, doing);
  }

  async startRestore(spec: RestoreSpec): Promise<ProviderOperation> {
    const { backup } = spec;
    if (spec.scope !== 'control_plane' || backup.kind !== 'etcd_snapshot')
      throw new ProviderError(
        'RKE2 clusters restore their control plane from etcd snapshots; workload restores are not available on RKE2 yet',
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
    throw new ProviderError(`operation ${operation.kind} ${operation.name} is not an RKE2 backup or restore`, false, 'unknown_operation');
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
    const encoded = (secret as { data?: Record<string, string> } | null)?.data?.value;
    if (!encoded) return null;
    let api: KubernetesObjectApi;
    try {
      api = objectApi(loadKubeconfig(Buffer.from(encoded, 'base64').toString('utf8')), this.timeoutMs);
    } catch {
      return null;
    }
    try {
      const list = await api.list(SNAPSHOT_FILE_API_VERSION, SNAPSHOT_FILE_KIND);
      return (list.items as unknown as Manifest[]).filter((item) => (item.spec as { snapshotName?: string } | undefined)?.snapshotName === file);
    } catch (error) {
      // Down or unreachable: the cluster may be the one being repaired; what the management cluster knows still answers.
      if (kubeNetworkReason(error) || (kubeStatusCode(error) ?? 0) >= 500) return null;
      throw new ProviderError(
        `${doing}: the workload cluster refused to list its etcd snapshot files (${error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : 'unknown error'})`,
        false,
        'provider_rejected',
      );
    }
  }
}

function assertEtcd(kind: BackupKindName): void {
  if (kind !== 'etcd_snapshot')
    throw new ProviderError('RKE2 clusters are backed up as etcd snapshots; workload backups are not available on RKE2 yet', false, 'backup_kind_unsupported');
}

function loadKubeconfig(yaml: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(yaml);
  return config;
}

function objectApi(config: KubeConfig, timeoutMs: number): KubernetesObjectApi {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new KubernetesObjectApi(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: config },
      promiseMiddleware: [{ pre: async (context) => (context.setSignal(AbortSignal.timeout(timeoutMs)), context), post: async (response) => response }],
    }),
  );
}
