/** The simulated cloud's operations, one per ClusterProvider method: what faults match and stats count. */
export const PROVIDER_CALLS = [
  'ensureCluster',
  'getCluster',
  'deleteCluster',
  'ensureNodePool',
  'getNodePool',
  'updateNodePool',
  'deleteNodePool',
  'issueCredentials',
  'revokeCredentials',
  'upgradeControlPlane',
  'cordonNode',
  'drainNode',
  'upgradeNode',
  'uncordonNode',
  'snapshot',
  'restore',
  'installAddons',
  'listAddons',
  'listObjects',
] as const;

export type ProviderCall = (typeof PROVIDER_CALLS)[number];
