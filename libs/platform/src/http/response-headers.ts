/**
 * Use cases return plain objects; a controller that needs a Location header attaches it here
 * (a symbol key, so it never reaches the JSON body) and one interceptor writes the headers.
 */
export const LOCATION = Symbol('capstan:location');

export function withLocation<T extends object>(body: T, location: string): T {
  Object.defineProperty(body, LOCATION, { value: location, enumerable: false });
  return body;
}

export function locationOf(body: unknown): string | undefined {
  return body && typeof body === 'object' ? (body as { [LOCATION]?: string })[LOCATION] : undefined;
}
