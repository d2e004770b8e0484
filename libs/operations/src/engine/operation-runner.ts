import { isTerminalOperationStatus, type OperationType, plannedSteps } from '@capstan/domain';
import { Clock, EngineConfig, PrismaService, SecretBox } from '@capstan/platform';
import { ClusterProvider, externalClusterName, externalNodePoolName, ProviderError } from '@capstan/providers';
import { EventsService } from '@capstan/events';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { operationEvent } from '../operation-events';
import { ClusterLocks } from './cluster-locks';
import { type AnnouncedChange, restoreAnnouncedState } from '../announced-state';
import { CLUSTER_STEP_HANDLERS, externalPoolSpec } from './cluster-steps';
import { NeedsAttentionError, type OperationRow, type StepContext, StepTimeoutError } from './step-context';

export class ClusterLockedError extends Error {
  constructor(key: string) {
    super(`another worker is running an operation on ${key}`);
  }
}

export interface Attempt {
  /** No retry follows this one: a retryable failure now fails the operation. */
  final: boolean;
}

/**
 * Runs an operation's steps in order. Each step's completion (and checkpoint) is written before
 * the next starts, so whatever kills a worker, the next run resumes at the first unfinished step;
 * steps are idempotent, so re-running the interrupted one is safe. Cancellation is honoured at
 * step boundaries. Failures either go back to BullMQ for a retry with backoff, or end the
 * operation with its error kept and its cluster in a defined state.
 */
@Injectable()
export class OperationRunner implements OnModuleInit {
  private readonly logger = new Logger(OperationRunner.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly provider: ClusterProvider,
    private readonly locks: ClusterLocks,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly config: EngineConfig,
    private readonly events: EventsService,
  ) {}

  /** Refuses to boot when an operation type with handlers lacks one for a planned step. */
  onModuleInit(): void {
    for (const [type, handlers] of Object.entries(CLUSTER_STEP_HANDLERS)) {
      const missing = plannedSteps(type as OperationType).filter((step) => !handlers[step]);
      if (missing.length > 0) throw new Error(`operation type ${type} has no handler for steps ${missing.join(', ')}`);
    }
  }

  async run(operationId: string, attempt: Attempt): Promise<void> {
    const first = await this.prisma.operation.findUnique({ where: { id: operationId } });
    // Gone, finished, or paused for a person: a duplicate or late delivery has nothing to do.
    if (!first || isTerminalOperationStatus(first.status) || first.status === 'needs_attention') return;
    const lock = await this.locks.tryAcquire(first.clusterId ?? first.id);
    if (!lock) throw new ClusterLockedError(first.clusterId ?? first.id);
    try {
      await this.runLocked(operationId, attempt);
    } finally {
      await lock.release();
    }
  }

  private async runLocked(operationId: string, attempt: Attempt): Promise<void> {
    // Read again under the lock: another worker may have finished it meanwhile.
    const op = await this.prisma.operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
    if (isTerminalOperationStatus(op.status) || op.status === 'needs_attention') return;
    const handlers = CLUSTER_STEP_HANDLERS[op.type];
    if (!handlers) {
      await this.finish(op, 'failed', { code: 'unsupported_operation', message: `this Capstan release cannot run ${op.type} operations` });
      return;
    }
    if (op.status === 'pending') {
      await this.prisma.$transaction(async (tx) => {
        await tx.operation.update({ where: { id: op.id }, data: { status: 'running', startedAt: op.startedAt ?? this.clock.now(), attempts: { increment: 1 } } });
        await this.events.record(tx, operationEvent(op, 'running'));
      });
    } else {
      await this.prisma.operation.update({ where: { id: op.id }, data: { attempts: { increment: 1 } } });
    }

    const checkpoints: Record<string, unknown> = Object.fromEntries(op.steps.filter((s) => s.status === 'succeeded').map((s) => [s.name, s.checkpoint]));
    for (const step of op.steps) {
      if (step.status === 'succeeded' || step.status === 'skipped') continue;
      const { cancelRequestedAt } = await this.prisma.operation.findUniqueOrThrow({ where: { id: op.id }, select: { cancelRequestedAt: true } });
      if (cancelRequestedAt) {
        await this.cancel(op);
        return;
      }
      await this.prisma.operationStep.update({
        where: { operationId_position: { operationId: op.id, position: step.position } },
        data: { status: 'running', attempts: { increment: 1 }, startedAt: this.clock.now(), error: undefined },
      });
      let checkpoint: Record<string, unknown> | void;
      try {
        checkpoint = await handlers[step.name]!(await this.context(op, checkpoints));
      } catch (error) {
        await this.stepFailed(op, step.position, error);
        if (error instanceof NeedsAttentionError) {
          await this.finish(op, 'needs_attention', { code: 'needs_attention', message: error.message, ...error.details });
          return;
        }
        const retryable = error instanceof ProviderError ? error.retryable : !(error instanceof StepTimeoutError);
        if (retryable && !attempt.final) throw error;
        await this.finish(op, 'failed', { code: error instanceof ProviderError ? error.code : 'step_failed', message: `step ${step.name} failed: ${messageOf(error)}`, step: step.name });
        return;
      }
      checkpoints[step.name] = checkpoint ?? null;
      const done = op.steps.filter((s) => s.position <= step.position).length;
      await this.prisma.$transaction([
        this.prisma.operationStep.update({
          where: { operationId_position: { operationId: op.id, position: step.position } },
          data: { status: 'succeeded', finishedAt: this.clock.now(), checkpoint: (checkpoint ?? undefined) as object | undefined },
        }),
        this.prisma.operation.update({ where: { id: op.id }, data: { progress: Math.floor((100 * done) / op.steps.length) } }),
      ]);
    }
    await this.finish(op, 'succeeded', null);
  }

  private async context(op: OperationRow, checkpoints: Record<string, unknown>): Promise<StepContext> {
    const cluster = await this.prisma.cluster.findUniqueOrThrow({ where: { id: op.clusterId! }, include: { nodePools: { orderBy: { id: 'asc' } } } });
    return {
      operation: op,
      cluster,
      provider: this.provider,
      prisma: this.prisma,
      secrets: this.secrets,
      clock: this.clock,
      checkpoints,
      waitFor: (what, probe) => waitFor(what, probe, this.config.stepTimeoutMs),
    };
  }

  private async stepFailed(op: OperationRow, position: number, error: unknown): Promise<void> {
    this.logger.warn({ operationId: op.id, position, err: messageOf(error) }, 'operation step failed');
    await this.prisma.operationStep.update({
      where: { operationId_position: { operationId: op.id, position } },
      data: { status: 'failed', error: { message: messageOf(error) } },
    });
  }

  /**
   * Stops at a step boundary and compensates what already reached the provider: a half-built
   * cluster or pool is deleted, a pool spec already applied is applied back; then the announced
   * state is restored in Postgres, as for a cancel before the operation started.
   */
  private async cancel(op: OperationRow): Promise<void> {
    const steps = await this.prisma.operationStep.findMany({ where: { operationId: op.id } });
    const reachedProvider = steps.some((s) => s.status === 'succeeded');
    if (reachedProvider && op.clusterId) {
      const cluster = externalClusterName(op.clusterId);
      if (op.type === 'create_cluster') await this.provider.deleteCluster(cluster);
      if (op.type === 'create_node_pool') await this.provider.deleteNodePool(cluster, externalNodePoolName(op.targetId));
      if (op.type === 'scale_node_pool' || op.type === 'update_node_pool') {
        const previous = (op.params as AnnouncedChange).previousPool;
        const pool = await this.prisma.nodePool.findUnique({ where: { id: op.targetId } });
        if (previous && pool) await this.provider.updateNodePool(cluster, externalPoolSpec({ ...pool, ...previous } as typeof pool));
      }
    }
    const compensated = reachedProvider && ['create_cluster', 'create_node_pool', 'scale_node_pool', 'update_node_pool'].includes(op.type);
    await this.prisma.$transaction(async (tx) => {
      await restoreAnnouncedState(tx, op, this.clock.now());
      if (compensated) await tx.operationStep.updateMany({ where: { operationId: op.id, status: 'succeeded' }, data: { status: 'compensated' } });
      await tx.operationStep.updateMany({ where: { operationId: op.id, status: { in: ['pending', 'running', 'failed'] } }, data: { status: 'skipped' } });
    });
    await this.finish(op, 'cancelled', null);
  }

  /** The operation's end, and where its failure leaves the cluster: never half-way unrecorded. */
  private async finish(op: OperationRow, status: 'succeeded' | 'failed' | 'cancelled' | 'needs_attention', error: Record<string, unknown> | null): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.operation.update({
        where: { id: op.id },
        data: {
          status,
          error: error ? (error as object) : undefined,
          progress: status === 'succeeded' ? 100 : undefined,
          finishedAt: status === 'needs_attention' ? null : this.clock.now(),
        },
      });
      if (status === 'failed' && op.clusterId) {
        const reason = String(error?.message ?? 'operation failed');
        if (op.type === 'create_cluster' || op.type === 'delete_cluster') {
          await tx.cluster.update({ where: { id: op.clusterId }, data: { status: 'error', statusReason: reason } });
        } else if (op.targetType === 'node_pool') {
          await tx.cluster.update({ where: { id: op.clusterId }, data: { status: 'running' } });
          await tx.nodePool.update({ where: { id: op.targetId }, data: { status: 'error' } });
        }
      }
      await this.events.record(tx, operationEvent(op, status, error));
    });
    this.logger.log({ operationId: op.id, type: op.type, status }, 'operation finished');
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new StepTimeoutError(what, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 2_000);
  }
}
