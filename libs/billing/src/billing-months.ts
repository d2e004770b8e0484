import {
  type InvoiceCluster,
  type InvoiceLine,
  invoiceLines,
  invoiceTotals,
  meterCluster,
  meteringFactsOf,
  monthRange,
  type MonthRange,
  PRICE_CATALOGUE,
  type RecordedCluster,
  UnprocessableError,
} from '@capstan/domain';
import { Clock, Database } from '@capstan/platform';
import { Injectable } from '@nestjs/common';
import { BillingFactsSource, type SlaCreditFact } from './billing-facts';
import { InvoicesRepository } from './invoices.repository';
import { PricesRepository } from './prices.repository';
import { UsageRepository } from './usage.repository';

/**
 * A month is frozen once it ended at least this long ago: the SLA reports its credits come from
 * freeze after the same grace (late probe results), and a cluster deleted in the month's last
 * minutes has its deletion recorded by then.
 */
export const BILLING_FREEZE_GRACE_MS = 60 * 60 * 1000;

/** One month's invoice lines, of every organisation or of one. */
export interface MonthInvoice {
  month: string;
  /** Frozen: served as stored, never recomputed. */
  final: boolean;
  computedAt: Date;
  /** Usage is counted up to here. */
  asOf: Date;
  currency: string;
  lines: InvoiceLine[];
}

/**
 * Billing months (docs/billing.md, "Invoices"): meters the clusters of the month into
 * `usage_intervals`, prices the intervals, adds the SLA credits, and freezes a closed month the
 * first time it is asked for.
 */
@Injectable()
export class BillingMonths {
  constructor(
    private readonly facts: BillingFactsSource,
    private readonly usage: UsageRepository,
    private readonly prices: PricesRepository,
    private readonly invoices: InvoicesRepository,
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async invoice(month: string, organizationId?: string, now = this.clock.now()): Promise<MonthInvoice> {
    const range = billableMonth(month, now);
    const currency = PRICE_CATALOGUE.currency;
    if (range.end.getTime() > now.getTime() - BILLING_FREEZE_GRACE_MS) {
      const asOf = new Date(Math.min(now.getTime(), range.end.getTime()));
      return { month, final: false, computedAt: now, asOf, currency, lines: await this.compute(month, range, asOf, organizationId) };
    }
    let frozenAt = await this.invoices.frozenAt(month);
    if (!frozenAt) {
      // The whole fleet at once, so every organisation's invoice of the month is frozen from the same inputs.
      const lines = await this.compute(month, range, range.end);
      await this.db.transaction().execute((trx) => this.invoices.freeze(trx, month, lines, now));
      frozenAt = (await this.invoices.frozenAt(month))!;
    }
    return { month, final: true, computedAt: frozenAt, asOf: range.end, currency, lines: await this.invoices.lines(month, organizationId) };
  }

  /**
   * The month's charges if every cluster keeps its current size and prices hold to the month's
   * end (SLA credits are not foreseen). Null for a month that is over.
   */
  async projection(month: string, organizationId: string, now = this.clock.now()): Promise<{ chargesCents: number; through: Date } | null> {
    const range = billableMonth(month, now);
    if (range.end.getTime() <= now.getTime()) return null;
    const lines = await this.compute(month, range, range.end, organizationId, { withCredits: false });
    return { chargesCents: invoiceTotals(lines).chargesCents, through: range.end };
  }

  /**
   * The SLA credits of the month with their amounts: each cluster's percentage of its charges.
   * With an organisation, only its clusters, from the same invoice lines its invoice shows.
   */
  async credits(
    month: string,
    organizationId?: string,
    now = this.clock.now(),
  ): Promise<{ invoice: MonthInvoice; credits: (SlaCreditFact & { chargesCents: number; creditCents: number })[] }> {
    const invoice = await this.invoice(month, organizationId, now);
    const facts = await this.facts.slaCredits(month, organizationId);
    const credits = facts.map((fact) => {
      const lines = invoice.lines.filter((l) => l.clusterId === fact.clusterId);
      const { chargesCents, creditsCents } = invoiceTotals(lines);
      return { ...fact, chargesCents, creditCents: -creditsCents };
    });
    return { invoice, credits };
  }

  /** The month's lines computed from the database as it is now: metered afresh, never read from a frozen copy. */
  async compute(month: string, range: MonthRange, asOf: Date, organizationId?: string, options: { withCredits?: boolean } = {}): Promise<InvoiceLine[]> {
    const recorded = await this.meter(range, organizationId);
    const [intervals, prices, credits] = await Promise.all([
      this.usage.overlapping(range, organizationId),
      this.prices.all(),
      options.withCredits === false || recorded.length === 0 ? Promise.resolve([]) : this.facts.slaCredits(month, organizationId),
    ]);
    const clusters = new Map<string, InvoiceCluster>(
      recorded.map((c) => [c.id, { id: c.id, organizationId: c.organizationId, name: c.name, provider: c.provider, region: c.region }]),
    );
    return invoiceLines({
      range,
      asOf,
      intervals,
      prices,
      clusters,
      creditPercents: new Map(credits.filter((c) => clusters.has(c.clusterId)).map((c) => [c.clusterId, c.creditPercent])),
    });
  }

  /** Derives the usage intervals of the month's clusters from what Capstan recorded and stores them. */
  async meter(range: { start: Date; end: Date }, organizationId?: string): Promise<RecordedCluster[]> {
    const recorded = await this.facts.clusters(range, organizationId);
    const intervals = recorded.flatMap((c) => meterCluster(meteringFactsOf(c)));
    await this.db.transaction().execute((trx) =>
      this.usage.replace(
        trx,
        recorded.map((c) => c.id),
        intervals,
      ),
    );
    return recorded;
  }
}

/** The month's range, refusing a month that has not begun (nothing is billed for it yet). */
export function billableMonth(month: string, now: Date): MonthRange {
  const range = monthRange(month);
  if (range.start.getTime() > now.getTime()) {
    throw new UnprocessableError('billing-month-in-future', `${month} has not begun yet; the current month is ${currentMonth(now)}`, { month });
  }
  return range;
}

export function currentMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}
