import { type OperationType, plannedSteps } from '@capstan/domain';
import { eventStatement } from '@capstan/events';
import { Clock, EngineConfig, type Prisma, PrismaService, SecretBox } from '@capstan/platform';
import { ClusterProvider, externalClusterName, externalNodePoolName, ProviderError } from '@capstan/providers';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { operationEvent } from '../operation-events';
import { type AnnouncedChange, restoreAnnouncedState } from '../announced-state';
import { CLUSTER_STEP_HANDLERS, externalPoolSpec } from './cluster-steps';
import { OperationSessions, type OperationSession } from './operation-sessions';
import { boundaryStatement, type ClaimRow, claimStatement, type Ending, endStatement, type FinishedStep, stepFailedStatement, toEngineOperation } from './run-statements';
import { type EngineCluster, type EngineOperation, NeedsAttentionError, type StepContext, StepTimeoutError } from './step-context';

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
 *
 * Cost: a run is one statement to lock, one to claim, one per step boundary (checkpoint, next
 * step, cancel check together), the steps' own writes, and one to end (with its event) — all on
 * the connection that holds the cluster lock.
 */
@Injectable()
export class OperationRunner implements OnModuleInit {
  private readonly logger = new Logger(OperationRunner.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly provider: ClusterProvider,
    private readonly sessions: OperationSessions,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly config: EngineConfig,
  ) {}

  /** Refuses to boot when an operation type with handlers lacks one for a planned step. */
  onModuleInit(): void {
    for (const [type, handlers] of Object.entries(CLUSTER_STEP_HANDLERS)) {
      const missing = plannedSteps(type as OperationType).filter((step) => !handlers[step]);
      if (missing.length > 0) throw new Error(`operation type ${type} has no handler for steps ${missing.join(', ')}`);
    }
  }

  async run(operationId: string, attempt: Attempt): Promise<void> {
    const opened = await this.sessions.open(operationId);
    if (opened.state === 'idle') return;
    if (opened.state === 'busy') throw new ClusterLockedError(opened.key);
    try {
      await this.runLocked(opened.session, attempt);
    } finally {
      await opened.session.release();
    }
  }

  private async runLocked(session: OperationSession, attempt: Attempt): Promise<void> {
    const locked = session.operation;
    const [claimed] = await session.query<ClaimRow>(
      claimStatement(locked.id, this.clock.now(), (when) => eventStatement(operationEvent(locked, 'running'), this.clock.now(), when)),
    );
    // Another worker finished it between our first look and the lock.
    if (!claimed) return;
    const op = toEngineOperation(claimed);
    const handlers = CLUSTER_STEP_HANDLERS[op.type];
    if (!handlers) {
      await this.end(session, op, { status: 'failed', error: { code: 'unsupported_operation', message: `this Capstan release cannot run ${op.type} operations` } });
      return;
    }
    if (!claimed.cluster) {
      await this.end(session, op, { status: 'failed', error: { code: 'cluster_missing', message: 'the operation has no cluster to work on' } });
      return;
    }
    const ctx = this.context(session, op, claimed.cluster);

    let finished: FinishedStep | undefined;
    const remaining = op.steps.filter((s) => s.status !== 'succeeded' && s.status !== 'skipped');
    for (const step of remaining) {
      const [boundary] = await session.query<{ cancel_requested_at: Date | null }>(
        boundaryStatement(op.id, finished, finished ? progressAfter(op, finished) : null, step.position, this.clock.now()),
      );
      if (boundary?.cancel_requested_at) {
        await this.cancel(session, op);
        return;
      }
      let checkpoint: Record<string, unknown> | void;
      try {
        checkpoint = await handlers[step.name]!(ctx);
      } catch (error) {
        await session.query(stepFailedStatement(op.id, step.position, messageOf(error), this.clock.now()));
        this.logger.warn({ operationId: op.id, position: step.position, err: messageOf(error) }, 'operation step failed');
        if (error instanceof NeedsAttentionError) {
          await this.end(session, op, { status: 'needs_attention', error: { code: 'needs_attention', message: error.message, ...error.details } });
          return;
        }
        const retryable = error instanceof ProviderError ? error.retryable : !(error instanceof StepTimeoutError);
        if (retryable && !attempt.final) throw error;
        await this.end(session, op, this.failure(op, { code: error instanceof ProviderError ? error.code : 'step_failed', message: `step ${step.name} failed: ${messageOf(error)}`, step: step.name }));
        return;
      }
      ctx.checkpoints[step.name] = checkpoint ?? null;
      finished = { position: step.position, checkpoint: checkpoint ?? null };
    }
    await this.end(session, op, { status: 'succeeded', error: null, lastStep: finished });
  }

  private context(session: OperationSession, op: EngineOperation, cluster: EngineCluster): StepContext {
    return {
      operation: op,
      cluster,
      provider: this.provider,
      sql: (statement: Prisma.Sql) => session.query(statement),
      secrets: this.secrets,
      clock: this.clock,
      checkpoints: Object.fromEntries(op.steps.filter((s) => s.status === 'succeeded').map((s) => [s.name, s.checkpoint])),
      waitFor: (what, probe) => waitFor(what, probe, this.config.stepTimeoutMs),
    };
  }

  /** Where a failed operation leaves its cluster: never half-way unrecorded. */
  private failure(op: EngineOperation, error: Record<string, unknown>): Ending {
    const reason = String(error.message ?? 'operation failed');
    if (op.type === 'create_cluster' || op.type === 'delete_cluster') return { status: 'failed', error, cluster: { status: 'error', reason } };
    if (op.targetType === 'node_pool') return { status: 'failed', error, cluster: { status: 'running' }, failedPoolId: op.targetId };
    return { status: 'failed', error };
  }

  /**
   * Stops at a step boundary and compensates what already reached the provider: a half-built
   * cluster or pool is deleted, a pool spec already applied is applied back; then the announced
   * state is restored in Postgres, as for a cancel before the operation started. Rare, so it
   * keeps Prisma's readability over the hot path's single statements.
   */
  private async cancel(session: OperationSession, op: EngineOperation): Promise<void> {
    const reachedProvider = (await this.prisma.operationStep.count({ where: { operationId: op.id, status: 'succeeded' } })) > 0;
    if (reachedProvider && op.clusterId) {
      const cluster = externalClusterName(op.clusterId);
      if (op.type === 'create_cluster') await this.provider.deleteCluster(cluster);
      if (op.type === 'create_node_pool') await this.provider.deleteNodePool(cluster, externalNodePoolName(op.targetId));
      if (op.type === 'scale_node_pool' || op.type === 'update_node_pool') {
        const previous = (op.params as AnnouncedChange).previousPool;
        const pool = await this.prisma.nodePool.findUnique({ where: { id: op.targetId } });
        if (previous && pool) {
          const restored = { ...pool, ...previous };
          await this.provider.updateNodePool(
            cluster,
            externalPoolSpec({ ...restored, labels: restored.labels as Record<string, string>, taints: restored.taints as unknown[] }),
          );
        }
      }
    }
    const compensated = reachedProvider && ['create_cluster', 'create_node_pool', 'scale_node_pool', 'update_node_pool'].includes(op.type);
    await this.prisma.$transaction(async (tx) => {
      await restoreAnnouncedState(tx, { ...op, type: op.type as OperationType }, this.clock.now());
      if (compensated) await tx.operationStep.updateMany({ where: { operationId: op.id, status: 'succeeded' }, data: { status: 'compensated' } });
      await tx.operationStep.updateMany({ where: { operationId: op.id, status: { in: ['pending', 'running', 'failed'] } }, data: { status: 'skipped' } });
    });
    await this.end(session, op, { status: 'cancelled', error: null });
  }

  private async end(session: OperationSession, op: EngineOperation, ending: Ending): Promise<void> {
    const now = this.clock.now();
    await session.query(endStatement(op.id, op.clusterId, ending, eventStatement(operationEvent(op, ending.status, ending.error), now), now));
    this.logger.log({ operationId: op.id, type: op.type, status: ending.status }, 'operation finished');
  }
}

/** Percent of the operation's steps done once `finished` is. */
function progressAfter(op: EngineOperation, finished: FinishedStep): number {
  return Math.floor((100 * op.steps.filter((s) => s.position <= finished.position).length) / op.steps.length);
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
