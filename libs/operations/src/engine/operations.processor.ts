import { EngineConfig } from '@capstan/platform';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type BeforeApplicationShutdown, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { ClsService } from 'nestjs-cls';
import { type OperationJob, OPERATIONS_QUEUE } from './operations-queue';
import { ClusterLockedError, OperationRunner } from './operation-runner';
import { OrphanCleaner } from './orphan-cleaner';
import { OutboxRelay } from './outbox-relay';
import { PRUNE_OUTBOX_JOB, RECONCILE_JOB, Reconciler } from './reconciler';

const LOCKED_RETRY_MS = 1_000;

/**
 * Thin: hands each job to the runner, inside a context that carries the request id of the API call
 * that caused it. A run that yields (a wait polling, a retry backing off) and a cluster leased by
 * another operation or worker put the job back, delayed, under the same job id, without counting
 * it as a failed attempt: BullMQ's own attempts are left for failures of the engine itself (the
 * database away), whose retries the runner cannot schedule.
 */
@Processor(OPERATIONS_QUEUE, { autorun: false })
export class OperationsProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OperationsProcessor.name);

  constructor(
    private readonly runner: OperationRunner,
    private readonly reconciler: Reconciler,
    private readonly relay: OutboxRelay,
    private readonly orphans: OrphanCleaner,
    private readonly cls: ClsService,
    private readonly config: EngineConfig,
  ) {
    super();
  }

  /** Worker settings come from the validated config, so the worker starts here, not in the decorator. */
  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.concurrency;
    // BullMQ reports lost locks and a flushed Redis here; the reconciler repairs what they leave.
    this.worker.on('error', (error) => this.logger.warn({ err: error.message }, 'queue worker error'));
    Object.assign(this.worker.opts, { lockDuration: this.config.jobLockMs, stalledInterval: this.config.jobLockMs, maxStalledCount: 10 });
    void this.worker.run();
  }

  /**
   * Before the pool and Redis close (their hooks come later): no new job is taken, runs in flight
   * hand their operation back at their next step boundary, and the worker waits for them at most
   * `shutdownGraceMs`. A step still running then (a long provider call) is abandoned: its job lock
   * and lease expire and another worker runs the step again (steps are idempotent).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.runner.stop();
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      this.worker.close().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.config.shutdownGraceMs))),
    ]);
    clearTimeout(timer);
    if (!closed) {
      this.logger.warn({ graceMs: this.config.shutdownGraceMs }, 'steps still running at the end of the shutdown grace; left to another worker');
      await this.worker.close(true);
    }
  }

  async process(job: Job<OperationJob>, token?: string): Promise<void> {
    // The fleet's periodic jobs (job schedulers) share the queue with the operations.
    if (job.name === RECONCILE_JOB) {
      await this.reconciler.reconcile();
      // What failed creates could not undo is the same fleet-wide repair, on the same period.
      await this.orphans.clean();
      return;
    }
    if (job.name === PRUNE_OUTBOX_JOB) {
      await this.relay.pruneDispatched();
      return;
    }
    await this.cls.run(async () => {
      this.cls.set('requestId', job.data.requestId ?? undefined);
      let delayMs: number;
      try {
        const outcome = await this.runner.run(job.data.operationId);
        if (outcome.state === 'done') return;
        delayMs = outcome.delayMs;
      } catch (error) {
        if (!(error instanceof ClusterLockedError)) throw error;
        delayMs = LOCKED_RETRY_MS;
      }
      if (!token) throw new Error('a job without a lock token cannot be delayed');
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    });
  }
}
