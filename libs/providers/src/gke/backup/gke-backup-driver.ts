import { BackupDriver, type BackupKindName, type BackupSpec, type ProviderBackup, type RestoreSpec } from '../../backup-driver';
import { ProviderError } from '../../cluster-provider';
import type { ProviderOperation, ProviderOperationStatus } from '../../infrastructure-driver';
import { GkeTokenSource } from '../gke-auth';
import { GkeDriver } from '../gke-driver';
import { RPC, rpcCode, toProviderError } from '../gke-mapping';
import type { GkeDriverSettings } from '../gke-settings';
import { GkeBackupApi, type LongRunningOperation } from './gke-backup-api';
import {
  assertWorkloadKind,
  backupConfigOf,
  backupPlanIdOf,
  type GkeBackup,
  type GkeRestore,
  providerBackupOf,
  resourceIdOf,
  resourceStatus,
  restoreConfigOf,
  restorePlanIdOf,
} from './gke-backup-mapping';

export interface GkeBackupDriverSettings extends GkeDriverSettings {
  /** Root of Backup for GKE, `https://gkebackup.googleapis.com` or the emulator's (the GKE emulator serves it too). */
  backupApiEndpoint: string;
}

export const GKE_BACKUP_OPERATION_KIND = 'gke-backup-operation';

/** google.rpc.Code values of a failed long-running operation that may pass when asked again. */
const RETRYABLE_OPERATION_CODES = new Set<number>([
  RPC.CANCELLED,
  RPC.UNKNOWN,
  RPC.DEADLINE_EXCEEDED,
  RPC.RESOURCE_EXHAUSTED,
  RPC.ABORTED,
  RPC.INTERNAL,
  RPC.UNAVAILABLE,
]);

interface BackupPlan {
  name: string;
  cluster: string;
  state?: string;
  stateReason?: string;
}

interface LocatedCluster {
  name: string;
  resourceName: string;
  location: string;
}

/**
 * Workload backups of GKE clusters through Backup for GKE v1 (gkebackup.googleapis.com, REST).
 *
 * A Capstan backup `bk_<id>` is the Backup `bk-<id>` of the cluster's BackupPlan for its scope,
 * `<cluster>-<hash of the scope>` in the cluster's location (one plan per scope, so a plan never
 * changes under a backup; Capstan's scheduler triggers each backup, so plans carry no schedule and
 * no retention of their own). A restore `op_<id>` is the Restore `op-<id>` of the RestorePlan for
 * its target cluster, backup plan and namespaces, with DELETE_AND_RESTORE: the namespaces go back
 * to the backup, and what was made after it is gone.
 *
 * Names derive from Capstan's ids, so a call repeated after a lost answer or a restarted worker
 * finds the resource the first call made and follows it: no second backup or restore is started.
 * The ProviderOperation names the create's long-running operation, or the resource itself when
 * the create happened earlier; getOperation follows either to the resource's own state.
 */
export class GkeBackupDriver extends BackupDriver {
  readonly provider = 'gke' as const;
  private readonly api: GkeBackupApi;
  /** The Container API, to find a cluster's location and resource name. */
  private readonly clusters: GkeDriver;

  constructor(private readonly settings: GkeBackupDriverSettings) {
    super();
    this.api = new GkeBackupApi(new GkeTokenSource(settings.credentials, settings.timeoutMs), settings.backupApiEndpoint, settings.timeoutMs);
    this.clusters = new GkeDriver(settings);
  }

  async close(): Promise<void> {
    await this.clusters.close();
  }

  // --- backups -------------------------------------------------------------------------------

  async startBackup(spec: BackupSpec): Promise<ProviderOperation> {
    assertWorkloadKind(spec.kind);
    const { config, scopeKey } = backupConfigOf(spec);
    const cluster = await this.requireCluster(spec.cluster);
    const plan = await this.ensureBackupPlan(cluster, backupPlanIdOf(cluster.name, scopeKey), config);
    const backupId = resourceIdOf(spec.backupId);
    const name = `${plan.name}/backups/${backupId}`;
    // A repeat (the first answer lost, a restarted worker) follows the backup the first call made.
    if (await this.api.find<GkeBackup>(name, `reading backup ${backupId}`)) return this.handle(name, spec.cluster);
    try {
      const operation = await this.api.call<LongRunningOperation>('POST', `${plan.name}/backups`, {
        query: { backupId },
        body: {
          labels: { 'capstan-backup': backupId },
          description: `Capstan backup ${spec.backupId}`,
          ...(spec.deleteLockDays ? { deleteLockDays: spec.deleteLockDays } : {}),
        },
      });
      return this.handle(operation.name, spec.cluster);
    } catch (error) {
      if (rpcCode(error) === RPC.ALREADY_EXISTS) return this.handle(name, spec.cluster);
      throw toProviderError(error, `starting backup ${backupId} of ${spec.cluster}`);
    }
  }

  async getBackup(cluster: string, backupId: string, kind: BackupKindName): Promise<ProviderBackup | null> {
    if (kind === 'etcd_snapshot') return null;
    const found = await this.findBackup(cluster, backupId);
    return found && providerBackupOf(backupId, found);
  }

  async deleteBackup(cluster: string, backupId: string, kind: BackupKindName): Promise<void> {
    if (kind === 'etcd_snapshot') return;
    const found = await this.findBackup(cluster, backupId);
    if (!found || found.state === 'DELETING') return;
    try {
      await this.api.call('DELETE', found.name);
    } catch (error) {
      if (rpcCode(error) === RPC.NOT_FOUND) return;
      throw toProviderError(error, `deleting backup ${found.name}`);
    }
  }

  // --- restores ------------------------------------------------------------------------------

  async startRestore(spec: RestoreSpec): Promise<ProviderOperation> {
    assertWorkloadKind(spec.backup.kind, spec.scope);
    const backupName = spec.backup.location ?? (await this.findBackup(spec.backup.cluster, spec.backup.backupId))?.name;
    const backup = backupName ? await this.api.find<GkeBackup>(backupName, `reading backup ${backupName}`) : null;
    if (!backupName || !backup) {
      throw new ProviderError(`Backup for GKE has no backup ${spec.backup.backupId} of cluster ${spec.backup.cluster}`, false, 'gke_not_found');
    }
    const target = await this.requireCluster(spec.targetCluster);
    const backupPlan = backupName.replace(/\/backups\/[^/]+$/, '');
    const planId = restorePlanIdOf(target.name, backupPlan, spec.includedNamespaces);
    const plan = await this.ensureRestorePlan(target, planId, backupPlan, restoreConfigOf(spec.includedNamespaces));
    const restoreId = resourceIdOf(spec.restoreId);
    const name = `${plan}/restores/${restoreId}`;
    if (await this.api.find<GkeRestore>(name, `reading restore ${restoreId}`)) return this.handle(name, spec.targetCluster);
    try {
      const operation = await this.api.call<LongRunningOperation>('POST', `${plan}/restores`, {
        query: { restoreId },
        body: { backup: backupName, labels: { 'capstan-restore': restoreId }, description: `Capstan restore ${spec.restoreId}` },
      });
      return this.handle(operation.name, spec.targetCluster);
    } catch (error) {
      if (rpcCode(error) === RPC.ALREADY_EXISTS) return this.handle(name, spec.targetCluster);
      throw toProviderError(error, `starting restore ${restoreId} into ${spec.targetCluster}`);
    }
  }

  // --- operations ----------------------------------------------------------------------------

  /**
   * Follows a create's long-running operation until it is done (the resource exists), then the
   * resource's own state: a Backup or Restore is done once SUCCEEDED or FAILED. A handle that names
   * the resource (a create repeated after a crash) goes to its state straight away.
   */
  async getOperation(handle: ProviderOperation): Promise<ProviderOperationStatus> {
    if (handle.kind !== GKE_BACKUP_OPERATION_KIND) {
      throw new ProviderError(`the GKE backup driver cannot follow a ${handle.kind} operation`, false, 'gke_invalid');
    }
    let resource = handle.name;
    if (/\/operations\/[^/]+$/.test(handle.name)) {
      const operation = await this.api.find<LongRunningOperation>(handle.name, `reading operation ${handle.name}`);
      if (!operation)
        return { done: true, error: { message: `Backup for GKE no longer knows operation ${handle.name}`, retryable: false, code: 'gke_not_found' } };
      if (!operation.done) return { done: false, progress: `${operation.metadata?.verb ?? 'operation'} ${kindOf(operation.metadata?.target ?? '')} pending` };
      if (operation.error && (operation.error.code ?? 0) !== 0) {
        const code = operation.error.code ?? RPC.UNKNOWN;
        return {
          done: true,
          error: { message: operation.error.message || 'the operation failed', retryable: RETRYABLE_OPERATION_CODES.has(code), code: `gke_rpc_${code}` },
        };
      }
      resource = operation.metadata?.target ?? '';
    }
    const kind = kindOf(resource);
    if (kind !== 'backup' && kind !== 'restore') {
      throw new ProviderError(`the GKE backup driver follows backups and restores, not ${resource || 'an operation without a target'}`, false, 'gke_invalid');
    }
    const current = await this.api.find<GkeBackup | GkeRestore>(resource, `reading ${kind} ${resource}`);
    if (!current) return { done: true, error: { message: `Backup for GKE no longer has ${kind} ${resource}`, retryable: false, code: 'gke_not_found' } };
    return resourceStatus(kind, current);
  }

  // --- internals -----------------------------------------------------------------------------

  private handle(name: string, target: string): ProviderOperation {
    return { provider: 'gke', kind: GKE_BACKUP_OPERATION_KIND, name, target };
  }

  private async requireCluster(name: string): Promise<LocatedCluster> {
    const found = await this.clusters.locateCluster(name);
    if (!found) throw new ProviderError(`cluster ${name} does not exist in GKE project ${this.settings.project}`, false, 'gke_not_found');
    return { name, resourceName: found.resourceName, location: found.location };
  }

  private parent(location: string): string {
    return `projects/${this.settings.project}/locations/${location}`;
  }

  /** The cluster's plan for a scope, made on first use and waited for until READY (it provisions in moments). */
  private async ensureBackupPlan(cluster: LocatedCluster, planId: string, backupConfig: object): Promise<BackupPlan> {
    const name = `${this.parent(cluster.location)}/backupPlans/${planId}`;
    let plan = await this.api.find<BackupPlan>(name, `reading backup plan ${planId}`);
    if (!plan) {
      try {
        const operation = await this.api.call<LongRunningOperation>('POST', `${this.parent(cluster.location)}/backupPlans`, {
          query: { backupPlanId: planId },
          body: {
            cluster: cluster.resourceName,
            description: `Capstan backups of ${cluster.name}`,
            labels: { 'capstan-managed': 'true', 'capstan-cluster': resourceIdOf(cluster.name) },
            backupConfig,
            // Capstan prunes by its own retention rules; Google deletes nothing by itself.
            retentionPolicy: { backupRetainDays: 0, backupDeleteLockDays: 0, locked: false },
          },
        });
        await this.awaitOperation(operation.name, `creating backup plan ${planId}`);
      } catch (error) {
        if (rpcCode(error) !== RPC.ALREADY_EXISTS) throw toProviderError(error, `creating backup plan ${planId}`);
      }
      plan = await this.api.find<BackupPlan>(name, `reading backup plan ${planId}`);
      if (!plan) throw new ProviderError(`Backup for GKE accepted backup plan ${planId} but does not list it yet`, true, 'gke_not_yet_visible');
    }
    if (plan.state === 'READY') return plan;
    if (plan.state === 'PROVISIONING' || plan.state === 'CLUSTER_PENDING') {
      await this.awaitPlanReady(name);
      return plan;
    }
    throw new ProviderError(
      `backup plan ${name} is ${plan.state ?? 'in an unknown state'}: ${plan.stateReason ?? 'no reason given'}`,
      false,
      'gke_backup_plan_unusable',
    );
  }

  private async ensureRestorePlan(target: LocatedCluster, planId: string, backupPlan: string, restoreConfig: object): Promise<string> {
    const name = `${this.parent(target.location)}/restorePlans/${planId}`;
    if (await this.api.find<{ name: string }>(name, `reading restore plan ${planId}`)) return name;
    try {
      const operation = await this.api.call<LongRunningOperation>('POST', `${this.parent(target.location)}/restorePlans`, {
        query: { restorePlanId: planId },
        body: {
          backupPlan,
          cluster: target.resourceName,
          description: `Capstan restores into ${target.name}`,
          labels: { 'capstan-managed': 'true', 'capstan-cluster': resourceIdOf(target.name) },
          restoreConfig,
        },
      });
      await this.awaitOperation(operation.name, `creating restore plan ${planId}`);
    } catch (error) {
      if (rpcCode(error) !== RPC.ALREADY_EXISTS) throw toProviderError(error, `creating restore plan ${planId}`);
    }
    return name;
  }

  /**
   * The Backup of a Capstan backup id: in one of the cluster's plans (one per scope). The plans
   * are found by their `cluster`; a cluster GKE no longer has is looked for in every location.
   */
  private async findBackup(cluster: string, backupId: string): Promise<GkeBackup | null> {
    const located = await this.clusters.locateCluster(cluster);
    const plans = await this.api.send<{ backupPlans?: BackupPlan[] }>(
      'GET',
      `${this.parent(located?.location ?? '-')}/backupPlans`,
      `listing the backup plans of ${cluster}`,
    );
    const id = resourceIdOf(backupId);
    const own = (plans.backupPlans ?? []).filter((p) => (located ? p.cluster === located.resourceName : p.cluster.endsWith(`/clusters/${cluster}`)));
    for (const plan of own) {
      const backup = await this.api.find<GkeBackup>(`${plan.name}/backups/${id}`, `reading backup ${id}`);
      if (backup) return backup;
    }
    return null;
  }

  private async awaitPlanReady(name: string): Promise<void> {
    await this.poll(async () => {
      const plan = await this.api.find<BackupPlan>(name, `reading backup plan ${name}`);
      if (plan?.state === 'READY') return true;
      if (plan && plan.state !== 'PROVISIONING' && plan.state !== 'CLUSTER_PENDING') {
        throw new ProviderError(`backup plan ${name} is ${plan.state}: ${plan.stateReason ?? 'no reason given'}`, false, 'gke_backup_plan_unusable');
      }
      return false;
    }, `backup plan ${name} is not ready yet`);
  }

  private async awaitOperation(name: string, doing: string): Promise<void> {
    await this.poll(async () => {
      const operation = await this.api.send<LongRunningOperation>('GET', name, `reading operation ${name}`);
      if (!operation.done) return false;
      if (operation.error && (operation.error.code ?? 0) !== 0) {
        const code = operation.error.code ?? RPC.UNKNOWN;
        throw new ProviderError(`GKE ${doing}: ${operation.error.message ?? 'failed'}`, RETRYABLE_OPERATION_CODES.has(code), `gke_rpc_${code}`);
      }
      return true;
    }, `GKE ${doing}: still running`);
  }

  /** Polls with backoff up to `changeWaitMs`; past it a retryable error: the step comes back later. */
  private async poll(done: () => Promise<boolean>, stillRunning: string): Promise<void> {
    const deadline = Date.now() + this.settings.changeWaitMs;
    let pause = 100;
    while (!(await done())) {
      if (Date.now() > deadline) throw new ProviderError(`${stillRunning} after ${this.settings.changeWaitMs} ms`, true, 'gke_busy');
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 2_000);
    }
  }
}

function kindOf(resource: string): 'backup' | 'restore' | 'backup plan' | 'restore plan' | 'resource' {
  if (/\/backupPlans\/[^/]+\/backups\/[^/]+$/.test(resource)) return 'backup';
  if (/\/restorePlans\/[^/]+\/restores\/[^/]+$/.test(resource)) return 'restore';
  if (/\/backupPlans\/[^/]+$/.test(resource)) return 'backup plan';
  if (/\/restorePlans\/[^/]+$/.test(resource)) return 'restore plan';
  return 'resource';
}
