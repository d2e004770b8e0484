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

/**
 * Integer arithmetic for the hot path (an invoice sums tens of thousands of intervals): a decimal
 * string as an integer count of 10^-`places` units, exactly, or a RangeError when it has more places.
 */
export function parseScaled(value: string, places: number): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) throw new RangeError(`${JSON.stringify(value)} is not a plain decimal`);
  const fraction = m[3] ?? '';
  if (fraction.length > places && /[1-9]/.test(fraction.slice(places))) throw new RangeError(`${value} has more than ${places} decimal places`);
  const scaled = BigInt(m[2]! + fraction.slice(0, places).padEnd(places, '0'));
  return m[1] ? -scaled : scaled;
}

/** `numerator / denominator` rounded to an integer, half away from zero (the one rounding rule). */
export function divideRounded(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('the denominator must be positive');
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  const q = (2n * n + denominator) / (2n * denominator);
  return negative ? -q : q;
}

/** An integer count of 10^-`places` units written as a plain decimal, trailing zeros trimmed. */
export function formatScaled(value: bigint, places: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(places + 1, '0');
  const whole = digits.slice(0, digits.length - places);
  const fraction = digits.slice(digits.length - places).replace(/0+$/, '');
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== '0' ? `-${text}` : text;
}
