import type { ChangeEvent } from './types';

/**
 * Change events of every API server as this process saw them (its own writes after commit, the
 * other processes' through NOTIFY), fanned out to listeners and kept per server in a bounded
 * log, so that a watch can resume from a resourceVersion. A server's log reaches back to its
 * `floor`: a watch from an older resourceVersion gets 410 Expired, as kube-apiserver answers when
 * its watch cache no longer holds the revision.
 */
export interface LoggedEvent extends ChangeEvent {
  resourceVersion: bigint;
}

interface ServerLog {
  floor: bigint;
  events: LoggedEvent[];
}

export class EventHub {
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private readonly logs = new Map<string, ServerLog>();
  /** Every event with a revision above it has been seen (0 until `startAt` is called). */
  private start = 0n;

  constructor(private readonly perServer: number) {}

  /** The revision from which on this process hears every event (read once LISTEN is in place). */
  startAt(revision: bigint): void {
    this.start = revision;
    for (const log of this.logs.values()) log.floor = revision > log.floor ? revision : log.floor;
  }

  /** Events may have been missed (a lost LISTEN connection): nothing before `revision` can be replayed. */
  forgetBefore(revision: bigint): void {
    this.startAt(revision);
    for (const log of this.logs.values()) log.events = log.events.filter((e) => e.resourceVersion > revision);
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: LoggedEvent): void {
    const log = this.logFor(event.server);
    if (event.resourceVersion <= log.floor) return;
    // Events of one server arrive in commit order, which is revision order; tolerate a straggler.
    let at = log.events.length;
    while (at > 0 && log.events[at - 1]!.resourceVersion > event.resourceVersion) at--;
    if (at > 0 && log.events[at - 1]!.resourceVersion === event.resourceVersion) return;
    log.events.splice(at, 0, event);
    if (log.events.length > this.perServer) {
      const dropped = log.events.splice(0, log.events.length - this.perServer);
      log.floor = dropped[dropped.length - 1]!.resourceVersion;
    }
    const plain: ChangeEvent = { server: event.server, type: event.type, object: event.object };
    for (const listener of this.listeners) {
      try {
        listener(plain);
      } catch {
        // A listener's failure is its own; the others still hear the event.
      }
    }
  }

  /** Events of `server` after `revision`, or 'expired' when the log no longer reaches back to it. */
  since(server: string, revision: bigint): LoggedEvent[] | 'expired' {
    const log = this.logFor(server);
    if (revision < log.floor) return 'expired';
    return log.events.filter((e) => e.resourceVersion > revision);
  }

  dropServer(server: string): void {
    this.logs.delete(server);
  }

  private logFor(server: string): ServerLog {
    let log = this.logs.get(server);
    if (!log) {
      log = { floor: this.start, events: [] };
      this.logs.set(server, log);
    }
    return log;
  }
}
