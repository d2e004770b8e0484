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
  }[];
  error: { code: string; message: string } | null;
  requested_by: { type: string; id: string };
  cancel_requested: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
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
    })),
    error: (op.error as { code: string; message: string } | null) ?? null,
    requested_by: { type: op.requestedByType, id: op.requestedById },
    cancel_requested: op.cancelRequestedAt !== null,
    created_at: op.createdAt.toISOString(),
    started_at: op.startedAt?.toISOString() ?? null,
    finished_at: op.finishedAt?.toISOString() ?? null,
  };
}
