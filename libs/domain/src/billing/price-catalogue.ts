/**
 * The price catalogue (docs/billing.md, "Price catalogue"): per kind and sku, a price from an
 * instant on, held until the next price of the same kind and sku. Seeded from this versioned
 * data (node prices from the machine types' monthly list prices), then edited by staff.
 */
import { UnprocessableError } from '../errors/domain-error';
import { ADDON_CATALOGUE_SEED } from '../addons/addon-catalogue';
import { MACHINE_TYPES } from '../catalogue/machine-types';
import { Money } from './money';

export const USAGE_KINDS = ['cluster_fee', 'node', 'addon', 'backup_storage'] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

/** The unit a price of each kind is per: fixed, so a price can never be read in the wrong unit. */
export const PRICE_UNITS: Readonly<Record<UsageKind, string>> = Object.freeze({
  cluster_fee: 'cluster-hour',
  node: 'node-hour',
  addon: 'addon-hour',
  backup_storage: 'GiB-month',
});

export interface PriceEntry {
  kind: UsageKind;
  sku: string;
  /** Exact decimal, in `currency` per unit of the kind. */
  unitPrice: string;
  currency: string;
  effectiveFrom: Date;
}

/** Hours in the month the machine types' monthly list prices assume (365 × 24 / 12). */
export const HOURS_PER_LIST_MONTH = 730;
/** Places a seeded hourly price keeps. */
const SEED_PRICE_PLACES = 6;

/** What one optional add-on costs per hour it is installed (about 14.60 a month). */
export const OPTIONAL_ADDON_HOURLY_PRICE = '0.02';

/** The add-ons billed per add-on-hour (docs/addons.md): the optional ones of the add-on catalogue seed. */
const optionalAddonNames = () => [...new Set(ADDON_CATALOGUE_SEED.releases.filter((r) => r.tier === 'optional').map((r) => r.name))].sort();

/**
 * The seed. Revision 1: node-hours at the machine type's monthly list price / 730 h, cluster
 * management fees per provider's SLA tier, backup storage per GiB-month. Revision 2 adds the
 * optional add-ons, which are billed per add-on-hour: without a price, one enabled add-on made
 * the organisation's usage and the month's invoices a 422 `price-missing`. Effective from the
 * first month Capstan billed.
 */
export const PRICE_CATALOGUE = Object.freeze({
  revision: 2,
  currency: 'CHF',
  effectiveFrom: new Date('2026-01-01T00:00:00.000Z'),
  source: 'libs/domain/src/billing/price-catalogue.ts (node prices from libs/domain/src/catalogue/machine-types.ts)',
  entries: Object.freeze([
    // Management fee per cluster-hour: the 99.95% GKE tier costs what GKE charges per cluster-hour (0.10);
    // the 99.5% RKE2 tier on own infrastructure less.
    { kind: 'cluster_fee', sku: 'gke', unitPrice: '0.10' },
    { kind: 'cluster_fee', sku: 'rke2', unitPrice: '0.08' },
    ...MACHINE_TYPES.map((m) => ({
      kind: 'node' as const,
      sku: m.id,
      unitPrice: new Money(m.monthlyPriceCents).dividedBy(100).dividedBy(HOURS_PER_LIST_MONTH).toDecimalPlaces(SEED_PRICE_PLACES).toFixed(),
    })),
    { kind: 'backup_storage', sku: 'backup', unitPrice: '0.025' },
    ...optionalAddonNames().map((name) => ({ kind: 'addon' as const, sku: name, unitPrice: OPTIONAL_ADDON_HOURLY_PRICE })),
  ] satisfies { kind: UsageKind; sku: string; unitPrice: string }[]),
});

/** The seed as catalogue rows. */
export function seededPrices(): PriceEntry[] {
  return PRICE_CATALOGUE.entries.map((e) => ({ ...e, currency: PRICE_CATALOGUE.currency, effectiveFrom: PRICE_CATALOGUE.effectiveFrom }));
}

/** A price as staff may set it: a non-negative decimal of at most 9 places and 11 whole digits. */
export function assertValidUnitPrice(unitPrice: string): void {
  if (!/^\d{1,11}(\.\d{1,9})?$/.test(unitPrice)) {
    throw new UnprocessableError(
      'price-invalid',
      `unit_price must be a non-negative decimal with at most 11 whole digits and 9 decimal places, written without exponent, got ${JSON.stringify(unitPrice)}`,
      { unit_price: unitPrice },
    );
  }
}

/** One price's span: `[from, until)`, `until` null while no later price exists. */
export interface PriceSpan {
  price: PriceEntry;
  from: Date;
  until: Date | null;
}

/**
 * The prices of every kind and sku as spans, by `kind/sku`. Prices are ordered by their instant;
 * two at the same instant cannot exist (the catalogue's key).
 */
export function priceSpans(prices: readonly PriceEntry[]): Map<string, PriceSpan[]> {
  const byKey = new Map<string, PriceEntry[]>();
  for (const price of prices) {
    const key = priceKey(price.kind, price.sku);
    byKey.set(key, [...(byKey.get(key) ?? []), price]);
  }
  const spans = new Map<string, PriceSpan[]>();
  for (const [key, list] of byKey) {
    const sorted = [...list].sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime());
    spans.set(
      key,
      sorted.map((price, i) => ({ price, from: price.effectiveFrom, until: sorted[i + 1]?.effectiveFrom ?? null })),
    );
  }
  return spans;
}

export function priceKey(kind: UsageKind, sku: string): string {
  return `${kind}/${sku}`;
}
