import type { NewEvent } from '@capstan/events';
import { type Expression, sql } from 'kysely';

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

/**
 * `operationEvent(op, status)` for an operation that a statement knows only in SQL (`row`, a
 * CTE or table alias with the operations columns): the same subject and data, read there. The
 * engine's claim records its `running` event so, without reading the operation first.
 */
export function operationEventColumns(row: string): {
  organizationId: Expression<string>;
  subject: Expression<string | null>;
  data: (status: string) => Expression<string>;
} {
  const from = sql.table(row);
  return {
    organizationId: sql<string>`(SELECT organization_id FROM ${from})`,
    subject: sql<string | null>`(SELECT CASE WHEN cluster_id IS NULL THEN NULL ELSE '/v1/clusters/' || cluster_id END FROM ${from})`,
    data: (status) =>
      sql<string>`(SELECT jsonb_build_object('operation_id', id, 'operation_type', type, 'status', ${status}::text, 'cluster_id', cluster_id,
                     'target', jsonb_build_object('type', target_type, 'id', target_id))::text FROM ${from})`,
  };
}
