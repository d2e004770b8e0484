/**
 * Catalogue dates (release, maintenance mode, end of support) are calendar days, not instants:
 * a version is end-of-life for the whole of its EOL day everywhere. Capstan reads them as UTC days
 * so the answer does not depend on the server's time zone.
 */

/** A calendar day as `YYYY-MM-DD`. */
export type IsoDay = string;

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** True for a real calendar day written as `YYYY-MM-DD` (rejects 2026-02-30). */
export function isIsoDay(value: string): boolean {
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/**
 * The UTC day of an instant, or the day itself. Accepts `Date` because Prisma returns `@db.Date`
 * columns as a Date at UTC midnight.
 */
export function utcDay(value: Date | IsoDay): IsoDay {
  if (typeof value === 'string') {
    if (!isIsoDay(value)) throw new RangeError(`"${value}" is not a calendar day written as YYYY-MM-DD`);
    return value;
  }
  if (Number.isNaN(value.getTime())) throw new RangeError('invalid Date');
  return value.toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: Date | IsoDay, to: Date | IsoDay): number {
  return Math.round((Date.parse(`${utcDay(to)}T00:00:00Z`) - Date.parse(`${utcDay(from)}T00:00:00Z`)) / MS_PER_DAY);
}
