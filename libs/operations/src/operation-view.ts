import type { PrismaService } from '@capstan/platform';

type OperationRow = Awaited<ReturnType<PrismaService['operation']['findFirstOrThrow']>>;
type StepRow = Awaited<ReturnType<PrismaService['operationStep']['findFirstOrThrow']>>;
export type OperationWithSteps = OperationRow & { steps: StepRow[] };

export interface OperationView {
  id: string;
  type: OperationRow['type'];
  status: OperationRow['status'];
  target: { type: string; id: string };
  cluster_id: string | null;
  progress: number;
  steps: {
    name: string;
    status: StepRow['status'];
    attempts: number;
    started_at: string | null;
    finished_at: string | null;
    error: unknown;
    progress?: StepProgress | null;
  }[];
  error: { code: string; message: string } | null;
  requested_by: { type: string; id: string };
  cancel_requested: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** Node-level progress a step recorded (docs/upgrades.md, "Node by node"). */
export interface StepProgress {
  summary: string;
  nodes?: { machine: string; node: string | null; version: string | null; state: 'waiting' | 'draining' | 'removing' | 'joining' | 'ready' }[];
}

/**
 * What a step shows of its progress: what its wait last recorded while it runs, else what its
 * checkpoint kept when it ended (steps that follow a provider's rollout record `progress`).
 */
function stepProgress(step: StepRow): StepProgress | null {
  const fromWait = (step.wait as { state?: { progress?: StepProgress } } | null)?.state?.progress;
  const fromCheckpoint = (step.checkpoint as { progress?: StepProgress } | null)?.progress;
  const progress = fromWait ?? fromCheckpoint;
  return progress && typeof progress.summary === 'string' ? progress : null;
}

export function presentOperation(op: OperationWithSteps): OperationView {
  return {
    id: op.id,
    type: op.type,
    status: op.status,
    target: { type: op.targetType, id: op.targetId },
    cluster_id: op.clusterId,
    progress: op.progress,
    steps: op.steps.map((step) => ({
      name: step.name,
      status: step.status,
      attempts: step.attempts,
      started_at: step.startedAt?.toISOString() ?? null,
      finished_at: step.finishedAt?.toISOString() ?? null,
      error: step.error ?? null,
      progress: stepProgress(step),
    })),
    error: (op.error as { code: string; message: string } | null) ?? null,
    requested_by: { type: op.requestedByType, id: op.requestedById },
    cancel_requested: op.cancelRequestedAt !== null,
    created_at: op.createdAt.toISOString(),
    started_at: op.startedAt?.toISOString() ?? null,
    finished_at: op.finishedAt?.toISOString() ?? null,
  };
}
