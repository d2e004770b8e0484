import { BackgroundWork } from '@capstan/platform';
import type { SimulatorLogger } from '../logger';
import type { KubeEmulatorRuntime } from './emulator';
import type { ApiServerInfo, ChangeEvent, EmulatedController } from './types';

/**
 * Runs the emulated controllers: for every change event on a server of a role they watch, and
 * for every such server on each tick (so timed transitions advance without events). One run per
 * (controller, server) at a time; events arriving meanwhile are coalesced into one more run per
 * kind (and namespace) with the latest of its events (controllers are level-based: they read the
 * world, not the event, but most look only when an event is of a kind they act on). Controllers
 * that act on events only (`ticks: false`, the garbage collector) are edge-based instead: they get
 * every event, in order, or a pod deleted while the collector ran would never release its owner's
 * foreground deletion. `stop` stops new runs and waits for those in flight.
 */
export interface ControllerRunnerOptions {
  emulator: KubeEmulatorRuntime;
  controllers: readonly EmulatedController[];
  stepDelayMs: number;
  /** How long Events live after their last occurrence; default one hour. */
  eventTtlMs?: number;
  tickMs: number;
  log: SimulatorLogger;
  now?: () => Date;
}

interface Slot {
  running: boolean;
  /**
   * Events that arrived during a run, the latest per kind and namespace: the run after sees each
   * kind that changed. One slot for all kinds would let a later event of a kind a controller
   * ignores (an Event, an EndpointSlice) replace the HelmChart or Pod it had to act on, which it
   * then learnt of only at its next idle sweep, minutes later.
   */
  queued: Map<string, ChangeEvent>;
  /** A tick arrived during a run and no event is queued. */
  tickQueued: boolean;
  /** Events waiting for an event-only controller, oldest first. */
  backlog: ChangeEvent[];
}

export class ControllerRunner {
  private readonly work = new BackgroundWork('kube-controllers');
  private readonly slots = new Map<string, Slot>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: ControllerRunnerOptions) {}

  start(): void {
    if (this.options.controllers.length === 0) return;
    this.unsubscribe = this.options.emulator.onChange((event) => {
      void this.work
        .track(this.onEvent(event))
        .catch((error: unknown) => this.options.log.warn({ err: error, server: event.server }, 'kube controllers failed on an event'));
    });
    if (this.options.controllers.some((c) => c.ticks !== false)) this.work.every(this.options.tickMs, 'kube controller tick', () => this.tick());
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.work.stop(graceMs);
  }

  /** Runs every controller once on every server of its roles (what a tick does); for tests and the tick. */
  async tick(): Promise<void> {
    const servers = await this.options.emulator.listApiServers();
    await Promise.all(
      servers.flatMap((info) =>
        this.controllersFor(info)
          .filter((controller) => controller.ticks !== false)
          .map((controller) => this.schedule(controller, info, null)),
      ),
    );
  }

  private async onEvent(event: ChangeEvent): Promise<void> {
    const info = await this.options.emulator.getApiServer(event.server);
    if (!info) return;
    await Promise.all(this.controllersFor(info).map((controller) => this.schedule(controller, info, event)));
  }

  private controllersFor(info: ApiServerInfo): readonly EmulatedController[] {
    return this.options.controllers.filter((c) => c.roles.includes(info.role));
  }

  private async schedule(controller: EmulatedController, info: ApiServerInfo, event: ChangeEvent | null): Promise<void> {
    if (this.work.stopping) return;
    const key = `${controller.name}\u0000${info.name}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { running: false, queued: new Map(), tickQueued: false, backlog: [] };
      this.slots.set(key, slot);
    }
    if (slot.running) {
      if (controller.ticks === false) {
        if (event) slot.backlog.push(event);
        return;
      }
      // An event outranks a queued tick: the controller then learns what changed.
      if (event) {
        const kindKey = `${event.object.kind}\u0000${event.object.metadata.namespace ?? ''}`;
        slot.queued.delete(kindKey);
        slot.queued.set(kindKey, event);
        slot.tickQueued = false;
      } else if (slot.queued.size === 0) slot.tickQueued = true;
      return;
    }
    slot.running = true;
    try {
      let next: ChangeEvent | null | undefined = event;
      while (next !== undefined && !this.work.stopping) {
        await this.runOnce(controller, info, next);
        next = controller.ticks === false ? slot.backlog.shift() : this.takeQueued(slot);
      }
    } finally {
      slot.running = false;
      this.slots.delete(key);
    }
  }

  /** The oldest queued kind's latest event, else a queued tick (null), else nothing (undefined). */
  private takeQueued(slot: Slot): ChangeEvent | null | undefined {
    const first = slot.queued.entries().next();
    if (!first.done) {
      slot.queued.delete(first.value[0]);
      return first.value[1];
    }
    if (!slot.tickQueued) return undefined;
    slot.tickQueued = false;
    return null;
  }

  private async runOnce(controller: EmulatedController, info: ApiServerInfo, event: ChangeEvent | null): Promise<void> {
    const { emulator } = this.options;
    try {
      // The server may have changed (version, serving) or gone since the run was queued.
      const latest = await emulator.getApiServer(info.name);
      if (!latest) return;
      await controller.reconcile(emulator.server(info.name), latest, {
        emulator,
        stepDelayMs: this.options.stepDelayMs,
        eventTtlMs: this.options.eventTtlMs ?? 3_600_000,
        now: this.options.now ?? (() => new Date()),
        event,
      });
    } catch (error) {
      // A conflict is another writer winning a race; the next event or tick retries.
      const code = (error as { code?: unknown }).code;
      if (code !== 409) this.options.log.warn({ err: error, controller: controller.name, server: info.name }, 'emulated controller failed');
    }
  }
}
