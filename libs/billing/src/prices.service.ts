import type { billingRoutes, RouteInput } from '@capstan/contracts';
import {
  assertValidUnitPrice,
  ConflictError,
  MACHINE_TYPES,
  PRICE_CATALOGUE,
  PRICE_UNITS,
  type PriceEntry,
  priceSpans,
  priceKey,
  UnprocessableError,
  type UsageKind,
} from '@capstan/domain';
import { Clock, Database } from '@capstan/platform';
import { type Actor, AuditLog } from '@capstan/tenancy';
import { Injectable } from '@nestjs/common';
import { currentMonth } from './billing-months';
import { PricesRepository, type StoredPrice } from './prices.repository';

export type CreatePriceInput = RouteInput<typeof billingRoutes.adminCreatePrice>['body'];

export interface PriceView {
  id: string;
  kind: UsageKind;
  sku: string;
  unit: string;
  unit_price: string;
  currency: string;
  effective_from: string;
  effective_until: string | null;
}

/** The price catalogue (docs/billing.md, "Price catalogue"): read by everyone, added to by staff. */
@Injectable()
export class PricesService {
  constructor(
    private readonly db: Database,
    private readonly prices: PricesRepository,
    private readonly auditLog: AuditLog,
    private readonly clock: Clock,
  ) {}

  async list(kind?: UsageKind): Promise<(PriceView & { seed_revision: number | null; reason: string | null; created_at: string })[]> {
    const all = await this.prices.all();
    const spans = priceSpans(all);
    return all
      .filter((p) => kind === undefined || p.kind === kind)
      .map((p) => {
        const until = spans.get(priceKey(p.kind, p.sku))!.find((s) => s.price === p)!.until;
        return { ...presentPrice(p, until), seed_revision: p.seedRevision, reason: p.reason, created_at: p.createdAt.toISOString() };
      });
  }

  /** A new price from an instant on, audited in the transaction that adds it. */
  async create(actor: Actor, input: CreatePriceInput, now = this.clock.now()): Promise<PriceView> {
    assertValidUnitPrice(input.unit_price);
    assertKnownSku(input.kind, input.sku);
    const currency = input.currency ?? PRICE_CATALOGUE.currency;
    if (currency !== PRICE_CATALOGUE.currency) {
      throw new UnprocessableError('price-currency', `the catalogue is in ${PRICE_CATALOGUE.currency}; a price in ${currency} cannot be added to it`, {
        currency,
      });
    }
    const effectiveFrom = new Date(input.effective_from);
    const openFrom = new Date(`${currentMonth(now)}-01T00:00:00.000Z`);
    if (effectiveFrom.getTime() < openFrom.getTime()) {
      throw new UnprocessableError(
        'price-in-closed-month',
        `effective_from ${effectiveFrom.toISOString()} falls in a closed month; a price may take effect from ${openFrom.toISOString()} (the start of the current month) on`,
        { effective_from: effectiveFrom.toISOString(), earliest: openFrom.toISOString() },
      );
    }
    const entry: PriceEntry = { kind: input.kind, sku: input.sku, unitPrice: input.unit_price, currency, effectiveFrom };
    const stored = await this.db.transaction().execute(async (trx) => {
      const before = await this.prices.all(input.kind, trx);
      const inserted = await this.prices.insert(trx, { ...entry, seedRevision: null, reason: input.reason });
      if (!inserted) {
        throw new ConflictError('price-exists', `a ${input.kind} price for ${input.sku} already takes effect at ${effectiveFrom.toISOString()}`);
      }
      const replaced = before.filter((p) => p.sku === input.sku && p.effectiveFrom.getTime() <= effectiveFrom.getTime()).pop();
      await this.auditLog.record(trx, {
        organizationId: null,
        actor,
        action: 'price.create',
        target: { type: 'price', id: inserted.id },
        changes: {
          [`${input.kind}/${input.sku}@${effectiveFrom.toISOString()}`]: { before: replaced?.unitPrice ?? null, after: input.unit_price },
        },
        reason: input.reason,
      });
      return inserted;
    });
    const spans = priceSpans(await this.prices.all(input.kind));
    return presentPrice(
      stored,
      spans.get(priceKey(stored.kind, stored.sku))!.find((s) => s.price.effectiveFrom.getTime() === stored.effectiveFrom.getTime())!.until,
    );
  }
}

function presentPrice(p: StoredPrice, until: Date | null): PriceView {
  return {
    id: p.id,
    kind: p.kind,
    sku: p.sku,
    unit: PRICE_UNITS[p.kind],
    unit_price: p.unitPrice,
    currency: p.currency,
    effective_from: p.effectiveFrom.toISOString(),
    effective_until: until?.toISOString() ?? null,
  };
}

/** Node prices are per machine type, fees per provider, storage has one sku; add-ons are any name. */
function assertKnownSku(kind: UsageKind, sku: string): void {
  const known: Partial<Record<UsageKind, string[]>> = {
    node: MACHINE_TYPES.map((m) => m.id),
    cluster_fee: ['rke2', 'gke'],
    backup_storage: ['backup'],
  };
  const offered = known[kind];
  if (offered && !offered.includes(sku)) {
    throw new UnprocessableError('price-sku-unknown', `${sku} is not a ${kind} sku; ${kind} prices are for ${offered.join(', ')}`, { kind, sku, offered });
  }
}
