import { Database, decodeCursor, type Page, toPage } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { DB } from '@capstan/platform';

export interface OrphanFilter {
  status?: 'open' | 'resolved';
  organizationId?: string;
  clusterId?: string;
  operationId?: string;
}

export interface OrphanView {
  id: string;
  organization_id: string;
  cluster_id: string | null;
  operation_id: string;
  provider: 'rke2' | 'gke';
  kind: 'cluster' | 'node_pool';
  external_cluster: string;
  external_name: string;
  reason: string;
  status: 'open' | 'resolved';
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  resolved_at: string | null;
}

function presentOrphan(row: Selectable<DB['orphans']>): OrphanView {
  return {
    id: row.id,
    organization_id: row.organization_id,
    cluster_id: row.cluster_id,
    operation_id: row.operation_id,
    provider: row.provider,
    kind: row.kind,
    external_cluster: row.external_cluster,
    external_name: row.external_name,
    reason: row.reason,
    status: row.resolved_at ? 'resolved' : 'open',
    attempts: row.attempts,
    last_error: row.last_error,
    next_attempt_at: row.resolved_at ? null : row.next_attempt_at.toISOString(),
    created_at: row.created_at.toISOString(),
    resolved_at: row.resolved_at?.toISOString() ?? null,
  };
}

/** Staff's view of the orphans (written by the engine's end of a failed create, cleaned by its reconciler). */
@Injectable()
export class OrphansService {
  constructor(private readonly db: Database) {}

  async list(filter: OrphanFilter, limit: number, cursor?: string): Promise<Page<OrphanView>> {
    const before = decodeCursor(cursor, 'orph');
    let query = this.db.selectFrom('orphans').selectAll();
    if (filter.status === 'open') query = query.where('resolved_at', 'is', null);
    if (filter.status === 'resolved') query = query.where('resolved_at', 'is not', null);
    if (filter.organizationId !== undefined) query = query.where('organization_id', '=', filter.organizationId);
    if (filter.clusterId !== undefined) query = query.where('cluster_id', '=', filter.clusterId);
    if (filter.operationId !== undefined) query = query.where('operation_id', '=', filter.operationId);
    if (before) query = query.where('id', '<', before);
    const rows = await query
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, presentOrphan);
  }
}
