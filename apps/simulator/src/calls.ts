import { GKE_CALLS } from './gke/calls';

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
  // The emulated GKE Container API's methods (apps/simulator/src/gke), named as Google names them.
  ...GKE_CALLS,
] as const;

export type ProviderCall = (typeof PROVIDER_CALLS)[number];
