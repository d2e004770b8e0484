/**
 * A month's invoice lines from usage intervals, prices and SLA credit percentages
 * (docs/billing.md, "Invoices"). Pure: the same inputs always give the same lines, to the cent.
 */
import { UnprocessableError } from '../errors/domain-error';
import type { UsageInterval } from './metering';
import { divideRounded, formatScaled, Money, parseScaled, plainDecimal, QUANTITY_PLACES, toCents } from './money';
import { PRICE_UNITS, type PriceEntry, priceKey, priceSpans, type UsageKind } from './price-catalogue';

/**
 * Usage that no price covers (a sku added to a catalogue without its price). The detail is the
 * fact only: who reads it decides the wording (billing-reports.ts: the customer is told it is not
 * configured yet, staff are told how to add it).
 */
export class PriceMissingError extends UnprocessableError {
  constructor(
    readonly usageKind: UsageKind,
    readonly sku: string,
    readonly clusterId: string,
    readonly at: Date,
  ) {
    super('price-missing', `${usageKind} ${sku} used by cluster ${clusterId} has no price in effect at ${at.toISOString()}`, {
      kind: usageKind,
      sku,
      at: at.toISOString(),
    });
  }
}

export const SLA_CREDIT_KIND = 'sla_credit';
export type InvoiceLineKind = UsageKind | typeof SLA_CREDIT_KIND;

/** What a line says of its cluster. */
export interface InvoiceCluster {
  id: string;
  organizationId: string;
  name: string;
  provider: string;
  region: string;
}

export interface InvoiceLine {
  organizationId: string;
  clusterId: string;
  clusterName: string;
  region: string;
  category: 'usage' | 'credit';
  kind: InvoiceLineKind;
  sku: string;
  description: string;
  /** Decimal, {@link QUANTITY_PLACES} places at most, in `unit`. */
  quantity: string;
  unit: string;
  /** Decimal, in `currency` per `unit`; negative on a credit. */
  unitPrice: string;
  /** The line's one rounding (money.ts); negative on a credit. */
  amountCents: number;
  currency: string;
  /** The part of the month the line covers: `[periodStart, periodEnd)`. */
  periodStart: Date;
  periodEnd: Date;
}

export interface InvoiceInput {
  range: { start: Date; end: Date };
  /** Usage is counted up to here (the month's end for a closed month or a projection; now while it runs). */
  asOf: Date;
  intervals: readonly UsageInterval[];
  prices: readonly PriceEntry[];
  clusters: ReadonlyMap<string, InvoiceCluster>;
  /** The SLA credit percentage of each cluster owed one (from the month's SLA reports). */
  creditPercents: ReadonlyMap<string, number>;
}

/** Quantities and prices carry at most 9 decimal places (the columns' scale). */
const PLACES = 9;
const NANO = 10n ** BigInt(PLACES);
const MS_PER_HOUR = 3_600_000n;
const KIND_ORDER: readonly InvoiceLineKind[] = ['cluster_fee', 'node', 'addon', 'backup_storage', SLA_CREDIT_KIND];

interface Accumulator {
  cluster: InvoiceCluster;
  kind: UsageKind;
  sku: string;
  price: PriceEntry;
  /** Σ quantity × duration, exact: in 10^-9 units × milliseconds (fractional quantities, and overflow of `unitMs`). */
  unitNanoMs: bigint;
  /** Σ quantity × duration for whole quantities, in units × milliseconds: plain numbers while exact (the common case, and cheap). */
  unitMs: number;
  start: number;
  end: number;
}

/**
 * One line per cluster, kind, sku and price in effect: a price change inside the month splits the
 * line at its instant. A cluster owed an SLA credit gets one negative line: its percentage of all
 * of its charges of the month (the rounded lines above it), rounded once itself.
 */
export function invoiceLines(input: InvoiceInput): InvoiceLine[] {
  const { range } = input;
  const cutoff = Math.min(range.end.getTime(), input.asOf.getTime());
  const monthMs = BigInt(range.end.getTime() - range.start.getTime());
  // Few distinct quantities (node counts, sizes): parse each once.
  const quantities = new Map<string, { whole: number | null; nano: bigint }>();
  const unitPrices = new Map<string, { scaled: bigint; written: string }>();
  const spans = priceSpans(input.prices);
  const lines = new Map<string, Accumulator>();

  for (const interval of input.intervals) {
    const start = Math.max(interval.start.getTime(), range.start.getTime());
    const end = Math.min(interval.end?.getTime() ?? cutoff, cutoff);
    if (end <= start) continue;
    const cluster = input.clusters.get(interval.clusterId);
    if (!cluster) throw new Error(`usage of cluster ${interval.clusterId} has no cluster to bill it to`);
    const key = priceKey(interval.kind, interval.sku);
    const priced = spans.get(key) ?? [];
    let covered = start;
    for (let index = 0; index < priced.length; index++) {
      const span = priced[index]!;
      const s = Math.max(start, span.from.getTime());
      const e = Math.min(end, span.until?.getTime() ?? end);
      if (e <= s) continue;
      if (s > covered) break;
      covered = e;
      const lineKey = `${interval.clusterId}\u0000${key}\u0000${index}`;
      const line = lines.get(lineKey) ?? {
        cluster,
        kind: interval.kind,
        sku: interval.sku,
        price: span.price,
        unitNanoMs: 0n,
        unitMs: 0,
        start: s,
        end: e,
      };
      let quantity = quantities.get(interval.quantity);
      if (quantity === undefined) {
        const nano = parseScaled(interval.quantity, PLACES);
        quantities.set(interval.quantity, (quantity = { whole: nano % NANO === 0n ? Number(nano / NANO) : null, nano }));
      }
      const product = quantity.whole === null ? Number.NaN : quantity.whole * (e - s);
      if (Number.isSafeInteger(product) && Number.isSafeInteger(line.unitMs + product)) line.unitMs += product;
      else line.unitNanoMs += quantity.nano * BigInt(e - s);
      line.start = Math.min(line.start, s);
      line.end = Math.max(line.end, e);
      lines.set(lineKey, line);
    }
    if (covered < end) {
      throw new PriceMissingError(interval.kind, interval.sku, interval.clusterId, new Date(covered));
    }
  }

  const usage: InvoiceLine[] = [...lines.values()].map((line) => {
    // Unit-hours for time-based prices; for storage, the share of this month's length (a GiB-month).
    // Integers throughout: quantity = Σ/denominator, amount = Σ × price / denominator, each rounded once.
    const denominator = NANO * (line.kind === 'backup_storage' ? monthMs : MS_PER_HOUR);
    let price = unitPrices.get(line.price.unitPrice);
    if (!price)
      unitPrices.set(
        line.price.unitPrice,
        (price = { scaled: parseScaled(line.price.unitPrice, PLACES), written: plainDecimal(new Money(line.price.unitPrice)) }),
      );
    const quantityScale = 10n ** BigInt(QUANTITY_PLACES);
    const unitNanoMs = line.unitNanoMs + BigInt(line.unitMs) * NANO;
    return {
      organizationId: line.cluster.organizationId,
      clusterId: line.cluster.id,
      clusterName: line.cluster.name,
      region: line.cluster.region,
      category: 'usage',
      kind: line.kind,
      sku: line.sku,
      description: describe(line.kind, line.sku, line.cluster.name),
      quantity: formatScaled(divideRounded(unitNanoMs * quantityScale, denominator), QUANTITY_PLACES),
      unit: PRICE_UNITS[line.kind],
      unitPrice: price.written,
      amountCents: safeCents(divideRounded(unitNanoMs * price.scaled * 100n, denominator * NANO)),
      currency: line.price.currency,
      periodStart: new Date(line.start),
      periodEnd: new Date(line.end),
    };
  });

  const credits: InvoiceLine[] = [];
  for (const [clusterId, percent] of input.creditPercents) {
    const charged = usage.filter((l) => l.clusterId === clusterId);
    const cluster = input.clusters.get(clusterId);
    if (percent <= 0 || charged.length === 0 || !cluster) continue;
    const chargedCents = charged.reduce((sum, l) => sum + l.amountCents, 0);
    const base = new Money(chargedCents).dividedBy(100);
    const unitPrice = new Money(percent).dividedBy(100).negated();
    credits.push({
      organizationId: cluster.organizationId,
      clusterId,
      clusterName: cluster.name,
      region: cluster.region,
      category: 'credit',
      kind: SLA_CREDIT_KIND,
      sku: `sla-${cluster.provider}`,
      description: `SLA credit for ${cluster.name}: ${percent}% of the month's charges`,
      quantity: plainDecimal(base),
      unit: charged[0]!.currency,
      unitPrice: plainDecimal(unitPrice),
      amountCents: toCents(base.times(unitPrice)),
      currency: charged[0]!.currency,
      periodStart: range.start,
      periodEnd: range.end,
    });
  }

  return [...usage, ...credits].sort(lineOrder);
}

function safeCents(cents: bigint): number {
  const value = Number(cents);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${cents} cents is beyond exact cents`);
  return value;
}

function describe(kind: UsageKind, sku: string, cluster: string): string {
  switch (kind) {
    case 'cluster_fee':
      return `Cluster management fee (${sku}) for ${cluster}`;
    case 'node':
      return `Nodes ${sku} of ${cluster}`;
    case 'addon':
      return `Add-on ${sku} on ${cluster}`;
    case 'backup_storage':
      return `Backup storage of ${cluster}`;
  }
}

function lineOrder(a: InvoiceLine, b: InvoiceLine): number {
  return (
    compare(a.organizationId, b.organizationId) ||
    compare(a.clusterId, b.clusterId) ||
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
    compare(a.sku, b.sku) ||
    a.periodStart.getTime() - b.periodStart.getTime()
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Totals of lines in one currency: charges, credits (negative) and what is owed. */
export function invoiceTotals(lines: readonly Pick<InvoiceLine, 'category' | 'amountCents'>[]): {
  chargesCents: number;
  creditsCents: number;
  totalCents: number;
} {
  let chargesCents = 0;
  let creditsCents = 0;
  for (const line of lines) {
    if (line.category === 'credit') creditsCents += line.amountCents;
    else chargesCents += line.amountCents;
  }
  return { chargesCents, creditsCents, totalCents: chargesCents + creditsCents };
}
