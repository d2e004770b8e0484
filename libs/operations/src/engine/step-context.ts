import type { Clock, Database, DB, Prisma, SecretBox } from '@capstan/platform';
import type { Expression, QueryCreator, SqlBool } from 'kysely';
import type { TenantKube } from '@capstan/kube';
import type { ClusterProvider, InfrastructureDriver } from '@capstan/providers';

/** A node pool as the steps see it (read once per run, with the operation's claim). */
export interface EngineNodePool {
  id: string;
  name: string;
  machineType: string;
  nodeCount: number;
  autoscaleMin: number | null;
  autoscaleMax: number | null;
  version: string;
  labels: Record<string, string>;
  taints: unknown[];
  maxSurge: number;
  maxUnavailable: number;
  /** ISO time, or null while the pool exists. */
  deletedAt: string | null;
}

export interface EngineCluster {
  id: string;
  organizationId: string;
  provider: 'rke2' | 'gke';
  region: string;
  desiredVersion: string;
  labels: Record<string, string>;
  nodePools: EngineNodePool[];
}

export interface EngineStep {
  position: number;
  name: string;
  status: string;
  attempts: number;
  checkpoint: unknown;
  /** Set while the step waits (it yielded its worker between two polls). */
  wait: StepWait | null;
  /** ISO time of the first of an unbroken run of retryable failures. */
  retryingSince: string | null;
}

/** What a waiting step waits for, recorded when it yields its worker. */
export interface StepWait {
  what: string;
  /** ISO time the wait began: the step timeout counts from here, across any number of workers. */
  since: string;
  polls: number;
  /** What the step did before it began waiting, so the next poll does not do it again. */
  state: Record<string, unknown>;
}

export interface EngineOperation {
  id: string;
  organizationId: string;
  clusterId: string | null;
  type: string;
  targetType: string;
  targetId: string;
  params: Prisma.JsonValue;
  steps: EngineStep[];
}

/** What a step needs: the operation, its cluster, the provider and its helpers. */
export interface StepContext {
  operation: EngineOperation;
  /**
   * The cluster as it was when this run claimed the operation. Nothing else changes it meanwhile:
   * the cluster's lease keeps every other operation away, and steps that write it say so in SQL.
   */
  cluster: EngineCluster;
  provider: ClusterProvider;
  /** The step being run: its name says what it works on (`upgrade_node_pool:apps:1.36.5`). */
  step: { position: number; name: string };
  /**
   * The cluster's InfrastructureDriver, for steps that checkpoint the ProviderOperation it returns.
   * Throws a final ProviderError where the installation has none (PROVIDER=simulated).
   */
  infrastructure(): InfrastructureDriver;
  /** Capstan's admin client inside the cluster, with access asked for anew on each call. */
  kube(): Promise<TenantKube>;
  /** The process's one pool (Kysely): a step's writes are single statements, no session state. */
  db: Database;
  secrets: SecretBox;
  clock: Clock;
  /** Checkpoints of the steps that already finished, by step name. */
  checkpoints: Record<string, unknown>;
  /**
   * What the running step recorded before it last yielded (see `waitFor`), or `{}` on its first
   * run: a step that starts something and then waits reads it to skip what it already started.
   */
  stepState: Record<string, unknown>;
  /**
   * Probes once: returns the value if there is one. Otherwise the step yields its worker (it
   * throws a `StepYield` the engine catches): the wait is checkpointed with `state`, the job is
   * delayed, and the step runs again from its start at the next poll, with `stepState` = `state`.
   * Fails the step once the wait has lasted the configured step timeout. `state` is recorded as it
   * is when the probe has answered, so a probe may add what it saw (a rollout's progress) to it.
   */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, state?: Record<string, unknown>): Promise<T>;
  /**
   * Returns at once when `at` has come; otherwise the step yields its worker until then (a wait
   * for a time, such as the next maintenance window: no step timeout applies) and runs again from
   * its start, with `stepState` = `state`.
   */
  waitUntil(what: string, at: Date, state?: Record<string, unknown>): Promise<void>;
  /**
   * The step's own rows, written by the statement that records the step finished with its
   * checkpoint: one commit instead of two, and the rows exist if and only if the step is recorded
   * done (a run that lost its lease writes neither). For a step's last writes, made once its work
   * at the provider is done; a step that throws afterwards writes nothing. At most once per step;
   * compensations write through `db` instead.
   */
  writeWithCheckpoint<P extends Record<string, unknown>>(writes: StepWrites<P>, parameters: P): void;
}

/**
 * A step's own writes, as CTEs added to the engine's statement that records the step finished
 * (`StepContext.writeWithCheckpoint`). Every statement added must have `guard` in its WHERE (the
 * run still holds its lease), and its CTE names start with `step_` (the engine's own do not).
 * Declare it once, at module scope, and use `parameters` only as plain values: the engine
 * compiles its statement once per declaration (CompiledOnce) and gives it the values per call.
 */
export type StepWrites<P extends Record<string, unknown>> = (db: QueryCreator<DB>, guard: Expression<SqlBool>, parameters: P) => StepWritesAdded;

/** `db` with the step's CTEs added (its type names them, so it is not `QueryCreator<DB>` any more). */
export type StepWritesAdded = object;

/** A step's writes and their values for this run, kept until its boundary. */
export interface PendingStepWrites {
  statement: StepWrites<Record<string, unknown>>;
  parameters: Record<string, unknown>;
}

/** A step returns what later steps or a retry need to know (it is stored as its checkpoint). */
export type StepHandler = (ctx: StepContext) => Promise<Record<string, unknown> | void>;

/**
 * The operation cannot go on without a person (a drain blocked by a PodDisruptionBudget): it
 * pauses as `needs_attention`, naming what blocks it, and is never forced.
 */
export class NeedsAttentionError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'NeedsAttentionError';
  }
}

/**
 * Thrown by `waitFor` when there is nothing yet: not an error, the step gives its worker back
 * until `delayMs` from now (docs/operations-engine.md, Waits that yield).
 */
export class StepYield extends Error {
  constructor(
    readonly wait: StepWait,
    readonly delayMs: number,
  ) {
    super(`waiting for ${wait.what}`);
    this.name = 'StepYield';
  }
}

export class StepTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not happen within ${Math.round(ms / 1000)} s`);
    this.name = 'StepTimeoutError';
  }
}
