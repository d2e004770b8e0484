/**
 * ETags are the quoted resource version. `If-Match` may list several or be `*` (RFC 9110 13.1.1).
 */
export function etagOf(resourceVersion: number): string {
  return `"${resourceVersion}"`;
}

export function matchesEtag(ifMatch: string, resourceVersion: number): boolean {
  const current = etagOf(resourceVersion);
  return ifMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === current);
}
