import type { Clock, PrismaService, SecretBox } from '@capstan/platform';
import type { ClusterProvider } from '@capstan/providers';

type OperationRow = Awaited<ReturnType<PrismaService['operation']['findFirstOrThrow']>>;
type ClusterRow = Awaited<ReturnType<PrismaService['cluster']['findFirstOrThrow']>>;
type NodePoolRow = Awaited<ReturnType<PrismaService['nodePool']['findFirstOrThrow']>>;

export type ClusterWithPools = ClusterRow & { nodePools: NodePoolRow[] };
export type { NodePoolRow, OperationRow };

/** What a step needs: the operation, its cluster as it is now, the provider and its helpers. */
export interface StepContext {
  operation: OperationRow;
  cluster: ClusterWithPools;
  provider: ClusterProvider;
  prisma: PrismaService;
  secrets: SecretBox;
  clock: Clock;
  /** Checkpoints of the steps that already finished, by step name. */
  checkpoints: Record<string, unknown>;
  /** Polls `probe` until it returns a value; fails the step after the configured step timeout. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T>;
}

/** A step returns what later steps or a retry need to know (it is stored as its checkpoint). */
export type StepHandler = (ctx: StepContext) => Promise<Record<string, unknown> | void>;

/**
 * The operation cannot go on without a person (a drain blocked by a PodDisruptionBudget): it
 * pauses as `needs_attention`, naming what blocks it, and is never forced.
 */
export class NeedsAttentionError extends Error {
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'NeedsAttentionError';
  }
}

export class StepTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not happen within ${Math.round(ms / 1000)} s`);
    this.name = 'StepTimeoutError';
  }
}
