/**
 * Exact money (docs/billing.md, "Money and rounding"). Prices and quantities are decimals
 * (decimal.js, never binary floats); an amount is computed exactly from them and rounded once,
 * per invoice line, to whole minor units (cents) with ROUND_HALF_UP: half a cent goes away from
 * zero, the rule the SLA credit used before billing owned money. Totals are sums of rounded
 * lines, so an invoice adds up to the cent however it is summed.
 */
import { Decimal as BaseDecimal } from 'decimal.js';

/** Enough significant digits that no product or quotient billing forms is ever rounded before the line. */
export const Money = BaseDecimal.clone({ precision: 60, rounding: BaseDecimal.ROUND_HALF_UP });
export type Money = InstanceType<typeof Money>;

/** Decimal places a displayed quantity keeps (its amount is computed from the exact value). */
export const QUANTITY_PLACES = 6;

/** The one rounding of a line: exact currency units to whole cents, half away from zero. */
export function toCents(amount: Money): number {
  const cents = amount.times(100).toDecimalPlaces(0, Money.ROUND_HALF_UP);
  const value = cents.toNumber();
  if (!Number.isSafeInteger(value)) throw new RangeError(`amount ${amount.toString()} is beyond exact cents`);
  // -0 (a credit of nothing) is written as 0.
  return value === 0 ? 0 : value;
}

/** Cents as a currency amount with two decimals, e.g. 12345 -> "123.45", -5 -> "-0.05". */
export function centsToUnits(cents: number): string {
  return new Money(cents).dividedBy(100).toFixed(2);
}

/** A decimal written in plain notation (no exponent), trimmed of trailing zeros. */
export function plainDecimal(value: Money, places?: number): string {
  const fixed = places === undefined ? value.toFixed() : value.toDecimalPlaces(places, Money.ROUND_HALF_UP).toFixed();
  return fixed === '-0' ? '0' : fixed;
}
