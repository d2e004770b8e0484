import { z } from './zod';

/**
 * Characters no string of any request accepts, whatever its field (docs/input-rules.md):
 * control characters (C0, DEL, C1: NUL cannot even be stored by Postgres, CR/LF split headers
 * and log lines), unpaired UTF-16 surrogates (not text; Postgres refuses them too), and the
 * invisible format characters that make one string display as another (bidi overrides and
 * isolates, zero-width characters, the byte-order mark, line and paragraph separators), and
 * U+FFFD, which only appears where bytes failed to decode as UTF-8 (a query string's do silently).
 */
const FORBIDDEN_CHARACTER = /[\p{Cc}\p{Cs}\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffd]/u;

/** The first forbidden character of `value`, as `U+XXXX` (never the input itself), or undefined. */
export function forbiddenCharacterIn(value: string): string | undefined {
  const match = FORBIDDEN_CHARACTER.exec(value);
  if (!match) return undefined;
  return `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export const FORBIDDEN_CHARACTER_MESSAGE = 'must not contain control, invisible formatting or unpaired surrogate characters';

/** How deep a request's JSON may nest: our deepest contract needs 4 levels. */
export const MAX_INPUT_DEPTH = 16;

export interface TextViolation {
  field: string;
  message: string;
}

/**
 * Every string of a request (values and object keys, at any depth) checked against the rule
 * above before any schema runs, so a field added tomorrow is covered without remembering to.
 */
export function textViolations(value: unknown, location: string): TextViolation[] {
  const violations: TextViolation[] = [];
  const visit = (node: unknown, path: string[], depth: number): void => {
    if (violations.length >= 20) return;
    const field = () => (path.length > 0 ? path.join('.') : location);
    if (typeof node === 'string') {
      const found = forbiddenCharacterIn(node);
      if (found) violations.push({ field: field(), message: `${FORBIDDEN_CHARACTER_MESSAGE} (found ${found})` });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (depth > MAX_INPUT_DEPTH) {
      violations.push({ field: field(), message: `is nested more than ${MAX_INPUT_DEPTH} levels deep` });
      return;
    }
    const entries: [string, unknown][] = Array.isArray(node) ? node.map((v, i) => [String(i), v]) : Object.entries(node);
    for (const [key, child] of entries) {
      const found = forbiddenCharacterIn(key);
      if (found) {
        // The key itself is hostile: name its parent, never the key.
        violations.push({ field: field(), message: `has a key that ${FORBIDDEN_CHARACTER_MESSAGE.replace('must not contain', 'contains')} (${found})` });
        continue;
      }
      visit(child, [...path, key], depth + 1);
    }
  };
  visit(value, [], 0);
  return violations;
}

/**
 * A name people give a thing (a token's name): letters and digits of any script, and
 * ` . _ - : @ /` between them. Strict so that a name never carries markup or look-alike tricks.
 */
export const humanName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(
      /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M} ._:@/-]*[\p{L}\p{N}\p{M}])?$/u,
      'must start and end with a letter or digit and contain only letters, digits, spaces and . _ - : @ /',
    );

/**
 * One line of printable text (display names, reasons, descriptions): no leading or trailing
 * whitespace; the characters every string refuses (above) are refused here too, and said so in
 * the schema so the OpenAPI document shows it.
 */
export const printableText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((value) => forbiddenCharacterIn(value) === undefined, FORBIDDEN_CHARACTER_MESSAGE)
    .refine((value) => value.trim() === value, 'must not begin or end with whitespace');
