import type { InvoiceLine, InvoiceLineKind } from '@capstan/domain';
import { Database, type UnitOfWork } from '@capstan/platform';
import { Injectable } from '@nestjs/common';

const CHUNK = 2_000;

/** The frozen months (`invoice_months`, `invoice_lines`; libs/billing owns both). */
@Injectable()
export class InvoicesRepository {
  constructor(private readonly db: Database) {}

  /** When the month was frozen, or null while it is not. */
  async frozenAt(month: string, uow: UnitOfWork = this.db): Promise<Date | null> {
    const row = await uow.selectFrom('invoice_months').select('frozen_at').where('month', '=', month).executeTakeFirst();
    return row?.frozen_at ?? null;
  }

  /**
   * Freezes the month with these lines unless it is frozen already; whether this call froze it.
   * When two requests freeze at once, the first insert of the month's row wins and the other
   * stores nothing (both then serve the stored lines).
   */
  async freeze(uow: UnitOfWork, month: string, lines: readonly InvoiceLine[], at: Date): Promise<boolean> {
    const won = await uow
      .insertInto('invoice_months')
      .values({ month, frozen_at: at })
      .onConflict((oc) => oc.column('month').doNothing())
      .returning('month')
      .executeTakeFirst();
    if (!won) return false;
    const positions = new Map<string, number>();
    const rows = lines.map((line) => {
      const position = (positions.get(line.organizationId) ?? 0) + 1;
      positions.set(line.organizationId, position);
      return {
        month,
        organization_id: line.organizationId,
        position,
        cluster_id: line.clusterId,
        cluster_name: line.clusterName,
        region: line.region,
        category: line.category,
        kind: line.kind,
        sku: line.sku,
        description: line.description,
        quantity: line.quantity,
        unit: line.unit,
        unit_price: line.unitPrice,
        amount_cents: BigInt(line.amountCents),
        currency: line.currency,
        charge_period_start: line.periodStart,
        charge_period_end: line.periodEnd,
      };
    });
    for (let i = 0; i < rows.length; i += CHUNK)
      await uow
        .insertInto('invoice_lines')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    return true;
  }

  async lines(month: string, organizationId?: string, uow: UnitOfWork = this.db): Promise<InvoiceLine[]> {
    const rows = await uow
      .selectFrom('invoice_lines')
      .selectAll()
      .where('month', '=', month)
      .$if(organizationId !== undefined, (q) => q.where('organization_id', '=', organizationId!))
      .orderBy('organization_id')
      .orderBy('position')
      .execute();
    return rows.map((r) => ({
      organizationId: r.organization_id,
      clusterId: r.cluster_id ?? '',
      clusterName: r.cluster_name ?? '',
      region: r.region ?? '',
      category: r.category as InvoiceLine['category'],
      kind: r.kind as InvoiceLineKind,
      sku: r.sku,
      description: r.description,
      // numeric comes back padded to its scale ("744.000000000"): written as the line was.
      quantity: trimDecimal(String(r.quantity)),
      unit: r.unit,
      unitPrice: trimDecimal(String(r.unit_price)),
      amountCents: Number(r.amount_cents),
      currency: r.currency,
      periodStart: r.charge_period_start,
      periodEnd: r.charge_period_end,
    }));
  }
}

export function trimDecimal(value: string): string {
  if (!value.includes('.')) return value;
  const trimmed = value.replace(/0+$/, '').replace(/\.$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}
