/**
 * Use cases return plain objects; a controller that needs a Location header attaches it here
 * (a symbol key, so it never reaches the JSON body), and createHttpApp writes the headers that
 * follow from a body (`responseHeadersOf`) just before it is serialised.
 */
export const LOCATION = Symbol('capstan:location');

export function withLocation<T extends object>(body: T, location: string): T {
  Object.defineProperty(body, LOCATION, { value: location, enumerable: false });
  return body;
}

export function locationOf(body: unknown): string | undefined {
  return body && typeof body === 'object' ? (body as { [LOCATION]?: string })[LOCATION] : undefined;
}

/** An object with an `etag` answers with the ETag header; one made with `withLocation` with Location. */
export function responseHeadersOf(body: unknown): { etag?: string; location?: string } {
  if (!body || typeof body !== 'object') return {};
  const headers: { etag?: string; location?: string } = {};
  const etag = (body as { etag?: unknown }).etag;
  if (typeof etag === 'string') headers.etag = etag;
  const location = locationOf(body);
  if (location) headers.location = location;
  return headers;
}
