import { EngineConfig, PrismaService } from '@capstan/platform';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { type OperationJob, operationJobOptions, OPERATIONS_QUEUE } from './operations-queue';

/** An operation younger than this may still be on its way through the outbox. */
const GRACE_MS = 5_000;

/**
 * Postgres is the truth, Redis only delivers (DESIGN.md invariant 1). Operations that should be
 * moving (pending or running) but have no live job — Redis was flushed, a job was dropped after
 * too many stalls — are handed to the workers again. Running one twice is safe: the runner takes
 * the cluster lock and resumes at the first unfinished step.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Reconciler.name);
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly prisma: PrismaService,
    private readonly config: EngineConfig,
    @InjectQueue(OPERATIONS_QUEUE) private readonly queue: Queue<OperationJob>,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.reconcile().catch((error) => this.logger.warn({ err: String(error) }, 'reconcile failed')), this.config.reconcileIntervalMs);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Returns how many operations were handed back to the workers. */
  async reconcile(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    try {
      const stuck = await this.prisma.operation.findMany({
        where: { status: { in: ['pending', 'running'] }, updatedAt: { lt: new Date(Date.now() - GRACE_MS) } },
        select: { id: true, requestId: true },
        orderBy: { id: 'asc' },
        take: 1_000,
      });
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
