import { ValidationError } from '@capstan/domain';
import type { IdPrefix } from '../ids';

/**
 * Cursor pagination over time-sortable ids. The cursor is opaque to clients (base64url of the
 * last id they saw), so the ordering key can change later without breaking them.
 */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64url');
}

/**
 * The id a cursor points after. `kind` is the id prefix of the list's objects: a cursor of another
 * list (a cluster id offered to the operations) is refused rather than answered with a wrong page.
 */
export function decodeCursor(cursor: string | undefined, kind: IdPrefix): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof value.after === 'string' && /^[a-z]+_[0-9a-z]{26}$/.test(value.after) && value.after.startsWith(`${kind}_`)) return value.after;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError([{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Rows were fetched with `take: limit + 1`: the extra row only says whether there is more. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit);
  return {
    items: items.map(present),
    next_cursor: rows.length > limit && items.length > 0 ? encodeCursor(items[items.length - 1]!.id) : null,
  };
}
