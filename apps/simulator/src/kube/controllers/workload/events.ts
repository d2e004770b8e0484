import { randomInt } from 'node:crypto';
import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController, KubeObject } from '../../types';
import { isRace, racing } from './runtime';

/**
 * Records core/v1 Events about objects, as the components' event recorders do, so `kubectl
 * events`, `get events` and the Events section of `kubectl describe` show what the emulated
 * components did. Two recorders, as upstream:
 * - `core` (client-go's record package; kube-controller-manager's controllers, the kubelet):
 *   `source.component`, `firstTimestamp`/`lastTimestamp` and `count`; a repeat of an event (same
 *   object, type, reason, message and source) patches the first one's `count` and `lastTimestamp`;
 * - `events.k8s.io` (the events package; kube-scheduler): `eventTime`, `reportingComponent`,
 *   `action`, no count; a repeat (same object, type, reason, action, message, reporter) gives the
 *   first one a `series` `{ count, lastObservedTime }` (count 2 at the first repeat).
 * `kubectl describe` then shows "5s (x3 over 2m)". Events are named `<object>.<hex of the unix
 * nanoseconds>` as client-go names them. Repeats are found in a per-process cache (client-go's
 * is per component too); an event gone meanwhile (its TTL ran out) is recorded anew.
 * Best effort: a failed write is not the caller's failure (upstream drops events under load too).
 */
export interface EventRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  component: string;
  /** What the reporter did (events.k8s.io recorder only): `Binding`, `Scheduling`. */
  action: string;
  now: Date;
  /** Which recorder writes it; default `core`. */
  recorder?: 'core' | 'events.k8s.io';
}

export async function recordEvent(server: ApiServerClient, object: KubeObject, event: EventRecord): Promise<void> {
  const { metadata } = object;
  const recorder = event.recorder ?? 'core';
  const namespace = metadata.namespace ?? 'default';
  const key = [
    server.name,
    recorder,
    object.kind,
    namespace,
    metadata.name,
    metadata.uid,
    event.type,
    event.reason,
    event.message,
    event.component,
    recorder === 'core' ? '' : event.action,
  ].join('\u0000');
  try {
    const seen = repeats.get(key);
    if (seen) {
      seen.count += 1;
      const patch =
        recorder === 'core' ? { count: seen.count, lastTimestamp: seconds(event.now) } : { series: { count: seen.count, lastObservedTime: micro(event.now) } };
      try {
        await server.mergePatch({ apiVersion: 'v1', kind: 'Event', namespace, name: seen.name }, patch);
        touch(key, seen);
        return;
      } catch (error) {
        if (!isRace(error)) throw error;
        // Gone (expired or deleted): record it as a new event.
      }
    }
    const name = `${metadata.name}.${nanosHex(event.now)}`;
    const involvedObject = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
    };
    const common = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      type: event.type,
      reason: event.reason,
      message: event.message,
    };
    const body: KubeObject =
      recorder === 'core'
        ? {
            ...common,
            source: { component: event.component },
            reportingComponent: event.component,
            reportingInstance: '',
            firstTimestamp: seconds(event.now),
            lastTimestamp: seconds(event.now),
            count: 1,
            eventTime: null,
          }
        : {
            ...common,
            action: event.action,
            source: { component: event.component },
            reportingComponent: event.component,
            reportingInstance: event.component,
            eventTime: micro(event.now),
            firstTimestamp: null,
            lastTimestamp: null,
          };
    const created = await racing(() => server.create(body));
    if (created) {
      touch(key, { name, count: 1 });
      noteOccurrence(server.name, event.now.getTime());
    }
  } catch {
    // Best effort, see above.
  }
}

/** Events this process recorded, by what makes a repeat, oldest first (client-go keeps an LRU of 4096). */
const repeats = new Map<string, { name: string; count: number }>();
const MAX_REMEMBERED = 4096;

function touch(key: string, entry: { name: string; count: number }): void {
  repeats.delete(key);
  repeats.set(key, entry);
  if (repeats.size > MAX_REMEMBERED) repeats.delete(repeats.keys().next().value!);
}

const seconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const micro = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function nanosHex(date: Date): string {
  // Milliseconds are all a Date has; random sub-millisecond digits keep two events of one millisecond apart.
  return (BigInt(date.getTime()) * 1_000_000n + BigInt(randomInt(1_000_000))).toString(16);
}

/** When an Event last occurred: what its TTL counts from (upstream: its last write). */
export function lastOccurrence(event: KubeObject): number {
  const series = event['series'] as { lastObservedTime?: string } | undefined;
  const times = [
    series?.lastObservedTime,
    event['lastTimestamp'] as string | undefined,
    event['eventTime'] as string | undefined,
    event['deprecatedLastTimestamp'] as string | undefined,
    event.metadata.creationTimestamp,
  ]
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : 0;
}

export const DEFAULT_EVENT_TTL_MS = 3_600_000;
const EVENT_KINDS = [
  { apiVersion: 'v1', kind: 'Event' },
  { apiVersion: 'events.k8s.io/v1', kind: 'Event' },
] as const;

/**
 * kube-apiserver's `--event-ttl` (one hour unless the simulator's SIMULATOR_EVENT_TTL_SECONDS says
 * otherwise): an Event is deleted that long after its last occurrence, whoever wrote it. Upstream
 * gives each Event an etcd lease; here a sweep lists a server's Events once the earliest
 * occurrence this process knows of is due. Events it records and Event writes it hears of (from
 * every process) move that time, so a cluster without Events costs no list after the first one;
 * a list every RECHECK_MS catches writes whose change event the runner coalesced away.
 */
export const eventTtlController: EmulatedController = {
  name: 'workload/event-ttl',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    const ttl = context.eventTtlMs ?? DEFAULT_EVENT_TTL_MS;
    const { event } = context;
    if (event) {
      if (event.server === server.name && event.object.kind === 'Event' && event.type !== 'DELETED') noteOccurrence(server.name, lastOccurrence(event.object));
      return;
    }
    const now = context.now().getTime();
    const known = expiries.get(server.name);
    if (!known) {
      // A server this process has not listed yet: Events it records or hears of are noted from
      // now on; those written before are found by a first list within RECHECK_MS.
      expiries.set(server.name, { earliest: Number.POSITIVE_INFINITY, listedAt: firstListAt(now) });
      return;
    }
    if (known.earliest + ttl > now && known.listedAt + RECHECK_MS > now) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const kind of EVENT_KINDS) {
      for (const stored of await server.list(kind.apiVersion, kind.kind)) {
        const occurred = lastOccurrence(stored);
        if (occurred + ttl <= now) await racing(() => server.delete({ ...kind, namespace: stored.metadata.namespace, name: stored.metadata.name }));
        else earliest = Math.min(earliest, occurred);
      }
    }
    // Writes heard while listing may be older than what the list saw; keep the earlier.
    expiries.set(server.name, { earliest: Math.min(earliest, expiries.get(server.name)?.earliest ?? Number.POSITIVE_INFINITY), listedAt: now });
    if (expiries.size > 20_000) expiries.clear();
  },
};

/** A list even when nothing is known to be due, so that no Event outlives its TTL by more than this. */
export const RECHECK_MS = 15 * 60_000;

/** Per server: the earliest last occurrence of its Events this process knows of, and when it last listed them. */
const expiries = new Map<string, { earliest: number; listedAt: number }>();

function noteOccurrence(server: string, at: number): void {
  const known = expiries.get(server);
  if (!known) expiries.set(server, { earliest: at, listedAt: firstListAt(Date.now()) });
  else if (at < known.earliest) known.earliest = at;
}

/** Spread over RECHECK_MS: a process starting with a fleet lists each server's Events once in that time, not all at once. */
const firstListAt = (now: number) => now - Math.random() * RECHECK_MS;
