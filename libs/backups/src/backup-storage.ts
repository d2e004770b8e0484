import { Database } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

/** A backup's storage as billing meters it (libs/domain `RecordedCluster['backups']`). */
export interface StoredBackup {
  id: string;
  clusterId: string;
  sizeBytes: bigint | null;
  /** `succeeded` while stored; `expired` once gone, with `expiresAt` the instant it went. */
  status: 'succeeded' | 'expired';
  completedAt: Date | null;
  expiresAt: Date | null;
}

/**
 * The backups of some clusters with their size, for billing's `backup_storage` (public to other
 * features: docs/architecture.md, "Feature-to-feature calls"; docs/billing.md). A backup is stored
 * from its completion until its expiry or, once retention or its owner removed it, until the
 * instant it was deleted (its row's last change): billing reads that as the end of its storage.
 */
@Injectable()
export class ReadBackupStorage {
  constructor(private readonly db: Database) {}

  async of(clusterIds: readonly string[]): Promise<StoredBackup[]> {
    if (clusterIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('backups')
      .select(['id', 'cluster_id', 'size_bytes', 'status', 'completed_at', 'expires_at', 'updated_at'])
      .where('cluster_id', 'in', [...new Set(clusterIds)])
      .where('status', 'in', ['succeeded', 'expired', 'deleted'])
      .orderBy('id')
      .execute();
    return rows.map((r) => {
      const gone = r.status !== 'succeeded';
      const removedAt = r.status === 'deleted' ? r.updated_at : null;
      const end = removedAt && (!r.expires_at || removedAt < r.expires_at) ? removedAt : r.expires_at;
      return {
        id: r.id,
        clusterId: r.cluster_id,
        sizeBytes: r.size_bytes,
        status: gone ? 'expired' : 'succeeded',
        completedAt: r.completed_at,
        expiresAt: end,
      };
    });
  }
}
