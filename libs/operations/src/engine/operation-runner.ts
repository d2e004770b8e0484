import { type ClusterStatusAfter, type OperationType, stepKindOf, stepStatusesBefore } from '@capstan/domain';
import { ClusterBackends } from '@capstan/kube';
import { Clock, Database, EngineConfig, Metrics, newId, SecretBox } from '@capstan/platform';
import { ClusterProviders, externalClusterName, ProviderError } from '@capstan/providers';
import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { decodeTime } from 'ulid';
import { hostname } from 'node:os';
import { operationEvent } from '../operation-events';
import { instrumentedProvider } from './instrumented-provider';
import { restoreAnnouncedState } from '../announced-state';
import { clusterStatusAtEnd } from '../cluster-status-after';
import {
  boundary,
  claim,
  end,
  type Ending,
  type FinishedStep,
  handBack,
  type NewOrphan,
  renewLease,
  retryStep,
  type Run,
  stepFailed,
  yieldStep,
} from './run-statements';
import { type OperationStepSet, StepRegistry } from './step-registry';
import {
  type EngineCluster,
  type EngineOperation,
  type EngineStep,
  NeedsAttentionError,
  type StepContext,
  StepTimeoutError,
  type PendingStepWrites,
  type StepWrites,
  StepYield,
} from './step-context';

export class ClusterLockedError extends Error {
  constructor(key: string) {
    super(`another operation or worker holds the lease on ${key}`);
  }
}

/** What became of one run: the job is done, or is to come back after `delayMs`. */
export type RunOutcome = { state: 'done' } | { state: 'later'; delayMs: number };

const DONE: RunOutcome = { state: 'done' };
/** The first poll of a wait comes soon (clouds often answer fast), then polls slow down. */
const FIRST_POLL_MS = 100;

/**
 * Runs an operation's steps in order. Each step's completion (and checkpoint) is written before
 * the next starts, so whatever kills a worker, the next run resumes at the first unfinished step;
 * steps are idempotent, so re-running the interrupted one is safe. Cancellation is honoured at
 * step boundaries.
 *
 * A run holds no connection and no lock across statements: ownership is a lease row, renewed
 * while the run works and guarded by every statement (docs/operations-engine.md). A wait step
 * that finds nothing yet, and a retryable failure inside the retry budget, give the worker back:
 * the run checkpoints, returns `later`, and the job comes back delayed.
 */
@Injectable()
export class OperationRunner {
  private readonly logger = new Logger(OperationRunner.name);
  private readonly process = `${hostname()}:${process.pid}`;
  private stopping = false;

  constructor(
    private readonly db: Database,
    private readonly providers: ClusterProviders,
    private readonly registry: StepRegistry,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly config: EngineConfig,
    private readonly metrics: Metrics,
    private readonly backends: ClusterBackends,
  ) {}

  /**
   * The worker is stopping: runs hand their operation back at their next step boundary instead of
   * starting another step (docs/operations-engine.md, Shutdown).
   */
  stop(): void {
    this.stopping = true;
  }

  async run(operationId: string): Promise<RunOutcome> {
    // Unique per run, not per process: two deliveries of one operation in one worker are two
    // owners, so only one of them runs it.
    const owner = `${this.process}:${randomBytes(6).toString('hex')}`;
    const claimed = await claim(this.db, operationId, owner, this.config.jobLockMs, this.clock.now());
    if (claimed.state === 'idle') return DONE;
    // Created to start later (`start: next_window`): the job comes back when it is due.
    if (claimed.state === 'not_before') return { state: 'later', delayMs: Math.max(0, claimed.at.getTime() - this.clock.now().getTime()) };
    if (claimed.state === 'busy') throw new ClusterLockedError(claimed.key);
    const run: Run = { operationId, key: claimed.key, owner, leaseMs: this.config.jobLockMs };
    // Renewed at a third of its length, so two missed renewals still leave it ours.
    let lost = false;
    const renewal = setInterval(
      () => {
        void renewLease(this.db, run, this.clock.now()).then(
          (held) => (lost ||= !held),
          () => undefined,
        );
      },
      Math.floor(this.config.jobLockMs / 3),
    );
    renewal.unref();
    this.metrics.operationRunsInFlight.inc();
    try {
      const outcome = await this.runClaimed(run, claimed.operation, claimed.cluster, claimed.resumed, claimed.cancelRequested);
      if (lost) this.logger.warn({ operationId }, 'the operation was taken over by another worker while this one ran it');
      return outcome;
    } finally {
      clearInterval(renewal);
      this.metrics.operationRunsInFlight.dec();
    }
  }

  private async runClaimed(run: Run, op: EngineOperation, cluster: EngineCluster | null, resumed: boolean, cancelRequested: boolean): Promise<RunOutcome> {
    const set = this.registry.forType(op.type);
    const handlers = set?.steps;
    if (!set || !handlers) {
      await this.end(run, op, { status: 'failed', error: { code: 'unsupported_operation', message: `this Capstan release cannot run ${op.type} operations` } });
      return DONE;
    }
    if (!cluster) {
      await this.end(run, op, { status: 'failed', error: { code: 'cluster_missing', message: 'the operation has no cluster to work on' } });
      return DONE;
    }

    const checkpoints = Object.fromEntries(op.steps.filter((s) => s.status === 'succeeded').map((s) => [s.name, s.checkpoint]));
    // A cancel asked for before this run (or one whose worker died while carrying it out: steps
    // already skipped or compensated) is carried out before anything else, so a cancelled
    // operation ends `cancelled` whatever crashed in between, never `succeeded` for lack of steps.
    if (cancelRequested) {
      await this.cancel(run, op, set, this.context(op, cluster, op.steps[0]!, checkpoints));
      return DONE;
    }
    let finished: FinishedStep | undefined;
    const remaining = op.steps.filter((s) => s.status !== 'succeeded' && s.status !== 'skipped' && s.status !== 'compensated');
    for (const step of remaining) {
      if (this.stopping && finished) {
        await handBack(this.db, run, finished, this.clock.now());
        return { state: 'later', delayMs: 0 };
      }
      // Only the step that yielded continues its attempt; every later one starts a new one.
      const continuing = resumed && step === remaining[0] && step.wait !== null;
      const next = await boundary(this.db, run, finished, finished ? progressAfter(op, finished) : null, step.position, continuing, this.clock.now());
      if (next.state === 'lost') return DONE;
      if (next.state === 'cancel') {
        await this.cancel(run, op, set, this.context(op, cluster, step, checkpoints));
        return DONE;
      }
      const written: { writes?: PendingStepWrites } = {};
      const ctx = this.context(op, cluster, step, checkpoints, written);
      let checkpoint: Record<string, unknown> | void;
      const handler = handlers[stepKindOf(step.name)];
      const stepStarted = performance.now();
      try {
        // A computed plan may hold a kind this release cannot run (the boot check covers the kinds
        // of every enqueueable type; this covers rows written by another release).
        if (!handler) throw new ProviderError(`this Capstan release has no handler for step ${step.name} of ${op.type}`, false, 'unsupported_step');
        checkpoint = await handler(ctx);
      } catch (error) {
        this.metrics.operationStepDuration.observe({ type: op.type }, (performance.now() - stepStarted) / 1000);
        return this.afterThrow(run, op, set, ctx, step, error);
      }
      this.metrics.operationStepDuration.observe({ type: op.type }, (performance.now() - stepStarted) / 1000);
      this.metrics.operationSteps.inc({ type: op.type, result: 'succeeded' });
      checkpoints[step.name] = checkpoint ?? null;
      finished = { position: step.position, checkpoint: checkpoint ?? null, writes: written.writes };
    }
    await this.end(run, op, { status: 'succeeded', error: null, lastStep: finished });
    return DONE;
  }

  /** A step threw: it waits, it retries later, it needs a person, or it failed for good. */
  private async afterThrow(run: Run, op: EngineOperation, set: OperationStepSet, ctx: StepContext, step: EngineStep, error: unknown): Promise<RunOutcome> {
    const now = this.clock.now();
    if (error instanceof StepYield) {
      this.metrics.operationSteps.inc({ type: op.type, result: 'waiting' });
      const held = await yieldStep(this.db, run, step.position, error.wait, new Date(now.getTime() + error.delayMs), now);
      return held ? { state: 'later', delayMs: error.delayMs } : DONE;
    }
    this.logger.warn({ operationId: op.id, position: step.position, err: messageOf(error) }, 'operation step failed');
    if (error instanceof NeedsAttentionError) {
      this.metrics.operationSteps.inc({ type: op.type, result: 'needs_attention' });
      await stepFailed(this.db, run, step.position, messageOf(error), now);
      await this.end(run, op, { status: 'needs_attention', error: { code: 'needs_attention', message: error.message, ...error.details } });
      return DONE;
    }
    const retryable = error instanceof ProviderError ? error.retryable : !(error instanceof StepTimeoutError);
    const since = step.retryingSince ? new Date(step.retryingSince) : now;
    if (retryable && now.getTime() - since.getTime() < this.config.retryForMs) {
      // The step's attempts before this one: the backoff doubles with each failure in a row.
      const delayMs = retryDelay(this.config, step.attempts + 1);
      this.metrics.operationSteps.inc({ type: op.type, result: 'retried' });
      this.metrics.operationRetries.inc({ type: op.type });
      const held = await retryStep(this.db, run, step.position, messageOf(error), new Date(now.getTime() + delayMs), now);
      return held ? { state: 'later', delayMs } : DONE;
    }
    this.metrics.operationSteps.inc({ type: op.type, result: 'failed' });
    await stepFailed(this.db, run, step.position, messageOf(error), now);
    const failure = this.failure(op, {
      ...detailsOf(error),
      code: error instanceof ProviderError ? error.code : 'step_failed',
      message: `step ${step.name} failed: ${messageOf(error)}`,
      step: step.name,
    });
    await this.end(run, op, set.compensateOnFailure ? await this.undoFailure(op, set, ctx, failure) : failure);
    return DONE;
  }

  /**
   * A create that failed for good deletes what it half-built (its `compensate`), whether or not a
   * step finished: the failing call itself may have taken effect. When that fails too, what may be
   * left is recorded as orphans with the end, for staff to see and the reconciler to delete.
   * Either way the finished steps end `compensated`, and a staff retry is refused (their work is
   * gone or going), so the reconciler never deletes what a retry builds again.
   */
  private async undoFailure(op: EngineOperation, set: OperationStepSet, ctx: StepContext, failure: Ending): Promise<Ending> {
    const reason = String(failure.error?.message ?? 'operation failed');
    // Only a cluster left in error says why; a failed pool leaves its cluster serving as it was.
    const said = (after: NonNullable<ClusterStatusAfter>, suffix: string) =>
      after.status === 'error' ? { ...after, reason: `${after.reason ?? reason}; ${suffix}` } : after;
    const withReason = (suffix: string): Ending['cluster'] =>
      failure.cluster && { ...failure.cluster, ifDown: said(failure.cluster.ifDown, suffix), ifUp: said(failure.cluster.ifUp, suffix) };
    try {
      await set.compensate!(ctx);
      return {
        ...failure,
        error: { ...failure.error, compensation: 'done' },
        cluster: withReason('what it had built at the provider was removed'),
        undo: { orphans: [] },
      };
    } catch (error) {
      const leftovers = set.leftovers!(ctx);
      this.logger.warn(
        { operationId: op.id, err: messageOf(error), leftovers: leftovers.length },
        'undoing a failed operation failed; its leftovers are recorded as orphans',
      );
      const orphans: NewOrphan[] = leftovers.map((leftover) => ({
        id: newId('orph'),
        organizationId: op.organizationId,
        clusterId: op.clusterId,
        provider: ctx.cluster.provider,
        kind: leftover.kind,
        externalCluster: leftover.cluster,
        externalName: leftover.kind === 'cluster' ? leftover.cluster : leftover.name,
        reason: `undoing ${op.type} ${op.id} failed: ${messageOf(error)}`,
      }));
      return {
        ...failure,
        error: { ...failure.error, compensation: 'left_for_cleanup' },
        cluster: withReason('removing what it had built failed; it is recorded for cleanup'),
        undo: { orphans },
      };
    }
  }

  /** `written`: where a step's `writeWithCheckpoint` is kept until its boundary; none for compensations. */
  private context(
    op: EngineOperation,
    cluster: EngineCluster,
    step: EngineStep,
    checkpoints: Record<string, unknown>,
    written?: { writes?: PendingStepWrites },
  ): StepContext {
    const previous = step.wait;
    return {
      operation: op,
      cluster,
      provider: instrumentedProvider(this.providers.for(cluster.provider), cluster.provider, this.metrics),
      step: { position: step.position, name: step.name },
      infrastructure: () => this.backends.infrastructure(cluster.provider),
      kube: () => this.backends.kube(cluster.provider, externalClusterName(cluster.id)),
      db: this.db,
      secrets: this.secrets,
      clock: this.clock,
      checkpoints,
      stepState: previous?.state ?? {},
      waitFor: async (what, probe, state) => {
        const value = await probe();
        if (value !== undefined) return value;
        const now = this.clock.now();
        // A new thing to wait for starts its own clock; the same one keeps counting.
        const same = previous?.what === what;
        const since = same ? previous.since : now.toISOString();
        if (now.getTime() - new Date(since).getTime() > this.config.stepTimeoutMs) throw new StepTimeoutError(what, this.config.stepTimeoutMs);
        const polls = same ? previous.polls + 1 : 1;
        const delayMs = Math.min(FIRST_POLL_MS * 2 ** (polls - 1), this.config.waitPollMaxMs);
        throw new StepYield({ what, since, polls, state: state ?? previous?.state ?? {} }, delayMs);
      },
      waitUntil: async (what, at, state) => {
        const now = this.clock.now();
        if (now >= at) return;
        const same = previous?.what === what;
        throw new StepYield(
          { what, since: same ? previous.since : now.toISOString(), polls: same ? previous.polls + 1 : 1, state: state ?? previous?.state ?? {} },
          at.getTime() - now.getTime(),
        );
      },
      writeWithCheckpoint: <P extends Record<string, unknown>>(statement: StepWrites<P>, parameters: P) => {
        if (!written) throw new Error('writeWithCheckpoint is for step handlers; a compensation writes through ctx.db');
        if (written.writes) throw new Error(`step ${step.name} asked twice to write with its checkpoint`);
        written.writes = { statement: statement as StepWrites<Record<string, unknown>>, parameters };
      },
    };
  }

  /**
   * Where a failed operation leaves its cluster: never half-way unrecorded. The rules are
   * `clusterStatusAfterOperation` (libs/domain): a create, a delete or a control-plane restore
   * leaves `error` saying why; work that leaves the cluster serving leaves it `running` or, while
   * the SLA monitor holds its API server down, `degraded` (docs/operations-engine.md, "Where an
   * operation leaves its cluster"). A failed upgrade also no longer desires the target it did not
   * reach (docs/upgrades.md, "When an upgrade fails").
   */
  private failure(op: EngineOperation, error: Record<string, unknown>): Ending {
    const failure = String(error.message ?? 'operation failed');
    const restoreScope = (op.params as { scope?: 'control_plane' | 'workloads' } | null)?.scope;
    const at = clusterStatusAtEnd({ type: op.type as OperationType, outcome: 'failed', failure, restoreScope });
    if (!at) return { status: 'failed', error };
    return {
      status: 'failed',
      error,
      cluster: { ...at, desiredIsCurrent: op.type === 'upgrade_cluster' },
      ...(op.targetType === 'node_pool' ? { failedPoolId: op.targetId } : {}),
    };
  }

  /**
   * Stops at a step boundary and compensates what already reached the provider: a half-built
   * cluster or pool is deleted, a pool spec already applied is applied back; then the announced
   * state is restored in Postgres, as for a cancel before the operation started.
   */
  private async cancel(run: Run, op: EngineOperation, set: OperationStepSet, ctx: StepContext): Promise<void> {
    const succeeded = await this.db
      .selectFrom('operation_steps')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('operation_id', '=', op.id)
      .where('status', '=', 'succeeded')
      .executeTakeFirstOrThrow();
    const reachedProvider = Number(succeeded.n) > 0;
    const compensated = reachedProvider && set.compensate ? await set.compensate(ctx) : false;
    this.crashPoint('cancel:compensated');
    await this.db.transaction().execute(async (trx) => {
      await restoreAnnouncedState(trx, { ...op, type: op.type as OperationType }, this.clock.now());
      if (compensated)
        await trx
          .updateTable('operation_steps')
          .set({ status: 'compensated' })
          .where('operation_id', '=', op.id)
          .where('status', 'in', stepStatusesBefore('compensated'))
          .execute();
      await trx
        .updateTable('operation_steps')
        .set({ status: 'skipped' })
        .where('operation_id', '=', op.id)
        .where('status', 'in', stepStatusesBefore('skipped'))
        .execute();
    });
    this.crashPoint('cancel:steps-marked');
    await this.end(run, op, { status: 'cancelled', error: null });
  }

  /**
   * A test hook (CAPSTAN_TEST_CRASH_AT, honoured only with NODE_ENV=test): the process dies here as
   * if killed, so tests prove that every statement of a cancel can be interrupted.
   */
  private crashPoint(name: string): void {
    if (this.config.crashAt.includes(name)) process.kill(process.pid, 'SIGKILL');
  }

  private async end(run: Run, op: EngineOperation, ending: Ending): Promise<void> {
    const now = this.clock.now();
    const ended = await end(this.db, run, op.clusterId, ending, operationEvent(op, ending.status, ending.error), now);
    if (ended) {
      this.logger.log({ operationId: op.id, type: op.type, status: ending.status }, 'operation finished');
      this.metrics.operationsFinished.inc({ type: op.type, outcome: ending.status });
      this.metrics.operationDuration.observe({ type: op.type, outcome: ending.status }, requestedSecondsAgo(op.id));
    } else this.logger.warn({ operationId: op.id }, 'the operation was taken over by another worker before this one could end it');
  }
}

/**
 * Seconds since the operation was requested, read from its id (a ULID carries its creation time),
 * so ending an operation costs no extra query. Wall-clock time: ids are minted by the system
 * clock even when tests inject another.
 */
function requestedSecondsAgo(operationId: string): number {
  try {
    return Math.max(0, (Date.now() - decodeTime(operationId.slice(operationId.indexOf('_') + 1).toUpperCase())) / 1000);
  } catch {
    return 0;
  }
}

/** Percent of the operation's steps done once `finished` is. */
function progressAfter(op: EngineOperation, finished: FinishedStep): number {
  return Math.floor((100 * op.steps.filter((s) => s.position <= finished.position).length) / op.steps.length);
}

/**
 * Exponential from the base, capped, with "equal jitter" (half fixed, half random): operations
 * that failed together in an outage do not all come back in the same instant.
 */
export function retryDelay(config: Pick<EngineConfig, 'backoffMs' | 'backoffMaxMs'>, failures: number, random = Math.random): number {
  const capped = Math.min(config.backoffMaxMs, config.backoffMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(capped / 2 + random() * (capped / 2));
}

/**
 * What a failing step adds to the operation's error besides its message (e.g. the backup taken
 * before a failed control-plane hop): an error's own `details` record, when it has one.
 */
function detailsOf(error: unknown): Record<string, unknown> {
  const details = (error as { details?: unknown } | null)?.details;
  return details && typeof details === 'object' && !Array.isArray(details) ? (details as Record<string, unknown>) : {};
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
