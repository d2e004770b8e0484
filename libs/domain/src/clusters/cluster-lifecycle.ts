/**
 * Which operations a cluster accepts, what it shows while one runs, and how an operation's own
 * status may move. Operations are long-running work like GKE's operations; the worker runs them.
 */
import { ConflictError } from '../errors/domain-error';

export type ClusterStatus = 'provisioning' | 'running' | 'updating' | 'upgrading' | 'restoring' | 'degraded' | 'error' | 'deleting' | 'deleted';

export type OperationType =
  | 'create_cluster'
  | 'update_cluster'
  | 'delete_cluster'
  | 'create_node_pool'
  | 'update_node_pool'
  | 'delete_node_pool'
  | 'scale_node_pool'
  | 'upgrade_cluster'
  | 'rotate_credentials'
  | 'create_backup'
  | 'restore_backup'
  | 'update_addons';

export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'needs_attention';

/**
 * Statuses in which an operation still holds its cluster. `needs_attention` counts: a paused drain
 * (docs/upgrades.md, "Version skew") has left nodes cordoned, and a second operation
 * on top of it would act on a half-upgraded cluster.
 */
export const ACTIVE_OPERATION_STATUSES: readonly OperationStatus[] = Object.freeze(['pending', 'running', 'needs_attention'] as const);

export const TERMINAL_OPERATION_STATUSES: readonly OperationStatus[] = Object.freeze(['succeeded', 'failed', 'cancelled'] as const);

const NODE_POOL_OPERATIONS: readonly OperationType[] = ['create_node_pool', 'update_node_pool', 'delete_node_pool', 'scale_node_pool'];

/**
 * Operations each cluster status accepts when no other operation holds the cluster.
 *
 * - `create_cluster` is never accepted for an existing cluster: it is what creates one.
 * - `degraded` accepts everything but an upgrade: scaling, repairs and restores may be the way back
 *   to health, but a control-plane hop needs a healthy etcd to snapshot and roll back to.
 * - A transitional status with no active operation (the worker died mid-way) accepts only
 *   `delete_cluster`, so a customer can always get rid of a broken cluster; `error` also accepts
 *   `restore_backup`: restoring a backup is the way back from a broken etcd (docs/backups.md).
 * - `restoring` (a control-plane restore resets etcd) is transitional like `upgrading`.
 * - `deleting` and `deleted` accept nothing.
 */
export const OPERATIONS_ACCEPTED: Readonly<Record<ClusterStatus, readonly OperationType[]>> = Object.freeze({
  running: [
    'update_cluster',
    'delete_cluster',
    ...NODE_POOL_OPERATIONS,
    'upgrade_cluster',
    'rotate_credentials',
    'create_backup',
    'restore_backup',
    'update_addons',
  ],
  degraded: ['update_cluster', 'delete_cluster', ...NODE_POOL_OPERATIONS, 'rotate_credentials', 'create_backup', 'restore_backup', 'update_addons'],
  provisioning: ['delete_cluster'],
  updating: ['delete_cluster'],
  upgrading: ['delete_cluster'],
  restoring: ['delete_cluster'],
  error: ['delete_cluster', 'restore_backup'],
  deleting: [],
  deleted: [],
});

/**
 * Refuses `type` on `cluster` unless the cluster can take it now.
 *
 * At most one operation changes a cluster at a time (the `mutating` column of `operations`), so any
 * active operation makes the cluster busy; the 409 names it so the caller can watch or cancel it.
 */
export function assertClusterAccepts(
  cluster: { id: string; status: ClusterStatus },
  type: OperationType,
  running?: { id: string; type: OperationType } | null,
): void {
  if (running) {
    throw new ConflictError(
      'cluster-busy',
      `cluster ${cluster.id} is ${cluster.status}; operation ${running.id} (${running.type}) is running, so ${type} must wait until it finishes or is cancelled`,
      { operation_id: running.id, operation_type: running.type, cluster_id: cluster.id },
    );
  }
  const accepted = OPERATIONS_ACCEPTED[cluster.status];
  if (accepted.includes(type)) return;

  throw new ConflictError('cluster-state-conflict', stateConflictDetail(cluster, type, accepted), {
    cluster_id: cluster.id,
    status: cluster.status,
    operation_type: type,
    accepted: [...accepted],
  });
}

function stateConflictDetail(cluster: { id: string; status: ClusterStatus }, type: OperationType, accepted: readonly OperationType[]): string {
  if (type === 'create_cluster') return `cluster ${cluster.id} already exists; create_cluster only creates new clusters`;
  if (accepted.length === 0) return `cluster ${cluster.id} is ${cluster.status} and accepts no operations`;
  const needs = (Object.keys(OPERATIONS_ACCEPTED) as ClusterStatus[]).filter((s) => OPERATIONS_ACCEPTED[s].includes(type));
  return `${type} needs cluster ${cluster.id} to be ${needs.join(' or ')}, but its status is ${cluster.status}, which accepts only ${accepted.join(', ')}`;
}

/** Whether `status` accepts `type` when nothing else is running (for showing available actions). */
export function clusterAccepts(status: ClusterStatus, type: OperationType): boolean {
  return OPERATIONS_ACCEPTED[status].includes(type);
}

/** The status a cluster shows while an operation of `type` runs on it. */
export function clusterStatusDuring(type: OperationType): ClusterStatus {
  switch (type) {
    case 'create_cluster':
      return 'provisioning';
    case 'delete_cluster':
      return 'deleting';
    case 'upgrade_cluster':
      return 'upgrading';
    // A control-plane restore (a workload restore and a backup leave the status as it is:
    // `clusterStatusDuringBackupWork`).
    case 'restore_backup':
      return 'restoring';
    default:
      return 'updating';
  }
}

/**
 * The status a cluster shows while backup work runs on it: a backup and a workload restore leave it
 * serving as it was (`null`: no change); a control-plane restore resets its etcd, so it is
 * `restoring` until the restore ends (docs/backups.md, "Restore").
 */
export function clusterStatusDuringBackupWork(work: 'backup' | 'restore_workloads' | 'restore_control_plane'): ClusterStatus | null {
  return work === 'restore_control_plane' ? clusterStatusDuring('restore_backup') : null;
}

export function isActiveOperationStatus(s: OperationStatus): boolean {
  return ACTIVE_OPERATION_STATUSES.includes(s);
}

/** Finished: the operation no longer holds its cluster (a failed one may still be retried by staff). */
export function isTerminalOperationStatus(s: OperationStatus): boolean {
  return TERMINAL_OPERATION_STATUSES.includes(s);
}

/**
 * Legal moves of an operation's status. `running -> pending` is a retry after a transient failure
 * (steps are checkpointed, so the retry resumes); `failed -> pending` is a staff retry; a paused
 * `needs_attention` operation resumes through a staff retry too (`-> pending`: it is handed back to
 * the workers, whose claim alone makes an operation `running` under its lease), or is cancelled or
 * failed by a person.
 */
export const OPERATION_TRANSITIONS: Readonly<Record<OperationStatus, readonly OperationStatus[]>> = Object.freeze({
  pending: ['running', 'cancelled', 'failed'],
  running: ['succeeded', 'failed', 'needs_attention', 'cancelled', 'pending'],
  needs_attention: ['pending', 'cancelled', 'failed'],
  failed: ['pending'],
  succeeded: [],
  cancelled: [],
});

export function canTransitionOperation(from: OperationStatus, to: OperationStatus): boolean {
  return OPERATION_TRANSITIONS[from].includes(to);
}

/** Refuses an illegal status change, so two writers racing on one operation cannot both win. */
export function operationTransition(from: OperationStatus, to: OperationStatus, operationId?: string): void {
  if (canTransitionOperation(from, to)) return;
  const allowed = OPERATION_TRANSITIONS[from];
  const subject = operationId ? `operation ${operationId}` : 'an operation';
  const next = allowed.length > 0 ? `from ${from} it can only become ${allowed.join(', ')}` : `${from} is final`;
  throw new ConflictError('operation-state-conflict', `${subject} cannot go from ${from} to ${to}; ${next}`, {
    ...(operationId ? { operation_id: operationId } : {}),
    from,
    to,
  });
}

/** Whether a customer may cancel an operation in this status. */
export function canCancel(status: OperationStatus): boolean {
  return canTransitionOperation(status, 'cancelled');
}

/**
 * Refuses to cancel an operation of `type` that has no way back. An `update_cluster` applies the
 * settings the customer already saved (a GKE cluster's channel, window, labels): cancelling it
 * would leave those settings saved and the provider on the old ones, so the way back is another
 * PATCH with the previous values, applied by the next `update_cluster`.
 */
export function assertCancellable(type: OperationType, operationId: string): void {
  if (type !== 'update_cluster') return;
  throw new ConflictError(
    'operation-not-cancellable',
    `operation ${operationId} (update_cluster) applies settings already saved on the cluster and cannot be cancelled; change them back with PATCH /v1/clusters/{cluster_id} once it has finished`,
    { operation_id: operationId, operation_type: type },
  );
}

/**
 * What the SLA monitor holds about a cluster's API server when an operation ends (docs/sla.md,
 * "Cluster status"): `down` once its latest minutes made it mark the API server unreachable, with
 * the reason a degraded cluster shows; `up` otherwise (up again, or never held down).
 */
export type ApiServerView = { state: 'down'; reason: string } | { state: 'up' };

export type OperationOutcome = 'succeeded' | 'failed' | 'cancelled';

export interface OperationEnd {
  type: OperationType;
  outcome: OperationOutcome;
  /** A restore's scope: only a control-plane restore takes the cluster's status while it runs. */
  restoreScope?: 'control_plane' | 'workloads';
  /** The cluster's status when the operation was requested: a cancel goes back to it. */
  previousStatus?: ClusterStatus;
  /** Why a failed operation failed, in words. */
  failure?: string;
}

/**
 * Where an operation's end leaves its cluster: its status and `reason` (absent: the reason it has
 * stays), or null when the operation never took the cluster's status and leaves it as it is.
 */
export type ClusterStatusAfter = { status: ClusterStatus; reason?: string | null } | null;

/** Operations that leave the status as it is while they run (docs/backups.md, docs/addons.md). */
function takesClusterStatus(end: Pick<OperationEnd, 'type' | 'restoreScope'>): boolean {
  if (end.type === 'create_backup' || end.type === 'update_addons') return false;
  if (end.type === 'restore_backup') return end.restoreScope === 'control_plane';
  return true;
}

/**
 * The status an operation's end leaves (docs/sla.md, "Cluster status"; docs/operations-engine.md,
 * "Where an operation leaves its cluster"), decided from the operation, how it ended and the SLA
 * monitor's view of the API server. An operation knows what it did, never whether the API server
 * answers: a cluster it leaves serving is `degraded` with the monitor's reason while the monitor
 * holds the API server down, `running` otherwise. So a degraded cluster that a PATCH or a scale
 * passed through stays degraded, and a cluster that went down meanwhile is degraded at once
 * instead of `running` until the monitor's next threshold.
 *
 * - succeeded: serving (a deleted cluster is `deleted`);
 * - failed: a create or a delete leaves `error`, and so does a control-plane restore (its etcd is
 *   in a state nobody vouches for); an upgrade, a settings change, node-pool work leave the
 *   cluster serving, saying why where there is something to say;
 * - cancelled: back to the status before the request (a cancelled create is gone), where serving
 *   means `running` or `degraded` as the monitor sees it now, not as it saw it then.
 */
export function clusterStatusAfterOperation(end: OperationEnd, apiServer: ApiServerView): ClusterStatusAfter {
  if (!takesClusterStatus(end)) return null;
  const serving = (reason: string | null): ClusterStatusAfter =>
    apiServer.state === 'down' ? { status: 'degraded', reason: apiServer.reason } : { status: 'running', reason };
  const failure = end.failure ?? 'the operation failed';
  switch (end.outcome) {
    case 'succeeded':
      return end.type === 'delete_cluster' ? { status: 'deleted' } : serving(null);
    case 'failed':
      if (end.type === 'create_cluster' || end.type === 'delete_cluster' || end.type === 'restore_backup') return { status: 'error', reason: failure };
      if (end.type === 'update_cluster') return serving(`the provider did not apply the settings: ${failure}`);
      if (end.type === 'upgrade_cluster') return serving(failure);
      return serving(null);
    case 'cancelled': {
      if (end.type === 'create_cluster') return { status: 'deleted', reason: 'creation was cancelled' };
      const previous = end.previousStatus ?? 'running';
      return previous === 'running' || previous === 'degraded' ? serving(null) : { status: previous };
    }
  }
}
