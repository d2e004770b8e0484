import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API token secrets: 256 random bits behind a recognisable prefix (so secret scanners and people
 * can tell what leaked), stored only as SHA-256. A fast hash is right here, unlike for passwords:
 * the secret has full entropy, so there is nothing to brute-force, and lookups stay O(1) by hash.
 */
export type TokenKind = 'customer' | 'staff';

const PREFIX: Record<TokenKind, string> = { customer: 'cap_', staff: 'capstaff_' };
const SECRET_SHAPE = /^(cap|capstaff)_[A-Za-z0-9_-]{43}$/;

export interface IssuedSecret {
  /** Shown to the caller once, never stored. */
  secret: string;
  secretHash: string;
  /** Enough to tell tokens apart in a list. */
  displayPrefix: string;
}

export function issueSecret(kind: TokenKind): IssuedSecret {
  const secret = PREFIX[kind] + randomBytes(32).toString('base64url');
  return { secret, secretHash: hashSecret(secret), displayPrefix: secret.slice(0, PREFIX[kind].length + 6) };
}

/** One-shot `crypto.hash`: a third of createHash's cost, which builds a Hash object per request. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Which kind of token a presented secret claims to be, or undefined if it has no valid shape. */
export function tokenKindOf(secret: string): TokenKind | undefined {
  if (!SECRET_SHAPE.test(secret)) return undefined;
  return secret.startsWith(PREFIX.staff) ? 'staff' : 'customer';
}

/** Constant-time comparison of two hex digests (e.g. after a lookup by hash, before trusting it). */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
