import { BackgroundWork, Database, EngineConfig } from '@capstan/platform';
import { sql } from 'kysely';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { type OperationJob, operationJobOptions, OPERATIONS_QUEUE } from './operations-queue';

/** An operation younger than this may still be on its way through the outbox. */
const GRACE_MS = 5_000;

/** Names of the fleet-wide periodic jobs on the operations queue (BullMQ job schedulers). */
export const RECONCILE_JOB = 'reconcile';
export const PRUNE_OUTBOX_JOB = 'prune-outbox';
const PRUNE_OUTBOX_EVERY_MS = 3_600_000;

/**
 * Postgres is the truth, Redis only delivers (docs/operations-engine.md, "The outbox relay"). Operations that should be
 * moving (pending or running) but have no live job — Redis was flushed, a job was dropped after
 * too many stalls — are handed to the workers again. Running one twice is safe: the runner takes
 * the operation's lease and resumes at the first unfinished step.
 *
 * Once per fleet, not once per worker: the reconcile and the outbox pruning are BullMQ job
 * schedulers on the operations queue, so each period makes one job that one worker runs. Every
 * worker (re)declares the schedulers at boot and every period (idempotent), so they come back by
 * themselves after Redis lost its data.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Reconciler.name);
  private readonly background = new BackgroundWork(Reconciler.name);
  private busy = false;

  constructor(
    private readonly db: Database,
    private readonly config: EngineConfig,
    @InjectQueue(OPERATIONS_QUEUE) private readonly queue: Queue<OperationJob>,
  ) {}

  onApplicationBootstrap(): void {
    const declare = () => this.declareSchedulers();
    void this.background.track(declare().catch((error: unknown) => this.logger.warn({ err: String(error) }, 'declaring the periodic jobs failed; will retry')));
    this.background.every(this.config.reconcileIntervalMs, 'declaring the periodic jobs', declare);
  }

  private async declareSchedulers(): Promise<void> {
    const once = { removeOnComplete: true, removeOnFail: true, attempts: 1 };
    await this.queue.upsertJobScheduler(RECONCILE_JOB, { every: this.config.reconcileIntervalMs }, { name: RECONCILE_JOB, opts: once });
    await this.queue.upsertJobScheduler(PRUNE_OUTBOX_JOB, { every: PRUNE_OUTBOX_EVERY_MS }, { name: PRUNE_OUTBOX_JOB, opts: once });
  }

  async onModuleDestroy(): Promise<void> {
    await this.background.stop();
  }

  /** Returns how many operations were handed back to the workers. */
  async reconcile(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    try {
      // A yielded operation is due at `wake_at`, not stuck while it waits for it; the most overdue
      // come first, so thousands of waiting operations never hide a lost one behind the limit.
      const due = sql<Date>`coalesce(wake_at, updated_at)`;
      const stuck = await this.db
        .selectFrom('operations')
        .select(['id', 'request_id as requestId'])
        .where('status', 'in', ['pending', 'running'])
        .where(due, '<', new Date(Date.now() - GRACE_MS))
        .orderBy(due)
        .limit(1_000)
        .execute();
      let requeued = 0;
      for (const op of stuck) {
        const job = await this.queue.getJob(op.id);
        const state = job ? await job.getState() : 'missing';
        if (state === 'active' || state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') continue;
        if (job) await job.remove().catch(() => undefined);
        await this.queue.add('run', { operationId: op.id, requestId: op.requestId }, operationJobOptions(this.config, op.id));
        requeued++;
      }
      if (requeued > 0) this.logger.warn({ requeued }, 'operations without a live job were handed back to the workers');
      return requeued;
    } finally {
      this.busy = false;
    }
  }
}
