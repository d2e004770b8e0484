/** Nearest-rank percentile of an ascending array (q in 0..1). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function sortedCopy(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export const ms = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
export const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');
export const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');

/** A goal as printed next to its ratio, e.g. `>= 0.60x met` or `<= 1.30x MISSED`. */
export function goal(value: number, bound: { atLeast?: number; atMost?: number } | undefined): string {
  if (!bound) return '';
  const [sign, limit, met] = bound.atLeast !== undefined ? ['>=', bound.atLeast, value >= bound.atLeast] : ['<=', bound.atMost!, value <= bound.atMost!];
  return `${sign} ${limit.toFixed(2)}x ${Number.isFinite(value) && met ? 'met' : 'MISSED'}`;
}

/** Prints rows as an aligned plain-text table; columns whose header starts with `>` align right. */
export function printTable(headers: string[], rows: string[][]): void {
  const right = headers.map((h) => h.startsWith('>'));
  const titles = headers.map((h) => h.replace(/^>/, ''));
  const widths = titles.map((t, i) => Math.max(t.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(titles));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
