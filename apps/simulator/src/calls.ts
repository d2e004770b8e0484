import { simulatorRoutes } from '@capstan/contracts';
import { GKE_CALLS } from './gke/calls';

/** What faults match and stats count: the ClusterProvider calls staff can fault through the API, and the GKE methods. */
export const PROVIDER_CALLS = [
  ...simulatorRoutes.PROVIDER_CALLS,
  // The emulated GKE Container API's methods (apps/simulator/src/gke), named as Google names them.
  ...GKE_CALLS,
] as const;

export type ProviderCall = (typeof PROVIDER_CALLS)[number];
