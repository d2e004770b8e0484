import { ValidationError } from '@capstan/domain';

/**
 * Cursor pagination over time-sortable ids. The cursor is opaque to clients (base64url of the
 * last id they saw), so the ordering key can change later without breaking them.
 */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof value.after === 'string' && /^[a-z]+_[0-9a-z]{26}$/.test(value.after)) return value.after;
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
