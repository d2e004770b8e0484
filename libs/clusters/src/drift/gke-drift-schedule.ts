import { BackgroundWork, GkeConfig } from '@capstan/platform';
import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { CheckGkeSettingsDrift } from './check-gke-settings-drift';

export const GKE_DRIFT_QUEUE = 'gke-drift';
export const GKE_DRIFT_JOB = 'gke-drift-check';

/**
 * The drift check's period, once per fleet: a BullMQ job scheduler on the `gke-drift` queue
 * (every `GKE_DRIFT_CHECK_MINUTES`), declared by every worker at boot and again every period
 * (idempotent), so each period makes one job that one worker runs and the scheduler comes back by
 * itself after Redis lost its data, as the reconciler and the backup scheduler do
 * (docs/operations-engine.md, "Periodic work"). 0 minutes removes it: the check is off.
 */
@Injectable()
export class GkeDriftSchedule implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(GkeDriftSchedule.name);
  private readonly background = new BackgroundWork(GkeDriftSchedule.name);

  constructor(
    private readonly gke: GkeConfig,
    @InjectQueue(GKE_DRIFT_QUEUE) private readonly queue: Queue,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = this.gke.driftCheckMinutes * 60_000;
    const declare = async () => {
      if (everyMs === 0) await this.queue.removeJobScheduler(GKE_DRIFT_JOB);
      else
        await this.queue.upsertJobScheduler(
          GKE_DRIFT_JOB,
          { every: everyMs },
          { name: GKE_DRIFT_JOB, opts: { removeOnComplete: true, removeOnFail: true, attempts: 1 } },
        );
    };
    void this.background.track(
      declare().catch((error: unknown) => this.logger.warn({ err: String(error) }, 'declaring the GKE drift check failed; will retry')),
    );
    if (everyMs > 0) this.background.every(everyMs, 'declaring the GKE drift check', declare);
  }

  async onModuleDestroy(): Promise<void> {
    await this.background.stop();
  }
}

/** Thin: each job runs one pass of the drift check. */
@Processor(GKE_DRIFT_QUEUE)
export class GkeDriftProcessor extends WorkerHost {
  constructor(private readonly check: CheckGkeSettingsDrift) {
    super();
  }

  async process(job: Job): Promise<void> {
    if (job.name === GKE_DRIFT_JOB) await this.check.pass();
  }
}
