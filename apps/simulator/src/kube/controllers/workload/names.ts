import { randomInt } from 'node:crypto';
import { canonicalJson } from './model';

/**
 * apimachinery's "safe" alphabet: no vowels (no accidental words) and no characters that look
 * alike (0/o, 1/l). Generated name suffixes and pod-template-hash values use it.
 */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character suffix the API server appends to a `generateName`. */
export function randomSuffix(length = 5): string {
  let suffix = '';
  for (let i = 0; i < length; i++) suffix += SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)];
  return suffix;
}

/**
 * The `pod-template-hash` (Deployments) or `controller-revision-hash` (DaemonSets) of a pod
 * template: FNV-1a 32 over the template, with the collision count mixed in, written as its
 * decimal digits mapped onto the safe alphabet, as the controllers' `ComputeHash` does. Upstream
 * hashes Go's printed struct; we hash canonical JSON, so values differ from a real cluster's but
 * keep the properties that matter: stable for one template, different when the template changes.
 * Null, empty-object and empty-list fields are left out, as Go's struct does not tell them from
 * absent ones: `kubectl rollout undo` writes the old ReplicaSet's template back as Go prints it
 * (`metadata.creationTimestamp: null`, `resources: {}`), and must find that ReplicaSet again
 * rather than start a new one.
 */
export function templateHash(template: unknown, collisionCount = 0): string {
  let hash = fnv1a32(canonicalJson(withoutEmpty(template ?? {}) ?? {}));
  if (collisionCount) hash = fnv1a32(String(collisionCount), hash);
  return [...String(hash)].map((digit) => SAFE_ALPHABET[digit.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

function withoutEmpty(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map(withoutEmpty);
    return items.length === 0 ? undefined : items;
  }
  if (typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .map(([key, inner]) => [key, withoutEmpty(inner)] as const)
    .filter(([, inner]) => inner !== undefined);
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
