import { type PriceEntry, type UsageKind } from '@capstan/domain';
import { Database, type db, newId, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { trimDecimal } from './invoices.repository';

export interface StoredPrice extends PriceEntry {
  id: string;
  seedRevision: number | null;
  reason: string | null;
  createdAt: Date;
}

/** The `prices` table (libs/billing owns it): rows are only ever added. */
@Injectable()
export class PricesRepository {
  constructor(private readonly db: Database) {}

  async all(kind?: UsageKind, uow: UnitOfWork = this.db): Promise<StoredPrice[]> {
    const rows = await uow
      .selectFrom('prices')
      .select(['id', 'kind', 'sku', 'unit_price', 'currency', 'effective_from', 'seed_revision', 'reason', 'created_at'])
      .$if(kind !== undefined, (q) => q.where('kind', '=', kind as db.UsageKind))
      .orderBy('kind')
      .orderBy('sku')
      .orderBy('effective_from')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      sku: r.sku,
      unitPrice: trimDecimal(String(r.unit_price)),
      currency: r.currency,
      effectiveFrom: r.effective_from,
      seedRevision: r.seed_revision,
      reason: r.reason,
      createdAt: r.created_at,
    }));
  }

  /** Inserts the price unless one of its kind and sku takes effect at the same instant; whether it did. */
  async insert(uow: UnitOfWork, price: PriceEntry & { seedRevision: number | null; reason: string | null }): Promise<StoredPrice | null> {
    const row = await uow
      .insertInto('prices')
      .values({
        id: newId('price'),
        kind: price.kind,
        sku: price.sku,
        unit_price: price.unitPrice,
        currency: price.currency,
        effective_from: price.effectiveFrom,
        seed_revision: price.seedRevision,
        reason: price.reason,
      })
      .onConflict((oc) => oc.columns(['kind', 'sku', 'effective_from']).doNothing())
      .returning(['id', 'created_at'])
      .executeTakeFirst();
    return row ? { ...price, id: row.id, createdAt: row.created_at } : null;
  }

  /** The seed's rows, each added once (a staff price at the same instant wins). */
  async seed(prices: readonly PriceEntry[], revision: number): Promise<void> {
    if (prices.length === 0) return;
    await this.db
      .insertInto('prices')
      .values(
        prices.map((p) => ({
          id: newId('price'),
          kind: p.kind,
          sku: p.sku,
          unit_price: p.unitPrice,
          currency: p.currency,
          effective_from: p.effectiveFrom,
          seed_revision: revision,
          reason: null,
        })),
      )
      .onConflict((oc) => oc.columns(['kind', 'sku', 'effective_from']).doNothing())
      .execute();
  }
}
