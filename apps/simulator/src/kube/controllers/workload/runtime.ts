import { type ApiServerClient, type ControllerContext, KubeApiError, type KubeObject, type ObjectRef } from '../../types';

/**
 * What every workload controller does around its logic: decide from the triggering event whether
 * (and in which namespace) to look at all, and treat the races two simulator processes have with
 * each other (AlreadyExists, NotFound, Conflict) as "someone else got there first".
 */

/**
 * Null: the event cannot concern this controller, or it is a tick and this controller swept this
 * server less than TICK_FLOOR_MS ago. Otherwise the namespace to reconcile (undefined = all of
 * them, for ticks and for cluster-scoped objects such as Nodes).
 *
 * Events drive the controllers; ticks only advance timed transitions and catch up with events
 * the runner coalesced away. The runner may tick every 50 ms; a full sweep lists several kinds,
 * so on a shared 2-core machine ticks are thinned out per controller and server.
 */
export function reconcileScope(
  server: ApiServerClient,
  context: ControllerContext,
  kinds: readonly string[],
  controller: string,
): { namespace?: string } | null {
  const { event } = context;
  if (!event) return tickDue(controller, server.name) ? {} : null;
  if (event.server !== server.name || !kinds.includes(event.object.kind)) return null;
  return event.object.metadata.namespace ? { namespace: event.object.metadata.namespace } : {};
}

export const TICK_FLOOR_MS = 250;
const lastSweep = new Map<string, number>();

function tickDue(controller: string, server: string): boolean {
  const key = `${controller}\u0000${server}`;
  const now = performance.now();
  const last = lastSweep.get(key);
  if (last !== undefined && now - last < TICK_FLOOR_MS) return false;
  lastSweep.set(key, now);
  // Forget servers that stopped ticking (removed) so the map does not grow without bound.
  if (lastSweep.size > 50_000) for (const [k, at] of lastSweep) if (now - at > 60_000) lastSweep.delete(k);
  return true;
}

export function listOptions(scope: { namespace?: string }): { namespace?: string } {
  return scope.namespace ? { namespace: scope.namespace } : {};
}

export function isRace(error: unknown): boolean {
  return error instanceof KubeApiError && (error.code === 404 || error.code === 409);
}

/** Runs a write; a lost race is left for the next reconcile, anything else is thrown. */
export async function racing<T>(write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (error) {
    if (isRace(error)) return undefined;
    throw error;
  }
}

export async function createIfAbsent(server: ApiServerClient, object: KubeObject): Promise<KubeObject | undefined> {
  return racing(() => server.create(object));
}

export async function deleteIfPresent(server: ApiServerClient, ref: ObjectRef): Promise<void> {
  await racing(() => server.delete(ref));
}

/** How long a container takes to start: seconds at most, however slow machines are made to provision. */
export function podStartupMs(context: ControllerContext): number {
  return Math.min(context.stepDelayMs, 2_000);
}
