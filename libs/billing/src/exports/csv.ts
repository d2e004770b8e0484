import { stringify } from 'csv-stringify/sync';

export type CsvValue = string | number | boolean | null | undefined;

/**
 * CSV as RFC 4180 describes it (header row, CRLF, fields quoted when they need it), written by
 * csv-stringify with spreadsheet formula injection escaped: a text field starting with `=`, `+`,
 * `-`, `@`, tab or CR gets a leading `'`, so `=HYPERLINK(...)` in a name stays text. Numbers are
 * not escaped (a negative amount stays a number): give signed figures as numbers, see
 * {@link signedDecimal}.
 */
export function toCsv<T extends Record<string, CsvValue>>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  return stringify(
    rows.map((row) => columns.map((c) => row[c] ?? null)),
    {
      header: true,
      columns: [...columns],
      record_delimiter: 'windows',
      escape_formulas: true,
      // A bare LF inside a field must be quoted too: the record delimiter is CRLF, and readers split on either.
      quoted_match: /[\r\n]/,
      cast: { boolean: (value) => String(value), number: (value) => String(value) },
    },
  );
}

/**
 * A decimal string as a value for {@link toCsv}: a negative one as a number (so it is not taken
 * for a formula and escaped), provided the number writes back to exactly the same digits; a
 * non-negative one as it is.
 */
export function signedDecimal(value: string): string | number {
  if (!value.startsWith('-')) return value;
  const number = Number(value);
  if (String(number) !== value) throw new RangeError(`${value} cannot be written exactly as a CSV number`);
  return number;
}

/**
 * Whether an Accept header asks for CSV rather than JSON: `text/csv` named with a q above 0 and
 * not below `application/json`'s. Wildcards do not outbid a type named explicitly; with no
 * Accept, or none of the two, the answer is JSON.
 */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let csv = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'text/csv') csv = Math.max(csv, q);
    if (type === 'application/json') json = Math.max(json, q);
  }
  return csv > 0 && csv >= json;
}
