import { randomFillSync } from 'node:crypto';
import { encodeTime, monotonicFactory } from 'ulid';

/**
 * ulid's own random source asks crypto for one byte per character, sixteen calls for an id: a
 * visible share of a create's CPU, which makes several ids. The same crypto bytes, drawn from a
 * buffer refilled a page at a time.
 */
const randomBytePool = new Uint8Array(4096);
let nextRandomByte = randomBytePool.length;
function randomFraction(): number {
  if (nextRandomByte === randomBytePool.length) {
    randomFillSync(randomBytePool);
    nextRandomByte = 0;
  }
  return randomBytePool[nextRandomByte++]! / 256;
}

const nextUlid = monotonicFactory(randomFraction);

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
