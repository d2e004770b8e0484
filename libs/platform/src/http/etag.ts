/**
 * ETags are the quoted resource version, always strong: the version changes with every change
 * of the representation. `If-Match` may list several or be `*` (RFC 9110 13.1.1).
 */
export function etagOf(resourceVersion: number): string {
  return `"${resourceVersion}"`;
}

/**
 * If-Match uses the strong comparison (RFC 9110 8.8.3.2): a weak tag (`W/"2"`) never matches,
 * since it only promises an equivalent representation, not the one the update was based on.
 */
export function matchesEtag(ifMatch: string, resourceVersion: number): boolean {
  const current = etagOf(resourceVersion);
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === current);
}

/**
 * If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/"2"` and `"2"` both match `"2"`,
 * and so does `*`.
 */
export function noneMatchHits(ifNoneMatch: string, etag: string): boolean {
  const opaque = etag.replace(/^W\//, '');
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag.replace(/^W\//, '') === opaque);
}
