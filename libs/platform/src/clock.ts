import { Inject, Injectable, Optional } from '@nestjs/common';
import type { CapstanConfig } from './config/config';
import { CAPSTAN_CONFIG } from './config/config.module';

/**
 * Time, injected: schedules, probes, token expiry and monthly reports ask this instead of
 * `new Date()`, so tests can drive them.
 */
export abstract class Clock {
  abstract now(): Date;
}

/**
 * The process's clock: real time, or real time sped up by CLOCK_SPEED from CLOCK_ORIGIN when the
 * config says so (demos and end-to-end tests that watch a 5-minute outage counted in seconds).
 * Every process computes the same "now" from the same two settings, so a report the API computes
 * live agrees with the minutes the monitor recorded.
 */
@Injectable()
export class SystemClock extends Clock {
  private readonly accelerated: AcceleratedClock | undefined;

  constructor(@Optional() @Inject(CAPSTAN_CONFIG) config?: CapstanConfig) {
    super();
    const clock = config?.clock;
    this.accelerated = clock && clock.speed !== 1 && clock.origin ? AcceleratedClock.shared(clock.speed, clock.origin) : undefined;
  }

  now(): Date {
    return this.accelerated ? this.accelerated.now() : new Date();
  }
}

/** A clock that moves only when told to. */
export class ManualClock extends Clock {
  constructor(private current: Date) {
    super();
  }

  now(): Date {
    return new Date(this.current.getTime());
  }

  set(at: Date): void {
    this.current = new Date(at.getTime());
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/**
 * Real time, sped up: `speed` simulated milliseconds pass per real millisecond from `origin`.
 * Lets a demo or test watch a 5-minute outage and its SLA report in seconds.
 */
export class AcceleratedClock extends Clock {
  constructor(
    private readonly speed: number,
    private readonly origin: Date = new Date(),
    /** The real instant at which simulated time is `origin`; by default, now. */
    private readonly realStart = Date.now(),
  ) {
    super();
  }

  /**
   * The clock every process of a deployment shares: simulated time equals real time at `origin`
   * and runs `speed` times faster from there, so it depends on nothing local to the process.
   */
  static shared(speed: number, origin: Date): AcceleratedClock {
    return new AcceleratedClock(speed, origin, origin.getTime());
  }

  now(): Date {
    return new Date(this.origin.getTime() + (Date.now() - this.realStart) * this.speed);
  }
}
