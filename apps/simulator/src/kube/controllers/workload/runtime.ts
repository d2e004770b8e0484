import { type ApiServerClient, type ControllerContext, KubeApiError, type KubeObject, type ObjectRef } from '../../types';

/**
 * What every workload controller does around its logic: decide from the triggering event whether
 * (and in which namespace) to look at all, and treat the races two simulator processes have with
 * each other (AlreadyExists, NotFound, Conflict) as "someone else got there first".
 */

/**
 * Null: the event cannot concern this controller. Otherwise the namespace to reconcile
 * (undefined = all of them, for ticks and for cluster-scoped objects such as Nodes).
 */
export function reconcileScope(server: ApiServerClient, context: ControllerContext, kinds: readonly string[]): { namespace?: string } | null {
  const { event } = context;
  if (!event) return {};
  if (event.server !== server.name || !kinds.includes(event.object.kind)) return null;
  return event.object.metadata.namespace ? { namespace: event.object.metadata.namespace } : {};
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
