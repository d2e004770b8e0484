import { type ClusterStatus, type ClusterStatusAfter, clusterStatusAfterOperation, type OperationEnd } from '@capstan/domain';
import { type RawBuilder, sql } from 'kysely';

/**
 * An operation's end as both answers of `clusterStatusAfterOperation` (libs/domain): where it
 * leaves the cluster if the SLA monitor holds the API server down when the row is written, and
 * where if not. The statement that ends the operation picks one by the row's own
 * `api_server_down_since` as it writes it (docs/operations-engine.md, "Where an operation leaves
 * its cluster"): reading the monitor's view first and writing after would race the monitor.
 */
export interface ClusterStatusAtEnd {
  ifDown: NonNullable<ClusterStatusAfter>;
  ifUp: NonNullable<ClusterStatusAfter>;
}

/** Null when the operation leaves the cluster's status as it is. */
export function clusterStatusAtEnd(end: OperationEnd): ClusterStatusAtEnd | null {
  // The reason given here is a stand-in: a degraded cluster takes the monitor's reason from its row.
  const ifDown = clusterStatusAfterOperation(end, { state: 'down', reason: '' });
  const ifUp = clusterStatusAfterOperation(end, { state: 'up' });
  return ifDown && ifUp ? { ifDown, ifUp } : null;
}

/** The monitor holds the API server down: the row's own column, so the write decides as it happens. */
const HELD_DOWN = sql<boolean>`api_server_down_since IS NOT NULL`;

function reasonOf(after: NonNullable<ClusterStatusAfter>): RawBuilder<string | null> {
  if (after.status === 'degraded') return sql<string | null>`api_server_down_reason`;
  if (after.reason === undefined) return sql<string | null>`status_reason`;
  return sql<string | null>`${after.reason}::text`;
}

/**
 * `status` and `status_reason` for an UPDATE of `clusters` (its columns unqualified: use it in an
 * UPDATE of that table, alone or in a CTE) that ends an operation as `at` says.
 */
export function clusterStatusColumns(at: ClusterStatusAtEnd): { status: RawBuilder<ClusterStatus>; status_reason: RawBuilder<string | null> } {
  return {
    status: sql<ClusterStatus>`(CASE WHEN ${HELD_DOWN} THEN ${at.ifDown.status} ELSE ${at.ifUp.status} END)::"ClusterStatus"`,
    status_reason: sql<string | null>`CASE WHEN ${HELD_DOWN} THEN ${reasonOf(at.ifDown)} ELSE ${reasonOf(at.ifUp)} END`,
  };
}

/** `clusterStatusColumns` for an operation's end; null when it leaves the status as it is. */
export function clusterStatusColumnsAfter(end: OperationEnd) {
  const at = clusterStatusAtEnd(end);
  return at ? clusterStatusColumns(at) : null;
}
