import { ConflictError } from '../errors/domain-error';
import {
  ACTIVE_OPERATION_STATUSES,
  assertCancellable,
  assertClusterAccepts,
  canCancel,
  ClusterStatus,
  clusterStatusDuring,
  clusterStatusDuringBackupWork,
  isActiveOperationStatus,
  isTerminalOperationStatus,
  operationTransition,
  OperationStatus,
  OperationType,
} from './cluster-lifecycle';
import { caught } from '../test/thrown';

const CLUSTER_STATUSES: ClusterStatus[] = ['provisioning', 'running', 'updating', 'upgrading', 'restoring', 'degraded', 'error', 'deleting', 'deleted'];
const OPERATION_TYPES: OperationType[] = [
  'create_cluster',
  'update_cluster',
  'delete_cluster',
  'create_node_pool',
  'update_node_pool',
  'delete_node_pool',
  'scale_node_pool',
  'upgrade_cluster',
  'rotate_credentials',
  'create_backup',
  'restore_backup',
];
const OPERATION_STATUSES: OperationStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'needs_attention'];
const NODE_POOL_OPERATIONS: OperationType[] = ['create_node_pool', 'update_node_pool', 'delete_node_pool', 'scale_node_pool'];

describe('assertClusterAccepts', () => {
  it('refuses any operation while another one holds the cluster, naming it', () => {
    // given cluster cl_x is being upgraded by op_y
    const cluster = { id: 'cl_x', status: 'upgrading' as const };
    // when a scale is asked for
    const error = caught(() => assertClusterAccepts(cluster, 'scale_node_pool', { id: 'op_y', type: 'upgrade_cluster' }));
    // then
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.kind).toBe('conflict');
    expect(error.type).toBe('cluster-busy');
    expect(error.detail).toMatch(/^cluster cl_x is upgrading; operation op_y \(upgrade_cluster\) is running/);
    expect(error.extensions).toMatchObject({ operation_id: 'op_y' });
  });

  it('refuses even a delete while another operation holds the cluster', () => {
    expect(caught(() => assertClusterAccepts({ id: 'cl_x', status: 'running' }, 'delete_cluster', { id: 'op_1', type: 'create_backup' })).type).toBe(
      'cluster-busy',
    );
  });

  it('accepts every operation but create on a running cluster', () => {
    for (const type of OPERATION_TYPES.filter((t) => t !== 'create_cluster')) {
      expect(() => assertClusterAccepts({ id: 'cl_x', status: 'running' }, type, null)).not.toThrow();
    }
  });

  it('never accepts create_cluster for an existing cluster', () => {
    for (const status of CLUSTER_STATUSES) {
      const error = caught(() => assertClusterAccepts({ id: 'cl_x', status }, 'create_cluster'));
      expect(error.type).toBe('cluster-state-conflict');
    }
  });

  it('accepts nothing but delete and a restore on a cluster in error', () => {
    // given
    const cluster = { id: 'cl_x', status: 'error' as const };
    // then
    expect(() => assertClusterAccepts(cluster, 'delete_cluster')).not.toThrow();
    expect(() => assertClusterAccepts(cluster, 'restore_backup')).not.toThrow();
    const error = caught(() => assertClusterAccepts(cluster, 'scale_node_pool'));
    expect(error.type).toBe('cluster-state-conflict');
    expect(error.detail).toBe(
      'scale_node_pool needs cluster cl_x to be running or degraded, but its status is error, which accepts only delete_cluster, restore_backup',
    );
    expect(error.extensions).toMatchObject({ cluster_id: 'cl_x', status: 'error', accepted: ['delete_cluster', 'restore_backup'] });
  });

  it.each(['deleting', 'deleted'] as const)('accepts nothing on a %s cluster', (status) => {
    for (const type of OPERATION_TYPES) {
      expect(caught(() => assertClusterAccepts({ id: 'cl_x', status }, type)).type).toBe('cluster-state-conflict');
    }
    expect(caught(() => assertClusterAccepts({ id: 'cl_x', status }, 'delete_cluster')).detail).toBe(`cluster cl_x is ${status} and accepts no operations`);
  });

  it('accepts node-pool operations only on a running or degraded cluster', () => {
    for (const status of CLUSTER_STATUSES) {
      for (const type of NODE_POOL_OPERATIONS) {
        const accepted = !catchesConflict(() => assertClusterAccepts({ id: 'cl_x', status }, type));
        expect({ status, type, accepted }).toEqual({ status, type, accepted: status === 'running' || status === 'degraded' });
      }
    }
  });

  it('refuses to upgrade a degraded cluster but lets it be repaired', () => {
    const degraded = { id: 'cl_x', status: 'degraded' as const };
    expect(caught(() => assertClusterAccepts(degraded, 'upgrade_cluster')).detail).toMatch(
      /^upgrade_cluster needs cluster cl_x to be running, but its status is degraded/,
    );
    expect(() => assertClusterAccepts(degraded, 'scale_node_pool')).not.toThrow();
    expect(() => assertClusterAccepts(degraded, 'restore_backup')).not.toThrow();
  });

  it('lets a cluster stuck in a transitional status with no operation be deleted, and nothing else', () => {
    for (const status of ['provisioning', 'updating', 'upgrading', 'restoring'] as const) {
      expect(() => assertClusterAccepts({ id: 'cl_x', status }, 'delete_cluster', null)).not.toThrow();
      expect(caught(() => assertClusterAccepts({ id: 'cl_x', status }, 'update_cluster', null)).type).toBe('cluster-state-conflict');
    }
  });
});

function catchesConflict(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    if (e instanceof ConflictError) return true;
    throw e;
  }
}

describe('clusterStatusDuring', () => {
  it.each([
    ['create_cluster', 'provisioning'],
    ['delete_cluster', 'deleting'],
    ['upgrade_cluster', 'upgrading'],
    ['scale_node_pool', 'updating'],
    ['rotate_credentials', 'updating'],
    ['restore_backup', 'restoring'],
  ] as const)('shows %s as %s', (type, status) => {
    expect(clusterStatusDuring(type)).toBe(status);
  });

  it('leaves a cluster serving as it was while a backup or a workload restore runs, restoring while its etcd is reset', () => {
    expect(clusterStatusDuringBackupWork('backup')).toBeNull();
    expect(clusterStatusDuringBackupWork('restore_workloads')).toBeNull();
    expect(clusterStatusDuringBackupWork('restore_control_plane')).toBe('restoring');
  });
});

describe('operation status', () => {
  /** The rules as written in the brief, kept apart from the implementation's table on purpose. */
  const LEGAL = new Set([
    'pending>running',
    'pending>cancelled',
    'pending>failed',
    'running>succeeded',
    'running>failed',
    'running>needs_attention',
    'running>cancelled',
    'running>pending',
    'needs_attention>pending',
    'needs_attention>cancelled',
    'needs_attention>failed',
    'failed>pending',
  ]);

  it('allows exactly the legal transitions and refuses the rest as a conflict', () => {
    for (const from of OPERATION_STATUSES) {
      for (const to of OPERATION_STATUSES) {
        const legal = !catchesConflict(() => operationTransition(from, to));
        expect({ from, to, legal }).toEqual({ from, to, legal: LEGAL.has(`${from}>${to}`) });
      }
    }
  });

  it('names the operation and where it may go when refusing', () => {
    const error = caught(() => operationTransition('pending', 'succeeded', 'op_1'));
    expect(error.type).toBe('operation-state-conflict');
    expect(error.detail).toBe('operation op_1 cannot go from pending to succeeded; from pending it can only become running, cancelled, failed');
    expect(error.extensions).toEqual({ operation_id: 'op_1', from: 'pending', to: 'succeeded' });
  });

  it('says a succeeded or cancelled operation is final', () => {
    expect(caught(() => operationTransition('succeeded', 'running')).detail).toBe('an operation cannot go from succeeded to running; succeeded is final');
  });

  it('lets pending, running and paused operations be cancelled, and nothing finished', () => {
    expect(OPERATION_STATUSES.filter(canCancel)).toEqual(['pending', 'running', 'needs_attention']);
  });

  it('refuses to cancel only update_cluster, whose settings are already saved, pointing to a PATCH instead', () => {
    const refused = OPERATION_TYPES.filter((type) => {
      try {
        assertCancellable(type, 'op_1');
        return false;
      } catch {
        return true;
      }
    });
    expect(refused).toEqual(['update_cluster']);
    const error = caught(() => assertCancellable('update_cluster', 'op_1'));
    expect(error.type).toBe('operation-not-cancellable');
    expect(error.detail).toContain('PATCH /v1/clusters/{cluster_id}');
  });

  it('counts pending, running and needs_attention as holding the cluster, the rest as finished', () => {
    expect([...ACTIVE_OPERATION_STATUSES].sort()).toEqual(['needs_attention', 'pending', 'running']);
    for (const s of OPERATION_STATUSES) {
      expect(isTerminalOperationStatus(s)).toBe(!isActiveOperationStatus(s));
    }
    expect(OPERATION_STATUSES.filter(isTerminalOperationStatus)).toEqual(['succeeded', 'failed', 'cancelled']);
  });
});
