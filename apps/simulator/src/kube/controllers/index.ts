import type { SubresourceRegistration } from '../subresources';
import type { EmulatedController } from '../types';
import { WORKLOAD_CONTROLLERS, WORKLOAD_SUBRESOURCES } from './workload';

/**
 * Every controller of the emulated world, run by the controller runner on change events and on
 * its tick. Add yours here (workload/ and capi/ have their own lists; concatenate them).
 */
export const KUBE_CONTROLLERS: readonly EmulatedController[] = [...WORKLOAD_CONTROLLERS];

/** Subresource handlers (`pods/eviction`, `serviceaccounts/token`, ...) registered at start. */
export const KUBE_SUBRESOURCES: readonly SubresourceRegistration[] = [...WORKLOAD_SUBRESOURCES];

// The Cluster API controllers of the management cluster need the simulator's database (machine
// faults) and the eviction handler: simulator.ts builds them with `clusterApiControllers(...)`.
