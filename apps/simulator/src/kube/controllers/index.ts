import type { SubresourceRegistration } from '../subresources';
import type { EmulatedController } from '../types';

/**
 * Every controller of the emulated world, run by the controller runner on change events and on
 * its tick. Add yours here (workload/ and capi/ have their own lists; concatenate them).
 */
export const KUBE_CONTROLLERS: readonly EmulatedController[] = [];

/** Subresource handlers (`pods/eviction`, `serviceaccounts/token`, ...) registered at start. */
export const KUBE_SUBRESOURCES: readonly SubresourceRegistration[] = [];
