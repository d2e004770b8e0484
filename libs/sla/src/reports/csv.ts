/**
 * CSV as RFC 4180 describes it: a header row, CRLF line ends, and a field quoted (with its quotes
 * doubled) when it holds a comma, a quote, CR or LF, or starts or ends with a space.
 */
export function toCsv<T extends Record<string, string | number | boolean | null>>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const line = (fields: readonly unknown[]) => fields.map(csvField).join(',') + '\r\n';
  return line(columns) + rows.map((row) => line(columns.map((c) => row[c]))).join('');
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
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
