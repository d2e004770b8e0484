import type { UsageInterval } from '@capstan/domain';
import { Database, type UnitOfWork } from '@capstan/platform';
import { sql } from 'kysely';
import { Injectable } from '@nestjs/common';
import { trimDecimal } from './invoices.repository';

/** Rows per INSERT: well under Postgres's 65,535 bind parameters at 8 per row. */
const CHUNK = 2_000;

/** The `usage_intervals` table (libs/billing owns it). */
@Injectable()
export class UsageRepository {
  constructor(private readonly db: Database) {}

  /**
   * Replaces the intervals of `clusterIds` by `intervals` (all of theirs, derived afresh from what
   * Capstan recorded): an open interval closes, a new change opens the next. Call it in a
   * transaction so no reader sees a cluster without its usage.
   */
  async replace(uow: UnitOfWork, clusterIds: readonly string[], intervals: readonly UsageInterval[]): Promise<void> {
    for (let i = 0; i < clusterIds.length; i += CHUNK) {
      await uow
        .deleteFrom('usage_intervals')
        .where('cluster_id', 'in', clusterIds.slice(i, i + CHUNK))
        .execute();
    }
    for (let i = 0; i < intervals.length; i += CHUNK) {
      await uow
        .insertInto('usage_intervals')
        .values(
          intervals.slice(i, i + CHUNK).map((x) => ({
            organization_id: x.organizationId,
            cluster_id: x.clusterId,
            kind: x.kind,
            resource_id: x.resourceId,
            sku: x.sku,
            quantity: x.quantity,
            started_at: x.start,
            ended_at: x.end,
          })),
        )
        // Two requests metering the same clusters at once derive the same intervals: the second one
        // to commit finds the first one's rows (its DELETE did not see them) and converges on them.
        .onConflict((oc) =>
          oc.columns(['kind', 'resource_id', 'started_at']).doUpdateSet((eb) => ({
            organization_id: eb.ref('excluded.organization_id'),
            cluster_id: eb.ref('excluded.cluster_id'),
            sku: eb.ref('excluded.sku'),
            quantity: eb.ref('excluded.quantity'),
            ended_at: eb.ref('excluded.ended_at'),
          })),
        )
        .execute();
    }
  }

  /** Every interval overlapping `[start, end)`, of one organisation or all. */
  async overlapping(range: { start: Date; end: Date }, organizationId?: string, uow: UnitOfWork = this.db): Promise<UsageInterval[]> {
    const rows = await uow
      .selectFrom('usage_intervals')
      .select(['organization_id', 'cluster_id', 'kind', 'resource_id', 'sku', 'quantity'])
      // Epoch milliseconds as float8 rather than timestamptz: a fleet's month is tens of thousands of
      // rows, and parsing two timestamps per row was most of the time of reading them.
      .select([sql<number>`extract(epoch from started_at) * 1000`.as('start_ms'), sql<number | null>`extract(epoch from ended_at) * 1000`.as('end_ms')])
      .where('started_at', '<', range.end)
      .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', range.start)]))
      .$if(organizationId !== undefined, (q) => q.where('organization_id', '=', organizationId!))
      .execute();
    return rows.map((r) => ({
      organizationId: r.organization_id,
      clusterId: r.cluster_id,
      kind: r.kind,
      resourceId: r.resource_id,
      sku: r.sku,
      quantity: trimDecimal(String(r.quantity)),
      start: new Date(Number(r.start_ms)),
      end: r.end_ms === null ? null : new Date(Number(r.end_ms)),
    }));
  }
}
