/**
 * Time, injected (DESIGN.md invariant 7): schedules, probes, token expiry and monthly reports ask
 * this instead of `new Date()`, so tests can drive them.
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
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
  private readonly realStart = Date.now();

  constructor(
    private readonly speed: number,
    private readonly origin: Date = new Date(),
  ) {
    super();
  }

  now(): Date {
    return new Date(this.origin.getTime() + (Date.now() - this.realStart) * this.speed);
  }
}
