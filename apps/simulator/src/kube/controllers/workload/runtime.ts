import { type ApiServerClient, type ControllerContext, KubeApiError, type KubeObject, type ObjectRef } from '../../types';

/**
 * What every workload controller does around its logic: decide from the triggering event whether
 * (and in which namespace) to look at all, and treat the races two simulator processes have with
 * each other (AlreadyExists, NotFound, Conflict) as "someone else got there first".
 */

/**
 * Null: the event cannot concern this controller, or it is a tick with nothing for it to do here.
 * Otherwise the namespace to reconcile (undefined = all of them, for ticks and for
 * cluster-scoped objects such as Nodes).
 *
 * Events drive the controllers; a tick sweeps a server only while it is busy (`markActive`: an
 * event of a workload kind within ACTIVE_WINDOW_MS; the runner coalesces events, so a sweep
 * catches those a controller never saw), when
 * a timer the controller set is due (`wakeAfter`: a pod finishing its start-up), and otherwise
 * every IDLE_SWEEP_MS as a safety net. A fleet of idle workload clusters then costs a map lookup
 * per tick, not a round of list queries.
 */
export function reconcileScope(
  server: ApiServerClient,
  context: ControllerContext,
  kinds: readonly string[],
  controller: string,
): { namespace?: string } | null {
  const { event } = context;
  const state = stateOf(controller, server.name);
  const now = performance.now();
  if (event) {
    if (event.server !== server.name || !kinds.includes(event.object.kind)) return null;
    return event.object.metadata.namespace ? { namespace: event.object.metadata.namespace } : {};
  }
  const busy = now - (activeAt.get(server.name) ?? Number.NEGATIVE_INFINITY) < ACTIVE_WINDOW_MS || now >= state.wakeAt;
  if (now - state.lastSweep < (busy ? TICK_FLOOR_MS : IDLE_SWEEP_MS)) return null;
  state.lastSweep = now;
  state.wakeAt = Number.POSITIVE_INFINITY;
  return {};
}

/**
 * Marks a server busy: every controller sweeps it on ticks for ACTIVE_WINDOW_MS, whichever event
 * each one saw (the runner keeps the latest event per kind that arrives during a pass).
 */
export function markActive(server: string): void {
  activeAt.set(server, performance.now());
  if (activeAt.size > 10_000) {
    const now = performance.now();
    for (const [name, at] of activeAt) if (now - at > ACTIVE_WINDOW_MS) activeAt.delete(name);
  }
}

const activeAt = new Map<string, number>();

/** Asks for a sweep of this server `delayMs` from now (a timed transition), whatever else happens. */
export function wakeAfter(controller: string, server: string, delayMs: number): void {
  const state = stateOf(controller, server);
  state.wakeAt = Math.min(state.wakeAt, performance.now() + Math.max(0, delayMs));
}

export const TICK_FLOOR_MS = 250;
export const ACTIVE_WINDOW_MS = 5_000;
export const IDLE_SWEEP_MS = 120_000;

interface SweepState {
  lastSweep: number;
  wakeAt: number;
}
const sweeps = new Map<string, SweepState>();

function stateOf(controller: string, server: string): SweepState {
  const key = `${controller}\u0000${server}`;
  let state = sweeps.get(key);
  if (!state) {
    const now = performance.now();
    // The first sweep of a server this process has not seen comes soon, spread over a few seconds
    // so that a process starting with a fleet does not sweep it all at once.
    state = { lastSweep: now - IDLE_SWEEP_MS + Math.random() * 5_000, wakeAt: Number.POSITIVE_INFINITY };
    sweeps.set(key, state);
    if (sweeps.size % 10_000 === 0) forgetStale(now);
  }
  return state;
}

/** Servers that stopped existing stop ticking; forget them so the map does not grow without bound. */
function forgetStale(now: number): void {
  for (const [key, state] of sweeps) if (now - state.lastSweep > 4 * IDLE_SWEEP_MS) sweeps.delete(key);
}

export function listOptions(scope: { namespace?: string }): { namespace?: string } {
  return scope.namespace ? { namespace: scope.namespace } : {};
}

export function isRace(error: unknown): boolean {
  return error instanceof KubeApiError && (error.code === 404 || error.code === 409 || isNamespaceTerminating(error));
}

/** A create refused because its namespace is being deleted: upstream controllers let it go too (the NamespaceTerminating cause). */
function isNamespaceTerminating(error: KubeApiError): boolean {
  const causes = (error.details?.['causes'] as { reason?: string }[] | undefined) ?? [];
  return error.code === 403 && causes.some((cause) => cause.reason === 'NamespaceTerminating');
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
