import {
  backupKindsOffered,
  deleteLockedUntil,
  expiryOf,
  LOST_WITH_CLUSTER,
  lostWithCluster,
  type OperationType,
  type UpgradeStepSpec,
  upgradeStepSpec,
} from '@capstan/domain';
import { OperationStepHandlers, type OperationStepProvider, type OperationStepSet, type StepContext, type StepHandler } from '@capstan/operations';
import { newId } from '@capstan/platform';
import {
  type BackupDriver,
  BackupDrivers,
  type BackupKindName,
  externalClusterName,
  type ProviderBackup,
  ProviderError,
  type ProviderOperation,
} from '@capstan/providers';
import { Injectable, Logger } from '@nestjs/common';
import { RestoredClusters } from '../backup-cluster-source';
import type { BackupRow } from '../backup-view';
import { BackupsRepository } from '../backups.repository';
import type { RestoreParams } from '../use-cases/restore-backup';

/** A pre-upgrade snapshot is kept at least this long after it finished, and always until its upgrade succeeded. */
export const PRE_UPGRADE_KEEP_DAYS = 7;

/**
 * Starts a provider-side backup or restore once and follows it to its end (docs/operations-engine.md,
 * "Waits that yield"): the ProviderOperation is recorded with the wait, so every later poll, by this
 * worker or one that took over after a restart, follows that same work instead of starting more.
 */
async function startAndFollow(ctx: StepContext, driver: BackupDriver, what: string, start: () => Promise<ProviderOperation>): Promise<ProviderOperation> {
  const handle = (ctx.stepState.operation as ProviderOperation | undefined) ?? (await start());
  const status = await ctx.waitFor(
    what,
    async () => {
      const current = await driver.getOperation(handle);
      return current.done ? current : undefined;
    },
    { operation: handle },
  );
  if (status.error) throw new ProviderError(`${what} failed: ${status.error.message}`, status.error.retryable, status.error.code ?? 'backup_failed');
  return handle;
}

@Injectable()
@OperationStepHandlers()
export class BackupOperationSteps implements OperationStepProvider {
  private readonly logger = new Logger(BackupOperationSteps.name);

  constructor(
    private readonly drivers: BackupDrivers,
    private readonly backups: BackupsRepository,
    private readonly restored: RestoredClusters,
  ) {}

  stepSets(): Partial<Record<OperationType, OperationStepSet>> {
    return {
      create_backup: { steps: this.createBackupSteps() },
      restore_backup: { steps: this.restoreSteps() },
      // One more kind for the type libs/upgrades owns: the snapshot before each control-plane hop.
      upgrade_cluster: { steps: { backup_before_hop: (ctx) => this.backupBeforeHop(ctx) } },
      // And one for the type libs/clusters owns: once the control plane is gone, so are the etcd
      // snapshots that lay only on its servers (docs/backups.md, "When a cluster is deleted").
      delete_cluster: { steps: { forget_local_snapshots: (ctx) => this.forgetLocalSnapshots(ctx) } },
    };
  }

  private async forgetLocalSnapshots(ctx: StepContext): Promise<{ deleted: string[] }> {
    const deleted = await this.backups.markLostWithCluster(ctx.cluster.id, lostWithCluster, LOST_WITH_CLUSTER, ctx.clock.now());
    if (deleted.length > 0)
      this.logger.log({ clusterId: ctx.cluster.id, backups: deleted.length }, 'node-local etcd snapshots marked deleted with their cluster');
    return { deleted };
  }

  private async backupOf(id: unknown): Promise<BackupRow> {
    const backup = typeof id === 'string' ? await this.backups.backupById(id) : undefined;
    if (!backup) throw new ProviderError(`backup ${String(id)} no longer exists`, false, 'backup_missing');
    return backup;
  }

  /** Takes the backup at the provider and waits for it; a final failure is recorded on the backup too. */
  private async take(ctx: StepContext, backup: BackupRow, deleteLockDays: number | null): Promise<ProviderOperation> {
    try {
      const driver = this.drivers.driverFor(ctx.cluster.provider);
      await this.backups.markRunning(backup.id, ctx.clock.now());
      return await startAndFollow(ctx, driver, `backup ${backup.id}`, () =>
        driver.startBackup({
          backupId: backup.id,
          cluster: externalClusterName(backup.cluster_id),
          kind: backup.kind,
          includedNamespaces: backup.included_namespaces ?? [],
          excludedNamespaces: backup.excluded_namespaces ?? [],
          ...(backup.label_selector ? { labelSelector: backup.label_selector } : {}),
          ...(deleteLockDays ? { deleteLockDays } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof ProviderError && !error.retryable)
        await this.backups.markFailedIfUnfinished(backup.id, { code: error.code, message: error.message }, ctx.clock.now());
      throw error;
    }
  }

  /** Reads the finished backup back from the provider and records what it says. */
  private async record(ctx: StepContext, backup: BackupRow, retainDays: number | null, deleteLockDays: number | null): Promise<ProviderBackup> {
    const driver = this.drivers.driverFor(ctx.cluster.provider);
    const found = await driver.getBackup(externalClusterName(backup.cluster_id), backup.id, backup.kind as BackupKindName);
    const now = ctx.clock.now();
    if (!found || found.state === 'failed') {
      const message = found?.error ?? `the provider has no backup ${backup.id}`;
      await this.backups.markFailedIfUnfinished(backup.id, { code: 'backup_failed', message }, now);
      throw new ProviderError(`backup ${backup.id} failed: ${message}`, false, 'backup_failed');
    }
    if (found.state === 'running') throw new ProviderError(`backup ${backup.id} is still running at the provider`, true, 'backup_running');
    const completedAt = found.completedAt ?? now;
    await this.backups.markFinished(backup.id, {
      status: 'succeeded',
      location: found.location,
      sizeBytes: found.sizeBytes,
      completedAt,
      expiresAt: expiryOf(completedAt, retainDays),
      deleteLockedUntil: deleteLockedUntil(completedAt, deleteLockDays),
      error: null,
    });
    return found;
  }

  private createBackupSteps(): Record<string, StepHandler> {
    const params = (ctx: StepContext) => (ctx.operation.params ?? {}) as { backupId?: string; retainDays?: number | null; deleteLockDays?: number | null };
    return {
      take_backup: async (ctx) => {
        const backup = await this.backupOf(params(ctx).backupId);
        const operation = await this.take(ctx, backup, params(ctx).deleteLockDays ?? null);
        return { backupId: backup.id, operation };
      },
      record_backup: async (ctx) => {
        const backup = await this.backupOf(params(ctx).backupId);
        const found = await this.record(ctx, backup, params(ctx).retainDays ?? null, params(ctx).deleteLockDays ?? null);
        return { backupId: backup.id, location: found.location, sizeBytes: found.sizeBytes === null ? null : Number(found.sizeBytes) };
      },
    };
  }

  private restoreSteps(): Record<string, StepHandler> {
    const params = (ctx: StepContext) => (ctx.operation.params ?? {}) as Partial<RestoreParams>;
    return {
      preflight_restore: async (ctx) => {
        const backup = await this.backupOf(params(ctx).backupId);
        if (backup.status !== 'succeeded')
          throw new ProviderError(`backup ${backup.id} is ${backup.status}; only a backup that succeeded can be restored`, false, 'backup_not_restorable');
        // Fails here, before anything changes, when the installation has no backup driver for the cluster.
        this.drivers.driverFor(ctx.cluster.provider);
        return { backupId: backup.id, location: backup.location };
      },
      restore_backup: async (ctx) => {
        const p = params(ctx);
        const backup = await this.backupOf(p.backupId);
        const driver = this.drivers.driverFor(ctx.cluster.provider);
        const operation = await startAndFollow(ctx, driver, `restore of backup ${backup.id}`, () =>
          driver.startRestore({
            restoreId: ctx.operation.id,
            backup: { backupId: backup.id, cluster: externalClusterName(backup.cluster_id), kind: backup.kind, location: backup.location },
            targetCluster: externalClusterName(ctx.cluster.id),
            scope: p.scope ?? 'workloads',
            includedNamespaces: p.namespaces ?? [],
          }),
        );
        return { backupId: backup.id, operation };
      },
      mark_restored: async (ctx) => {
        if (params(ctx).scope === 'control_plane') await this.restored.restored(ctx.cluster.id);
        return { scope: params(ctx).scope ?? null };
      },
    };
  }

  /**
   * The etcd snapshot before a hop's control plane (minor or patch) (docs/backups.md, "Before an upgrade"):
   * the way back if the hop fails, kept until the upgrade succeeded. Its row is found again by
   * (operation, hop) after a crash, so a retry follows the same backup. An installation without a
   * backup driver for the provider upgrades without it and says so on a failed backup row.
   */
  private async backupBeforeHop(ctx: StepContext): Promise<Record<string, unknown>> {
    const spec = upgradeStepSpec(ctx.operation.params, ctx.step.name) as Extract<UpgradeStepSpec, { kind: 'backup_before_hop' }> | undefined;
    if (!spec || spec.kind !== 'backup_before_hop') throw new ProviderError(`step ${ctx.step.name} is not in the operation's plan`, false, 'step_not_planned');
    // GKE runs the control plane and gives no access to its etcd: there is no snapshot to take, and
    // GKE itself guards its control-plane upgrades (docs/backups.md, "Before an upgrade").
    if (!backupKindsOffered(ctx.cluster.provider).includes('etcd_snapshot'))
      return { before: spec.to, skipped: `${ctx.cluster.provider} offers no etcd snapshots` };
    const backup =
      (await this.backups.preUpgradeBackup(ctx.operation.id, spec.to)) ??
      (await this.backups
        .insertBackup(ctx.db, {
          id: newId('bk'),
          cluster_id: ctx.cluster.id,
          organization_id: ctx.cluster.organizationId,
          kind: 'etcd_snapshot',
          status: 'pending',
          region: ctx.cluster.region,
          cluster_version: spec.from,
          purpose: 'pre_upgrade',
          operation_id: ctx.operation.id,
          taken_before_version: spec.to,
          created_at: ctx.clock.now(),
        })
        .catch(async (error: unknown) => {
          // Another run of this step inserted it first (operation_id, taken_before_version is unique).
          const again = await this.backups.preUpgradeBackup(ctx.operation.id, spec.to);
          if (again) return again;
          throw error;
        }));
    if (backup.status === 'succeeded') return { backupId: backup.id, before: spec.to };
    try {
      const operation = await this.take(ctx, backup, null);
      const found = await this.record(ctx, backup, PRE_UPGRADE_KEEP_DAYS, null);
      return { backupId: backup.id, before: spec.to, operation, location: found.location };
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'driver_unavailable') {
        this.logger.warn(
          { operationId: ctx.operation.id, backupId: backup.id, err: error.message },
          'no backup driver: the upgrade hop goes on without its snapshot',
        );
        return { backupId: backup.id, before: spec.to, skipped: error.message };
      }
      throw error;
    }
  }
}
