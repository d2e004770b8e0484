/**
 * The ordered steps of each kind of operation. Each step is idempotent on its own (external names
 * derive from our ids) and is checkpointed before the next starts, so a retry resumes at the first
 * unfinished one. Customers see these names in the operation's `steps`.
 */
export const OPERATION_PLANS = {
  create_cluster: [
    'reserve_endpoint',
    'create_control_plane',
    'wait_control_plane_ready',
    'create_node_pools',
    'install_addons',
    'issue_admin_credentials',
    'mark_running',
  ],
  update_cluster: ['apply_cluster_settings', 'mark_running'],
  // `forget_local_snapshots` is libs/backups': etcd snapshots kept only on the servers went with them.
  delete_cluster: ['delete_node_pools', 'delete_control_plane', 'forget_local_snapshots', 'release_endpoint', 'revoke_credentials', 'mark_deleted'],
  create_node_pool: ['create_pool', 'wait_nodes_ready', 'mark_running'],
  update_node_pool: ['apply_pool_settings', 'mark_running'],
  scale_node_pool: ['resize_pool', 'wait_nodes_ready', 'mark_running'],
  delete_node_pool: ['cordon_and_drain', 'delete_pool', 'mark_deleted'],
  // The step kinds of an upgrade; its plan is computed per operation (upgradeOperationSteps).
  upgrade_cluster: [
    'preflight_removed_apis',
    'backup_before_hop',
    'upgrade_control_plane',
    'upgrade_node_pool',
    'upgrade_system_pool',
    'upgrade_addons',
    'rollback_node_pool',
    'mark_upgraded',
  ],
  rotate_credentials: ['issue_new_credentials', 'revoke_old_credentials'],
  create_backup: ['take_backup', 'record_backup'],
  restore_backup: ['preflight_restore', 'restore_backup', 'mark_restored'],
  // One add-on installed, changed or removed (libs/addons): the HelmChart applied or deleted, then
  // helm-controller's result read back from the cluster's own objects.
  update_addons: ['apply_addon', 'verify_addon'],
} as const satisfies Record<string, readonly string[]>;

export type PlannedOperationType = keyof typeof OPERATION_PLANS;

export function plannedSteps(type: PlannedOperationType): readonly string[] {
  return OPERATION_PLANS[type];
}

/**
 * The operation types something can enqueue today. The worker refuses to boot unless each has a
 * handler for every step kind its plan can contain, and enqueueing any other type is refused:
 * a feature that adds one registers its handlers in the same change (docs/operations-engine.md,
 * Step registry).
 */
export const ENQUEUEABLE_OPERATION_TYPES = Object.freeze([
  'create_cluster',
  'update_cluster',
  'delete_cluster',
  'create_node_pool',
  'update_node_pool',
  'scale_node_pool',
  'delete_node_pool',
  'upgrade_cluster',
  'update_addons',
  'create_backup',
  'restore_backup',
] as const satisfies readonly PlannedOperationType[]);

export function isEnqueueable(type: PlannedOperationType): boolean {
  return (ENQUEUEABLE_OPERATION_TYPES as readonly string[]).includes(type);
}

/**
 * The step kinds a plan of `type` can contain. Plans may be computed when an operation is created
 * (one step per upgrade hop, per node pool), so handlers are checked per kind, not per fixed list.
 */
export function stepKinds(type: PlannedOperationType): readonly string[] {
  return OPERATION_PLANS[type];
}

/**
 * A step's name is its kind, or its kind and what it works on after a colon
 * (`upgrade_node_pool:apps:1.36.5`): plans computed per operation name each step, and the engine
 * runs the handler of the name's kind.
 */
export function stepKindOf(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(0, colon);
}
