import { type ApiServerView, type ClusterStatus, clusterStatusAfterOperation, type OperationType } from './cluster-lifecycle';

const DOWN: ApiServerView = { state: 'down', reason: 'API server unreachable since 2026-12-06T05:20Z (down 3 consecutive minutes)' };
const UP: ApiServerView = { state: 'up' };
const SERVING_WORK: OperationType[] = [
  'update_cluster',
  'create_node_pool',
  'update_node_pool',
  'scale_node_pool',
  'delete_node_pool',
  'upgrade_cluster',
  'rotate_credentials',
];

describe('the status an operation leaves its cluster in', () => {
  describe('given the monitor holds the API server down', () => {
    it.each(SERVING_WORK)('a %s that succeeds leaves the cluster degraded with the monitor reason, not running', (type) => {
      expect(clusterStatusAfterOperation({ type, outcome: 'succeeded' }, DOWN)).toEqual({ status: 'degraded', reason: DOWN.reason });
    });

    it('a create that succeeds on an API server already down is degraded', () => {
      expect(clusterStatusAfterOperation({ type: 'create_cluster', outcome: 'succeeded' }, DOWN)).toEqual({ status: 'degraded', reason: DOWN.reason });
    });

    it('a failed settings change or scale leaves it degraded, the monitor reason winning over the failure', () => {
      expect(clusterStatusAfterOperation({ type: 'update_cluster', outcome: 'failed', failure: 'quota' }, DOWN)).toEqual({
        status: 'degraded',
        reason: DOWN.reason,
      });
      expect(clusterStatusAfterOperation({ type: 'scale_node_pool', outcome: 'failed', failure: 'quota' }, DOWN)).toEqual({
        status: 'degraded',
        reason: DOWN.reason,
      });
    });

    it('a cancelled change of a cluster that was running before is degraded now', () => {
      expect(clusterStatusAfterOperation({ type: 'scale_node_pool', outcome: 'cancelled', previousStatus: 'running' }, DOWN)).toEqual({
        status: 'degraded',
        reason: DOWN.reason,
      });
    });

    it('a failure that breaks the cluster leaves error whatever the API server does', () => {
      for (const type of ['create_cluster', 'delete_cluster'] as const)
        expect(clusterStatusAfterOperation({ type, outcome: 'failed', failure: 'boom' }, DOWN)).toEqual({ status: 'error', reason: 'boom' });
      expect(clusterStatusAfterOperation({ type: 'restore_backup', restoreScope: 'control_plane', outcome: 'failed', failure: 'etcd' }, DOWN)).toEqual({
        status: 'error',
        reason: 'etcd',
      });
    });
  });

  describe('given the monitor holds the API server up (or never held it down)', () => {
    it.each(SERVING_WORK)('a %s that succeeds leaves the cluster running with no reason', (type) => {
      expect(clusterStatusAfterOperation({ type, outcome: 'succeeded' }, UP)).toEqual({ status: 'running', reason: null });
    });

    it('a cancelled change of a cluster that was degraded when it was requested is running now', () => {
      expect(clusterStatusAfterOperation({ type: 'update_node_pool', outcome: 'cancelled', previousStatus: 'degraded' }, UP)).toEqual({
        status: 'running',
        reason: null,
      });
    });

    it('failures that leave the cluster serving say why where there is something to say', () => {
      expect(clusterStatusAfterOperation({ type: 'update_cluster', outcome: 'failed', failure: 'quota' }, UP)).toEqual({
        status: 'running',
        reason: 'the provider did not apply the settings: quota',
      });
      expect(clusterStatusAfterOperation({ type: 'upgrade_cluster', outcome: 'failed', failure: 'hop failed' }, UP)).toEqual({
        status: 'running',
        reason: 'hop failed',
      });
      expect(clusterStatusAfterOperation({ type: 'delete_node_pool', outcome: 'failed', failure: 'drain' }, UP)).toEqual({ status: 'running', reason: null });
    });
  });

  describe('whatever the monitor holds', () => {
    it.each([DOWN, UP])('a cancelled change of a cluster in error leaves it in error with its reason', (view) => {
      const after = clusterStatusAfterOperation({ type: 'delete_cluster', outcome: 'cancelled', previousStatus: 'error' as ClusterStatus }, view);
      expect(after).toEqual({ status: 'error' });
      expect(after).not.toHaveProperty('reason');
    });

    it.each([DOWN, UP])('a cancelled create is gone', (view) => {
      expect(clusterStatusAfterOperation({ type: 'create_cluster', outcome: 'cancelled' }, view)).toEqual({
        status: 'deleted',
        reason: 'creation was cancelled',
      });
    });

    it.each([DOWN, UP])('a delete that succeeds leaves the cluster deleted', (view) => {
      expect(clusterStatusAfterOperation({ type: 'delete_cluster', outcome: 'succeeded' }, view)).toEqual({ status: 'deleted' });
    });

    it.each([{ type: 'create_backup' as const }, { type: 'update_addons' as const }, { type: 'restore_backup' as const, restoreScope: 'workloads' as const }])(
      'work that never took the status ($type) leaves it as it is, however it ends',
      (work) => {
        for (const outcome of ['succeeded', 'failed', 'cancelled'] as const)
          for (const view of [DOWN, UP]) expect(clusterStatusAfterOperation({ ...work, outcome, previousStatus: 'degraded' }, view)).toBeNull();
      },
    );

    it('a control-plane restore that succeeds serves again, as the monitor sees it', () => {
      const restore = { type: 'restore_backup' as const, restoreScope: 'control_plane' as const, outcome: 'succeeded' as const };
      expect(clusterStatusAfterOperation(restore, UP)).toEqual({ status: 'running', reason: null });
      expect(clusterStatusAfterOperation(restore, DOWN)).toEqual({ status: 'degraded', reason: DOWN.reason });
    });
  });
});
