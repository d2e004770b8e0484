import { randomBytes, randomUUID } from 'node:crypto';
import type { SimulatorDatabase, Sql } from '../../database';
import { requireLocation } from '../locations';
import type { ClusterResource } from '../resources';
import { alreadyExists, failedPrecondition, GkeApiError, GRPC_CODE, invalidArgument, notFound } from '../rpc-status';
import { type BackupInput, type BackupPlanInput, CLUSTER_NAME, RESOURCE_ID, type RestoreInput, type RestorePlanInput } from './requests';
import type {
  BackupPlanResource,
  BackupResource,
  GroupKind,
  LongRunningOperation,
  RestoreConfigResource,
  RestorePlanResource,
  RestoreResource,
} from './resources';
import { type CapturedObject, type GkeWorkloads, isManagedNamespace } from './workloads';

export interface GkeBackupCloudOptions {
  db: SimulatorDatabase;
  stepDelayMs: number;
  /** The workload API servers of the emulated clusters; null: every backup and restore fails (no agent to run them). */
  workloads: GkeWorkloads | null;
}

export interface LocationKey {
  project: string;
  location: string;
}

interface OperationRow {
  name: string;
  project: string;
  location: string;
  target: string;
  verb: string;
  error: { code: number; message: string } | null;
  create_time: Date;
  settles_at: Date;
  end_time: Date | null;
  /** Computed by the database, whose clock set `settles_at`. */
  due: boolean;
}

interface BackupRow {
  plan: string;
  name: string;
  resource: BackupResource;
  contents: CapturedObject[];
  failure: string | null;
  running_at: Date;
  settles_at: Date;
}

interface RestoreRow {
  project: string;
  location: string;
  plan: string;
  name: string;
  resource: RestoreResource;
  phase: 'created' | 'clearing' | 'writing' | 'done';
  running_at: Date;
  settles_at: Date;
}

/** How long an operation takes to answer done once its resource exists: GKE's control plane picks work up within moments. */
const OPERATION_MAX_MS = 500;
const DAY_MS = 86_400_000;

/**
 * The emulated Backup for GKE service (gkebackup.googleapis.com v1): backup plans, backups,
 * restore plans, restores and their long-running operations. Every create answers an Operation
 * that is done once the resource exists; the resource then goes through its own states (a backup
 * CREATING -> IN_PROGRESS -> SUCCEEDED, a restore CREATING -> IN_PROGRESS -> SUCCEEDED), which is
 * what a client follows. The work is real: a backup captures its cluster's objects when it is
 * created (its point in time), a restore writes them back into the target cluster's API server.
 * Time passes lazily, as in the rest of the simulated cloud: each request first settles what is due.
 */
export class GkeBackupCloud {
  constructor(private readonly options: GkeBackupCloudOptions) {}

  private get db() {
    return this.options.db;
  }

  // --- backup plans --------------------------------------------------------------------------

  async createBackupPlan(key: LocationKey, id: string | undefined, input: BackupPlanInput): Promise<LongRunningOperation> {
    requireLocation(key.location);
    const planId = requireId(id, 'backupPlanId');
    const cluster = await this.requireCluster(input.cluster);
    const name = `${parentOf(key)}/backupPlans/${planId}`;
    const now = new Date().toISOString();
    const plan: BackupPlanResource = {
      name,
      uid: randomUUID(),
      createTime: now,
      updateTime: now,
      ...(input.description ? { description: input.description } : {}),
      cluster: input.cluster,
      ...(input.retentionPolicy ? { retentionPolicy: input.retentionPolicy } : {}),
      labels: input.labels,
      ...(input.backupSchedule ? { backupSchedule: input.backupSchedule } : {}),
      etag: etag(),
      deactivated: input.deactivated,
      backupConfig: input.backupConfig
        ? {
            ...(input.backupConfig.allNamespaces ? { allNamespaces: true } : { selectedNamespaces: input.backupConfig.selectedNamespaces! }),
            includeVolumeData: input.backupConfig.includeVolumeData,
            includeSecrets: input.backupConfig.includeSecrets,
            permissiveMode: input.backupConfig.permissiveMode,
          }
        : { allNamespaces: true, includeVolumeData: false, includeSecrets: false, permissiveMode: false },
      protectedPodCount: 0,
      // A plan of a cluster that is not up yet waits for it, as GKE's does.
      state: cluster.status === 'RUNNING' || cluster.status === 'RECONCILING' ? 'PROVISIONING' : 'CLUSTER_PENDING',
    };
    return this.db.transaction(async (sql) => {
      const inserted = await sql.query(
        `INSERT INTO simulator.gke_backup_plans (project, location, name, resource, ready_at)
         VALUES ($1, $2, $3, $4, now() + $5::integer * interval '1 millisecond') ON CONFLICT DO NOTHING RETURNING name`,
        [key.project, key.location, planId, plan, Math.round(this.options.stepDelayMs / 2)],
      );
      if (inserted.rowCount === 0) throw alreadyExists(`Resource '${name}' already exists`);
      return this.startOperation(sql, key, name, 'create');
    });
  }

  async getBackupPlan(key: LocationKey, id: string): Promise<BackupPlanResource> {
    await this.settle(key);
    const [row] = await this.db.query<{ resource: BackupPlanResource }>(
      `SELECT resource FROM simulator.gke_backup_plans WHERE project = $1 AND location = $2 AND name = $3`,
      [key.project, key.location, id],
    );
    if (!row) throw notFound(`Resource '${parentOf(key)}/backupPlans/${id}' was not found`);
    return row.resource;
  }

  /** `-` as location lists every location's plans, as Google's list methods read it. */
  async listBackupPlans(key: LocationKey): Promise<BackupPlanResource[]> {
    if (key.location !== '-') requireLocation(key.location);
    const locations =
      key.location === '-'
        ? (await this.db.query<{ location: string }>(`SELECT DISTINCT location FROM simulator.gke_backup_plans WHERE project = $1`, [key.project])).map(
            (r) => r.location,
          )
        : [key.location];
    for (const location of locations) await this.settle({ project: key.project, location });
    const rows = await this.db.query<{ resource: BackupPlanResource }>(
      `SELECT resource FROM simulator.gke_backup_plans WHERE project = $1 AND ($2 = '-' OR location = $2) ORDER BY location, name`,
      [key.project, key.location],
    );
    return rows.map((r) => r.resource);
  }

  async deleteBackupPlan(key: LocationKey, id: string): Promise<LongRunningOperation> {
    const plan = await this.getBackupPlan(key, id);
    const [children] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM simulator.gke_backups WHERE project = $1 AND location = $2 AND plan = $3`,
      [key.project, key.location, id],
    );
    if (children!.n > 0) throw failedPrecondition(`BackupPlan '${plan.name}' still has ${children!.n} backup(s); delete them first`);
    return this.db.transaction(async (sql) => {
      await sql.query(`DELETE FROM simulator.gke_backup_plans WHERE project = $1 AND location = $2 AND name = $3`, [key.project, key.location, id]);
      return this.startOperation(sql, key, plan.name, 'delete');
    });
  }

  // --- backups -------------------------------------------------------------------------------

  async createBackup(key: LocationKey, planId: string, id: string | undefined, input: BackupInput): Promise<LongRunningOperation> {
    const plan = await this.getBackupPlan(key, planId);
    const backupId = id === undefined ? `manual-${Date.now()}` : requireId(id, 'backupId');
    if (plan.state !== 'READY') throw failedPrecondition(`BackupPlan '${plan.name}' is ${plan.state}, not READY`);
    if (plan.deactivated) throw failedPrecondition(`BackupPlan '${plan.name}' is deactivated`);
    const clusterKey = clusterKeyOf(plan.cluster);
    const cluster = await this.requireCluster(plan.cluster);
    const retention = plan.retentionPolicy ?? { backupDeleteLockDays: 0, backupRetainDays: 0, locked: false };
    const deleteLockDays = input.deleteLockDays ?? retention.backupDeleteLockDays;
    const retainDays = input.retainDays ?? retention.backupRetainDays;
    if (retainDays !== 0 && retainDays < deleteLockDays) throw invalidArgument('retainDays must be >= deleteLockDays');

    // The backup's point in time is now: its objects are captured before the request returns.
    const created = new Date();
    let contents: CapturedObject[] = [];
    let failure: string | null = null;
    let k8sVersion = '';
    const version = this.options.workloads ? await this.options.workloads.serving(clusterKey.cluster) : null;
    if (!version) failure = `the Backup for GKE agent of cluster ${plan.cluster} could not reach its API server`;
    else {
      k8sVersion = `v${version.replace(/-gke\..*$/, '')}`;
      const config = plan.backupConfig;
      contents = await this.options.workloads!.capture(clusterKey.cluster, {
        namespaces: config.allNamespaces ? null : (config.selectedNamespaces?.namespaces ?? []),
        includeSecrets: config.includeSecrets,
      });
    }
    const size = Buffer.byteLength(JSON.stringify(contents));
    const name = `${plan.name}/backups/${backupId}`;
    const backup: BackupResource = {
      name,
      uid: randomUUID(),
      createTime: created.toISOString(),
      updateTime: created.toISOString(),
      manual: true,
      labels: input.labels,
      deleteLockDays,
      ...(deleteLockDays > 0 ? { deleteLockExpireTime: new Date(created.getTime() + deleteLockDays * DAY_MS).toISOString() } : {}),
      retainDays,
      ...(retainDays > 0 ? { retainExpireTime: new Date(created.getTime() + retainDays * DAY_MS).toISOString() } : {}),
      ...(plan.backupConfig.allNamespaces ? { allNamespaces: true } : { selectedNamespaces: plan.backupConfig.selectedNamespaces! }),
      containsVolumeData: plan.backupConfig.includeVolumeData,
      containsSecrets: plan.backupConfig.includeSecrets,
      clusterMetadata: { cluster: plan.cluster, k8sVersion, gkeVersion: cluster.currentMasterVersion, backupCrdVersions: {} },
      state: 'CREATING',
      resourceCount: contents.length,
      volumeCount: 0,
      sizeBytes: String(size),
      configBackupSizeBytes: String(size),
      podCount: contents.filter((c) => c.kind === 'Pod' && c.apiVersion === 'v1').length,
      etag: etag(),
      ...(input.description ? { description: input.description } : {}),
      permissiveMode: plan.backupConfig.permissiveMode,
    };
    return this.db.transaction(async (sql) => {
      const inserted = await sql.query(
        `INSERT INTO simulator.gke_backups (project, location, plan, name, resource, contents, failure, running_at, settles_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::integer * interval '1 millisecond', now() + $9::integer * interval '1 millisecond')
         ON CONFLICT DO NOTHING RETURNING name`,
        [
          key.project,
          key.location,
          planId,
          backupId,
          backup,
          JSON.stringify(contents),
          failure,
          Math.min(Math.round(this.options.stepDelayMs / 10), OPERATION_MAX_MS),
          this.options.stepDelayMs,
        ],
      );
      if (inserted.rowCount === 0) throw alreadyExists(`Resource '${name}' already exists`);
      return this.startOperation(sql, key, name, 'create');
    });
  }

  async getBackup(key: LocationKey, planId: string, id: string): Promise<BackupResource> {
    return (await this.backupRow(key, planId, id)).resource;
  }

  async listBackups(key: LocationKey, planId: string): Promise<BackupResource[]> {
    await this.getBackupPlan(key, planId);
    const rows = await this.db.query<{ resource: BackupResource }>(
      `SELECT resource FROM simulator.gke_backups WHERE project = $1 AND location = $2 AND plan = $3 ORDER BY resource->>'createTime', name`,
      [key.project, key.location, planId],
    );
    return rows.map((r) => r.resource);
  }

  async deleteBackup(key: LocationKey, planId: string, id: string, requestedEtag?: string): Promise<LongRunningOperation> {
    const { resource: backup } = await this.backupRow(key, planId, id);
    if (requestedEtag && requestedEtag !== backup.etag) throw new GkeApiError('ABORTED', `etag "${requestedEtag}" does not match the Backup's current etag`);
    if (backup.deleteLockExpireTime && Date.parse(backup.deleteLockExpireTime) > Date.now()) {
      throw failedPrecondition(`Backup '${backup.name}' is locked against deletion until ${backup.deleteLockExpireTime}`);
    }
    return this.db.transaction(async (sql) => {
      if (backup.state !== 'DELETING') {
        await sql.query(
          `UPDATE simulator.gke_backups SET resource = resource || $5::jsonb, settles_at = now() + $6::integer * interval '1 millisecond'
            WHERE project = $1 AND location = $2 AND plan = $3 AND name = $4`,
          [
            key.project,
            key.location,
            planId,
            id,
            { state: 'DELETING', updateTime: new Date().toISOString(), etag: etag() },
            Math.round(this.options.stepDelayMs / 2),
          ],
        );
      }
      return this.startOperation(sql, key, backup.name, 'delete');
    });
  }

  // --- restore plans -------------------------------------------------------------------------

  async createRestorePlan(key: LocationKey, id: string | undefined, input: RestorePlanInput): Promise<LongRunningOperation> {
    requireLocation(key.location);
    const planId = requireId(id, 'restorePlanId');
    await this.requireCluster(input.cluster);
    const source = /^projects\/([^/]+)\/locations\/([^/]+)\/backupPlans\/([^/]+)$/.exec(input.backupPlan)!;
    // Backup for GKE restores only within the backup's project.
    if (source[1] !== key.project) throw invalidArgument(`backupPlan ${input.backupPlan} is in another project than ${key.project}`);
    await this.getBackupPlan({ project: source[1]!, location: source[2]! }, source[3]!);
    const name = `${parentOf(key)}/restorePlans/${planId}`;
    const now = new Date().toISOString();
    const { substitutionRules: _s, transformationRules: _t, selectedApplications: _a, ...config } = input.restoreConfig;
    const plan: RestorePlanResource = {
      name,
      uid: randomUUID(),
      createTime: now,
      updateTime: now,
      ...(input.description ? { description: input.description } : {}),
      backupPlan: input.backupPlan,
      cluster: input.cluster,
      restoreConfig: config as RestoreConfigResource,
      labels: input.labels,
      etag: etag(),
      state: 'READY',
    };
    return this.db.transaction(async (sql) => {
      const inserted = await sql.query(
        `INSERT INTO simulator.gke_restore_plans (project, location, name, resource) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING name`,
        [key.project, key.location, planId, plan],
      );
      if (inserted.rowCount === 0) throw alreadyExists(`Resource '${name}' already exists`);
      return this.startOperation(sql, key, name, 'create');
    });
  }

  async getRestorePlan(key: LocationKey, id: string): Promise<RestorePlanResource> {
    requireLocation(key.location);
    const [row] = await this.db.query<{ resource: RestorePlanResource }>(
      `SELECT resource FROM simulator.gke_restore_plans WHERE project = $1 AND location = $2 AND name = $3`,
      [key.project, key.location, id],
    );
    if (!row) throw notFound(`Resource '${parentOf(key)}/restorePlans/${id}' was not found`);
    return row.resource;
  }

  async listRestorePlans(key: LocationKey): Promise<RestorePlanResource[]> {
    requireLocation(key.location);
    const rows = await this.db.query<{ resource: RestorePlanResource }>(
      `SELECT resource FROM simulator.gke_restore_plans WHERE project = $1 AND location = $2 ORDER BY name`,
      [key.project, key.location],
    );
    return rows.map((r) => r.resource);
  }

  async deleteRestorePlan(key: LocationKey, id: string): Promise<LongRunningOperation> {
    const plan = await this.getRestorePlan(key, id);
    const [children] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM simulator.gke_restores WHERE project = $1 AND location = $2 AND plan = $3`,
      [key.project, key.location, id],
    );
    if (children!.n > 0) throw failedPrecondition(`RestorePlan '${plan.name}' still has ${children!.n} restore(s)`);
    return this.db.transaction(async (sql) => {
      await sql.query(`DELETE FROM simulator.gke_restore_plans WHERE project = $1 AND location = $2 AND name = $3`, [key.project, key.location, id]);
      return this.startOperation(sql, key, plan.name, 'delete');
    });
  }

  // --- restores ------------------------------------------------------------------------------

  async createRestore(key: LocationKey, planId: string, id: string | undefined, input: RestoreInput): Promise<LongRunningOperation> {
    const plan = await this.getRestorePlan(key, planId);
    const restoreId = requireId(id, 'restoreId');
    const source = /^(projects\/([^/]+)\/locations\/([^/]+)\/backupPlans\/([^/]+))\/backups\/([^/]+)$/.exec(input.backup)!;
    // "This Backup must be a sub-resource of the RestorePlan's backup_plan."
    if (source[1] !== plan.backupPlan) throw invalidArgument(`backup ${input.backup} is not a backup of the restore plan's backupPlan ${plan.backupPlan}`);
    const { resource: backup } = await this.backupRow({ project: source[2]!, location: source[3]! }, source[4]!, source[5]!);
    if (backup.state !== 'SUCCEEDED') throw failedPrecondition(`Backup '${backup.name}' is ${backup.state}; only a SUCCEEDED backup can be restored`);
    const target = await this.requireCluster(plan.cluster);
    // "The target cluster version must be between the backup cluster version and the backup cluster version + 3 minor versions."
    const from = minorOf(backup.clusterMetadata.k8sVersion);
    const to = minorOf(target.currentMasterVersion);
    if (to < from || to > from + 3) {
      throw failedPrecondition(`cluster ${plan.cluster} runs 1.${to}; a backup of 1.${from} restores only into 1.${from} to 1.${from + 3}`);
    }
    const name = `${plan.name}/restores/${restoreId}`;
    const now = new Date().toISOString();
    const restore: RestoreResource = {
      name,
      uid: randomUUID(),
      createTime: now,
      updateTime: now,
      ...(input.description ? { description: input.description } : {}),
      backup: input.backup,
      cluster: plan.cluster,
      restoreConfig: plan.restoreConfig,
      labels: input.labels,
      state: 'CREATING',
      resourcesRestoredCount: 0,
      resourcesExcludedCount: 0,
      resourcesFailedCount: 0,
      volumesRestoredCount: 0,
      etag: etag(),
    };
    return this.db.transaction(async (sql) => {
      const inserted = await sql.query(
        `INSERT INTO simulator.gke_restores (project, location, plan, name, resource, running_at, settles_at)
         VALUES ($1, $2, $3, $4, $5, now() + $6::integer * interval '1 millisecond', now() + $7::integer * interval '1 millisecond')
         ON CONFLICT DO NOTHING RETURNING name`,
        [
          key.project,
          key.location,
          planId,
          restoreId,
          restore,
          Math.min(Math.round(this.options.stepDelayMs / 10), OPERATION_MAX_MS),
          this.options.stepDelayMs,
        ],
      );
      if (inserted.rowCount === 0) throw alreadyExists(`Resource '${name}' already exists`);
      return this.startOperation(sql, key, name, 'create');
    });
  }

  async getRestore(key: LocationKey, planId: string, id: string): Promise<RestoreResource> {
    await this.getRestorePlan(key, planId);
    await this.settle(key);
    const [row] = await this.db.query<{ resource: RestoreResource }>(
      `SELECT resource FROM simulator.gke_restores WHERE project = $1 AND location = $2 AND plan = $3 AND name = $4`,
      [key.project, key.location, planId, id],
    );
    if (!row) throw notFound(`Resource '${parentOf(key)}/restorePlans/${planId}/restores/${id}' was not found`);
    return row.resource;
  }

  async listRestores(key: LocationKey, planId: string): Promise<RestoreResource[]> {
    await this.getRestorePlan(key, planId);
    await this.settle(key);
    const rows = await this.db.query<{ resource: RestoreResource }>(
      `SELECT resource FROM simulator.gke_restores WHERE project = $1 AND location = $2 AND plan = $3 ORDER BY resource->>'createTime', name`,
      [key.project, key.location, planId],
    );
    return rows.map((r) => r.resource);
  }

  // --- operations ----------------------------------------------------------------------------

  async getOperation(key: LocationKey, name: string): Promise<LongRunningOperation> {
    requireLocation(key.location);
    await this.settle(key);
    const [row] = await this.db.query<OperationRow>(
      `SELECT *, settles_at <= now() AS due FROM simulator.gke_backup_operations WHERE name = $1 AND project = $2 AND location = $3`,
      [name, key.project, key.location],
    );
    if (!row) throw notFound(`Operation '${parentOf(key)}/operations/${name}' was not found`);
    return this.operationResource(row);
  }

  async listOperations(key: LocationKey): Promise<LongRunningOperation[]> {
    requireLocation(key.location);
    await this.settle(key);
    const rows = await this.db.query<OperationRow>(
      `SELECT *, settles_at <= now() AS due FROM simulator.gke_backup_operations WHERE project = $1 AND location = $2 ORDER BY create_time, name`,
      [key.project, key.location],
    );
    return Promise.all(rows.map((r) => this.operationResource(r)));
  }

  // --- time ----------------------------------------------------------------------------------

  /** Moves what is due in a location on: plans to READY, backups and restores through their states, expired backups out. */
  async settle(key: LocationKey): Promise<void> {
    const { project, location } = key;
    await this.db.query(
      `UPDATE simulator.gke_backup_plans SET resource = resource || jsonb_build_object('state', 'READY', 'updateTime', to_jsonb(now()))
        WHERE project = $1 AND location = $2 AND resource->>'state' = 'PROVISIONING' AND ready_at <= now()`,
      [project, location],
    );
    await this.db.query(
      `UPDATE simulator.gke_backup_plans p SET resource = p.resource || jsonb_build_object('state', 'PROVISIONING'), ready_at = now() + $3::integer * interval '1 millisecond'
        FROM simulator.gke_clusters c
       WHERE p.project = $1 AND p.location = $2 AND p.resource->>'state' = 'CLUSTER_PENDING'
         AND p.resource->>'cluster' = 'projects/' || c.project || '/locations/' || c.location || '/clusters/' || c.name AND c.resource->>'status' IN ('RUNNING', 'RECONCILING')`,
      [project, location, Math.round(this.options.stepDelayMs / 2)],
    );
    await this.settleBackups(key);
    const due = await this.db.query<RestoreRow>(
      `SELECT * FROM simulator.gke_restores WHERE project = $1 AND location = $2 AND phase <> 'done' AND running_at <= now() ORDER BY name`,
      [project, location],
    );
    for (const row of due) await this.advanceRestore(row);
  }

  private async settleBackups(key: LocationKey): Promise<void> {
    const { project, location } = key;
    await this.db.query(
      `UPDATE simulator.gke_backups SET resource = resource || jsonb_build_object('state', 'IN_PROGRESS', 'updateTime', to_jsonb(now()))
        WHERE project = $1 AND location = $2 AND resource->>'state' = 'CREATING' AND running_at <= now()`,
      [project, location],
    );
    const finished = await this.db.query<BackupRow>(
      `UPDATE simulator.gke_backups
          SET resource = resource || CASE WHEN failure IS NULL
                THEN jsonb_build_object('state', 'SUCCEEDED', 'completeTime', to_jsonb(now()), 'updateTime', to_jsonb(now()))
                ELSE jsonb_build_object('state', 'FAILED', 'stateReason', failure, 'completeTime', to_jsonb(now()), 'updateTime', to_jsonb(now())) END
        WHERE project = $1 AND location = $2 AND resource->>'state' IN ('CREATING', 'IN_PROGRESS') AND settles_at <= now()
        RETURNING plan, name, resource, failure`,
      [project, location],
    );
    for (const row of finished.filter((r) => r.failure === null)) {
      await this.db.query(
        `UPDATE simulator.gke_backup_plans SET resource = resource || jsonb_build_object('lastSuccessfulBackupTime', $4::text) WHERE project = $1 AND location = $2 AND name = $3`,
        [project, location, row.plan, row.resource.completeTime],
      );
    }
    // Deletions done, and backups past their retention (Backup for GKE deletes them by itself).
    await this.db.query(
      `DELETE FROM simulator.gke_backups
        WHERE project = $1 AND location = $2
          AND ((resource->>'state' = 'DELETING' AND settles_at <= now())
            OR (resource->>'state' IN ('SUCCEEDED', 'FAILED') AND resource ? 'retainExpireTime' AND (resource->>'retainExpireTime')::timestamptz <= now()))`,
      [project, location],
    );
  }

  /**
   * A restore's steps, each claimed by the process that moves it on (two simulators on one
   * database never write a restore twice): CREATING -> IN_PROGRESS with the conflicts handled
   * (namespaces deleted for DELETE_AND_RESTORE, a refusal for FAIL_ON_CONFLICT), then, once its
   * time has come and the namespaces are gone, the objects written back -> SUCCEEDED or FAILED.
   */
  private async advanceRestore(row: RestoreRow): Promise<void> {
    const restore = row.resource;
    const cluster = clusterKeyOf(restore.cluster).cluster;
    const fail = (reason: string, counts: Partial<RestoreResource> = {}) => this.finishRestore(row, 'FAILED', { stateReason: reason, ...counts });
    const workloads = this.options.workloads;
    if (row.phase === 'created') {
      if (!(await this.claimRestore(row, 'created', 'clearing', { state: 'IN_PROGRESS' }))) return;
      row.phase = 'clearing';
      if (!workloads || !(await workloads.serving(cluster)))
        return fail(`the Backup for GKE agent of cluster ${restore.cluster} could not reach its API server`);
    }
    if (!workloads) return;
    const contents = await this.backupContents(restore.backup);
    if (!contents) return fail(`Backup ${restore.backup} no longer exists`);
    const config = restore.restoreConfig;
    const objects = contents.filter((o) => inRestoreScope(o, config));
    const namespaces = [...new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.name))];

    if (row.phase === 'clearing') {
      const existing = new Set(await workloads.namespaces(cluster));
      const conflicting = namespaces.filter((n) => existing.has(n));
      if (config.namespacedResourceRestoreMode === 'FAIL_ON_CONFLICT' && conflicting.length > 0) {
        return fail(`namespaces already exist in the target cluster: ${conflicting.join(', ')} (namespacedResourceRestoreMode FAIL_ON_CONFLICT)`);
      }
      if (config.namespacedResourceRestoreMode === 'DELETE_AND_RESTORE' && conflicting.length > 0) {
        const left = await workloads.deleteNamespaces(cluster, conflicting);
        if (left.length > 0) return; // finalizers hold them: the next request looks again
      }
      if (!(await this.claimRestore(row, 'clearing', 'writing', {}))) return;
      row.phase = 'writing';
    }
    if (row.phase === 'writing') {
      if (row.settles_at.getTime() > Date.now()) return;
      if (!(await this.claimRestore(row, 'writing', 'done', {}))) return;
      const replace = config.namespacedResourceRestoreMode === 'MERGE_REPLACE_ON_CONFLICT';
      const clusterReplace = config.clusterResourceConflictPolicy === 'USE_BACKUP_VERSION';
      const counts = await workloads.restore(cluster, objects, replace ? 'replace' : 'skip', clusterReplace ? 'replace' : 'skip');
      const outcome = {
        resourcesRestoredCount: counts.restored,
        resourcesExcludedCount: counts.excluded + (contents.length - objects.length),
        resourcesFailedCount: counts.failed,
      };
      if (counts.failed > 0) return fail(`${counts.failed} resource(s) failed to restore: ${counts.failures.slice(0, 3).join('; ')}`, outcome);
      await this.finishRestore(row, 'SUCCEEDED', outcome);
    }
  }

  private async claimRestore(row: RestoreRow, from: RestoreRow['phase'], to: RestoreRow['phase'], change: Partial<RestoreResource>): Promise<boolean> {
    const claimed = await this.db.query(
      `UPDATE simulator.gke_restores SET phase = $6, resource = resource || $7::jsonb
        WHERE project = $1 AND location = $2 AND plan = $3 AND name = $4 AND phase = $5 RETURNING name`,
      [row.project, row.location, row.plan, row.name, from, to, { ...change, updateTime: new Date().toISOString() }],
    );
    return claimed.length > 0;
  }

  private async finishRestore(row: RestoreRow, state: 'SUCCEEDED' | 'FAILED', change: Partial<RestoreResource>): Promise<void> {
    const now = new Date().toISOString();
    await this.db.query(
      `UPDATE simulator.gke_restores SET phase = 'done', resource = resource || $5::jsonb WHERE project = $1 AND location = $2 AND plan = $3 AND name = $4`,
      [row.project, row.location, row.plan, row.name, { ...change, state, completeTime: now, updateTime: now, etag: etag() }],
    );
  }

  private async backupContents(backupName: string): Promise<CapturedObject[] | null> {
    const m = /^projects\/([^/]+)\/locations\/([^/]+)\/backupPlans\/([^/]+)\/backups\/([^/]+)$/.exec(backupName);
    if (!m) return null;
    const [row] = await this.db.query<{ contents: CapturedObject[] }>(
      `SELECT contents FROM simulator.gke_backups WHERE project = $1 AND location = $2 AND plan = $3 AND name = $4`,
      [m[1], m[2], m[3], m[4]],
    );
    return row?.contents ?? null;
  }

  // --- internals -----------------------------------------------------------------------------

  private async backupRow(key: LocationKey, planId: string, id: string): Promise<BackupRow> {
    await this.getBackupPlan(key, planId);
    const [row] = await this.db.query<BackupRow>(
      `SELECT plan, name, resource, failure, running_at, settles_at, '[]'::jsonb AS contents FROM simulator.gke_backups
        WHERE project = $1 AND location = $2 AND plan = $3 AND name = $4`,
      [key.project, key.location, planId, id],
    );
    if (!row) throw notFound(`Resource '${parentOf(key)}/backupPlans/${planId}/backups/${id}' was not found`);
    return row;
  }

  private async requireCluster(name: string): Promise<ClusterResource> {
    const key = clusterKeyOf(name);
    const [row] = await this.db.query<{ resource: ClusterResource }>(
      `SELECT resource FROM simulator.gke_clusters WHERE project = $1 AND location = $2 AND name = $3`,
      [key.project, key.location, key.cluster],
    );
    if (!row) throw notFound(`Cluster '${name}' was not found`);
    return row.resource;
  }

  private async startOperation(sql: Sql, key: LocationKey, target: string, verb: string): Promise<LongRunningOperation> {
    // Shaped like Google's LRO ids, and unlike the Container API's (`operation-<ms>-<8 hex>`): one path serves both.
    const name = `operation-${Date.now()}-${randomBytes(7).toString('hex').slice(0, 13)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
    const { rows } = await sql.query<OperationRow>(
      `INSERT INTO simulator.gke_backup_operations (name, project, location, target, verb, settles_at)
       VALUES ($1, $2, $3, $4, $5, now() + $6::integer * interval '1 millisecond') RETURNING *, false AS due`,
      [name, key.project, key.location, target, verb, Math.min(Math.round(this.options.stepDelayMs / 10), OPERATION_MAX_MS)],
    );
    return this.operationResource(rows[0]!);
  }

  private async operationResource(row: OperationRow): Promise<LongRunningOperation> {
    const done = row.due;
    const metadata: LongRunningOperation['metadata'] = {
      '@type': 'type.googleapis.com/google.cloud.gkebackup.v1.OperationMetadata',
      createTime: row.create_time.toISOString(),
      ...(done ? { endTime: row.settles_at.toISOString() } : {}),
      target: row.target,
      verb: row.verb,
      requestedCancellation: false,
      apiVersion: 'v1',
    };
    const base = { name: `projects/${row.project}/locations/${row.location}/operations/${row.name}`, metadata, done };
    if (!done) return base;
    if (row.error) return { ...base, error: { ...row.error, details: [] } };
    if (row.verb === 'delete') return { ...base, response: { '@type': 'type.googleapis.com/google.protobuf.Empty' } };
    const resource = await this.resourceByName(row.target);
    if (!resource) return { ...base, error: { code: GRPC_CODE.NOT_FOUND, message: `${row.target} no longer exists`, details: [] } };
    return { ...base, response: resource };
  }

  private async resourceByName(name: string): Promise<Record<string, unknown> | null> {
    const m = /^projects\/([^/]+)\/locations\/([^/]+)\/(backupPlans|restorePlans)\/([^/]+)(?:\/(backups|restores)\/([^/]+))?$/.exec(name);
    if (!m) return null;
    const [, project, location, kind, plan, child, id] = m as unknown as [string, string, string, string, string, string | undefined, string | undefined];
    const key = { project, location };
    const read = async (): Promise<object> => {
      if (kind === 'backupPlans' && !child) return { '@type': TYPE('BackupPlan'), ...(await this.getBackupPlan(key, plan)) };
      if (kind === 'backupPlans') return { '@type': TYPE('Backup'), ...(await this.getBackup(key, plan, id!)) };
      if (!child) return { '@type': TYPE('RestorePlan'), ...(await this.getRestorePlan(key, plan)) };
      return { '@type': TYPE('Restore'), ...(await this.getRestore(key, plan, id!)) };
    };
    try {
      return (await read()) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof GkeApiError && error.status === 'NOT_FOUND') return null;
      throw error;
    }
  }
}

const TYPE = (message: string) => `type.googleapis.com/google.cloud.gkebackup.v1.${message}`;

/**
 * Which of a backup's objects a restore config selects: cluster-scoped ones by the group kinds of
 * `clusterResourceRestoreScope` (none when it is absent), the others by their namespace, minus
 * managed namespaces (never restored).
 */
function inRestoreScope(object: CapturedObject, config: RestoreConfigResource): boolean {
  if (object.namespace === null && object.kind !== 'Namespace') {
    const scope = config.clusterResourceRestoreScope;
    const group = object.apiVersion.includes('/') ? object.apiVersion.slice(0, object.apiVersion.indexOf('/')) : '';
    const matches = (kinds: readonly GroupKind[] | undefined) => (kinds ?? []).some((k) => k.resourceGroup === group && k.resourceKind === object.kind);
    if (!scope || scope.noGroupKinds) return false;
    if (scope.allGroupKinds) return true;
    if (scope.selectedGroupKinds) return matches(scope.selectedGroupKinds);
    if (scope.excludedGroupKinds) return !matches(scope.excludedGroupKinds);
    return false;
  }
  const namespace = object.kind === 'Namespace' ? object.name : object.namespace;
  if (namespace === null || isManagedNamespace(namespace)) return false;
  if (config.noNamespaces) return false;
  if (config.selectedNamespaces) return config.selectedNamespaces.namespaces.includes(namespace);
  if (config.excludedNamespaces) return !config.excludedNamespaces.namespaces.includes(namespace);
  return config.allNamespaces === true;
}

function parentOf(key: LocationKey): string {
  return `projects/${key.project}/locations/${key.location}`;
}

function clusterKeyOf(name: string): { project: string; location: string; cluster: string } {
  const m = CLUSTER_NAME.exec(name);
  if (!m) throw invalidArgument(`cluster must be projects/*/locations/*/clusters/*, not "${name}"`);
  return { project: m[1]!, location: m[2]!, cluster: m[3]! };
}

function requireId(id: string | undefined, field: string): string {
  if (!id) throw invalidArgument(`${field} is required`);
  if (!RESOURCE_ID.test(id)) {
    throw invalidArgument(`${field} "${id}" must be 1 to 63 lower-case letters, digits or dashes, start with a letter and end with a letter or digit`);
  }
  return id;
}

function minorOf(version: string): number {
  const m = /^v?\d+\.(\d+)/.exec(version);
  return m ? Number(m[1]) : 0;
}

const etag = () => randomBytes(8).toString('hex');
