import Table from 'cli-table3';
import { stringify } from 'yaml';
import { CliError, EXIT } from './errors';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function outputFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  throw new CliError(`--output must be table, json or yaml, not ${value}`, EXIT.usage);
}

/** A table column: its header and how to read it from a row. */
export type Column<T> = [header: string, read: (row: T) => unknown];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Prints rows as a table, or the whole value (`data` as the API answered it) as JSON or YAML. */
export function print<T>(format: OutputFormat, data: unknown, rows: T[], columns: Column<T>[], out: NodeJS.WritableStream = process.stdout): void {
  if (format === 'json') {
    out.write(`${JSON.stringify(data, null, 2)}\n`);
  } else if (format === 'yaml') {
    out.write(stringify(data));
  } else {
    const table = new Table({ head: columns.map(([header]) => header), style: { head: [], border: [] } });
    for (const row of rows) table.push(columns.map(([, read]) => cell(read(row))));
    out.write(`${table.toString()}\n`);
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An object's fields as table rows a terminal can show: nested objects as dotted fields
 * (`error_budget.used_minutes`), lists of plain values joined, lists of objects counted. A JSON
 * blob in a cell would make every row of the table as wide as the longest one.
 */
export function fieldRows(data: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(data).flatMap(([key, value]): [string, unknown][] => {
    const field = `${prefix}${key}`;
    if (isPlainObject(value)) return Object.keys(value).length === 0 ? [[field, '']] : fieldRows(value, `${field}.`);
    if (Array.isArray(value)) {
      if (value.every((item) => !isPlainObject(item) && !Array.isArray(item))) return [[field, value.map((item) => cell(item)).join(', ')]];
      return [[field, `${value.length} ${value.length === 1 ? 'entry' : 'entries'} (-o json or -o yaml shows them)`]];
    }
    return [[field, value]];
  });
}

/** One object as a two-column table (field, value), or the object itself as JSON or YAML. */
export function printOne(format: OutputFormat, data: Record<string, unknown>, out: NodeJS.WritableStream = process.stdout): void {
  print(
    format,
    data,
    format === 'table' ? fieldRows(data) : [],
    [
      ['FIELD', ([key]) => key],
      ['VALUE', ([, value]) => value],
    ],
    out,
  );
}
