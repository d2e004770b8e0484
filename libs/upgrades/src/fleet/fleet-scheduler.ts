import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { AdvanceRollouts } from './advance-rollouts';
import { ScanClusterComponents } from './component-scan';
import { ScheduleFleetUpgrades } from './schedule-fleet-upgrades';

export const FLEET_QUEUE = 'fleet';
/** The daily pass: every cluster that needs an upgrade is planned (UTC 03:00). */
export const FLEET_DAILY_JOB = 'fleet-daily';
/** The tick: a pass when the catalogue changed since the last rollout, then the rollouts move on. */
export const FLEET_TICK_JOB = 'fleet-tick';
const TICK_EVERY_MS = 5 * 60_000;
/** The component scan: what each cluster runs beside Capstan's add-ons, for the advisories (docs/upgrades.md, "What a cluster runs"). */
export const COMPONENT_SCAN_JOB = 'component-scan';
const COMPONENT_SCAN_EVERY_MS = 60 * 60_000;

/**
 * The fleet's periodic work, once per fleet: BullMQ job schedulers on the `fleet` queue, declared
 * by every worker at boot (idempotent), so each period makes one job that one worker runs
 * (docs/upgrades.md, "Fleet auto-upgrade"; as the engine's reconciler does).
 */
@Injectable()
export class FleetSchedulers implements OnApplicationBootstrap {
  private readonly logger = new Logger(FleetSchedulers.name);

  constructor(@InjectQueue(FLEET_QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    const once = { removeOnComplete: true, removeOnFail: true, attempts: 1 };
    try {
      await this.queue.upsertJobScheduler(FLEET_DAILY_JOB, { pattern: '0 3 * * *', tz: 'UTC' }, { name: FLEET_DAILY_JOB, opts: once });
      await this.queue.upsertJobScheduler(FLEET_TICK_JOB, { every: TICK_EVERY_MS }, { name: FLEET_TICK_JOB, opts: once });
      await this.queue.upsertJobScheduler(COMPONENT_SCAN_JOB, { every: COMPONENT_SCAN_EVERY_MS }, { name: COMPONENT_SCAN_JOB, opts: once });
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'declaring the fleet schedulers failed; the next worker start declares them');
    }
  }
}

/** Thin: each job calls the use case (the same ones the tests drive with an injected clock). */
@Processor(FLEET_QUEUE)
export class FleetProcessor extends WorkerHost {
  constructor(
    private readonly schedule: ScheduleFleetUpgrades,
    private readonly advance: AdvanceRollouts,
    private readonly components: ScanClusterComponents,
  ) {
    super();
  }

  async process(job: Job): Promise<void> {
    if (job.name === FLEET_DAILY_JOB) {
      await this.schedule.execute('daily pass');
      return;
    }
    if (job.name === FLEET_TICK_JOB) {
      await this.schedule.execute('catalogue changed', { onlyIfCatalogueChanged: true });
      await this.advance.execute();
      return;
    }
    if (job.name === COMPONENT_SCAN_JOB) await this.components.pass();
  }
}
