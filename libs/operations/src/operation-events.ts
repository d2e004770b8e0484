import type { NewEvent } from '@capstan/events';

/** The CloudEvent that records an operation reaching `status` (`dev.capstan.operation.<status>`). */
export function operationEvent(
  op: { id: string; organizationId: string; type: string; clusterId: string | null; targetType: string; targetId: string },
  status: string,
  error?: Record<string, unknown> | null,
): NewEvent {
  return {
    organizationId: op.organizationId,
    type: `dev.capstan.operation.${status}`,
    source: `/v1/operations/${op.id}`,
    subject: op.clusterId ? `/v1/clusters/${op.clusterId}` : null,
    data: {
      operation_id: op.id,
      operation_type: op.type,
      status,
      cluster_id: op.clusterId,
      target: { type: op.targetType, id: op.targetId },
      ...(error ? { error } : {}),
    },
  };
}
