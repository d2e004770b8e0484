import type { Clock, Prisma, SecretBox } from '@capstan/platform';
import type { ClusterProvider } from '@capstan/providers';

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
  checkpoint: unknown;
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
   * the cluster lock keeps every other operation away, and steps that write it say so in SQL.
   */
  cluster: EngineCluster;
  provider: ClusterProvider;
  /** Runs one statement on the connection that holds the cluster lock. */
  sql(statement: Prisma.Sql): Promise<unknown[]>;
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
