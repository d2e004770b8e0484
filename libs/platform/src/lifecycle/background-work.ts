import { Logger } from '@nestjs/common';

/**
 * Every background loop of a process (outbox relay sweeps, reconciler, probes, alert evaluation,
 * retention) runs its work through one of these, so shutdown is the same everywhere:
 *
 * - `every(ms, name, work)` runs `work` on an interval, never two runs of the same loop at once
 *   (a slow run skips ticks instead of piling up);
 * - `track(promise)` registers one-off work started elsewhere (a probe, a flush) as in flight;
 * - `stop()` stops every timer first, so nothing new starts, then waits for the work in flight,
 *   up to `graceMs`, and reports what it had to leave behind.
 *
 * Why: timers with un-awaited promises let work run on after its process began closing its
 * database pool (the SLA monitor's flush racing `pool.end()` hung shutdown for ever). After
 * `stop()` has begun, `every` and `track` refuse new work and `stopping` is true, so a loop
 * body can check it between statements.
 */
export class BackgroundWork {
  private readonly logger: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(readonly owner: string) {
    this.logger = new Logger(owner);
  }

  get stopping(): boolean {
    return this.stopped;
  }

  /** Runs `work` every `intervalMs`; a failure is logged once per run and the loop goes on. */
  every(intervalMs: number, name: string, work: () => Promise<unknown>): void {
    if (this.stopped) return;
    let running = false;
    const timer = setInterval(() => {
      if (running || this.stopped) return;
      running = true;
      void this.track(work())
        .catch((error: unknown) => this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, `${name} failed`))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * Counts `work` as in flight until it settles and hands it back. After `stop()` began, the
   * promise is still returned (callers may await it) but `stop()` does not wait for it: the
   * caller started it knowingly late, and must not touch shared resources (check `stopping`).
   */
  track<T>(work: Promise<T>): Promise<T> {
    if (this.stopped) return work;
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return work;
  }

  /** How many tracked pieces of work have not settled yet. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Stops the timers, then waits for tracked work (and whatever it starts while finishing, when
   * tracked before stop) for at most `graceMs`. Resolves to the number of pieces left unfinished.
   */
  async stop(graceMs = 10_000): Promise<number> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...this.inFlight]), new Promise((resolve) => (timeout = setTimeout(resolve, left)))]);
      clearTimeout(timeout);
    }
    if (this.inFlight.size > 0) this.logger.warn({ unfinished: this.inFlight.size }, `stopped with work still in flight after ${graceMs} ms`);
    return this.inFlight.size;
  }
}
