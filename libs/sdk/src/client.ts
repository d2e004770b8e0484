import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { IDEMPOTENT_OPERATIONS } from './generated/idempotent-operations';
import type { components, paths } from './generated/schema';

/** A client for every route of the Capstan API, typed from its OpenAPI document. */
export type CapstanClient = Client<paths>;

/** RFC 9457 problem details: the body of every error answer (content type application/problem+json). */
export type Problem = components['schemas']['Problem'];

export interface CapstanClientOptions {
  /** The API's root URL, e.g. `https://capstan.example.com` (paths start with /v1 or /admin/v1). */
  baseUrl: string;
  /** A customer API token (`cap_...`), or for /admin/v1 a staff token (`capstaff_...`) or OIDC access token. */
  token: string;
  /** Defaults to the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * Give every write that accepts an `Idempotency-Key` (creates, deletes, node pool changes) a key
   * when the call does not bring its own: `true` for a random UUID, or a function returning one.
   * A key of your own (`params: { header: { 'Idempotency-Key': key } }`) is what makes a retry
   * safe: send the same key again and the API answers with the first result instead of acting twice.
   */
  idempotencyKeys?: boolean | (() => string);
}

/**
 * `createCapstanClient({ baseUrl, token })` gives an openapi-fetch client: `client.GET('/v1/clusters/{cluster_id}',
 * { params: { path: { cluster_id } } })` resolves to `{ data, error, response }`, where `data` is the typed
 * body of a 2xx answer, `error` the {@link Problem} of any other, and `response` carries the headers
 * (ETag, Location, X-Request-Id, RateLimit-*).
 */
export function createCapstanClient(options: CapstanClientOptions): CapstanClient {
  if (!options.token) throw new Error('createCapstanClient: a token is required');
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { Authorization: `Bearer ${options.token}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (options.idempotencyKeys) {
    client.use(idempotencyKeyMiddleware(options.idempotencyKeys === true ? () => crypto.randomUUID() : options.idempotencyKeys));
  }
  return client;
}

function idempotencyKeyMiddleware(nextKey: () => string): Middleware {
  return {
    onRequest({ request, schemaPath }) {
      if (IDEMPOTENT_OPERATIONS.has(`${request.method} ${schemaPath}`) && !request.headers.has('idempotency-key')) {
        request.headers.set('Idempotency-Key', nextKey());
      }
      return request;
    },
  };
}
