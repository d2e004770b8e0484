import { encodeTime, monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/**
 * Prefixed, opaque, time-sortable ids (`cl_01j...`). Sorting by id is sorting by creation, so a
 * cursor is just the last id seen, and the prefix tells a reader what kind of object it names.
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid().toLowerCase()}`;
}

export type IdPrefix =
  'org' | 'tok' | 'stf' | 'stok' | 'cl' | 'np' | 'op' | 'aud' | 'cred' | 'mx' | 'bk' | 'bks' | 'req' | 'evt' | 'wh' | 'whd' | 'snap' | 'price' | 'orph' | 'ro';

/**
 * The smallest id of this kind made at `time`: every id made before then sorts below it, so
 * "older than" becomes a range on the primary key.
 */
export function firstIdAt(prefix: IdPrefix, time: Date): string {
  return `${prefix}_${encodeTime(time.getTime(), 10).toLowerCase()}${'0'.repeat(16)}`;
}

/** Whether `id` has the shape of an id with this prefix (a cheap check before any query). */
export function isId(prefix: IdPrefix, id: string): boolean {
  return new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`).test(id);
}
