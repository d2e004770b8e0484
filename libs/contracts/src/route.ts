import type { ZodType, z as zod } from 'zod';

/**
 * Who may call a route. `customer:*` needs an organisation's API token with that scope;
 * `staff:*` a staff credential with at least that role; `public` nothing.
 */
export type RouteAccess = 'public' | 'customer:read' | 'customer:write' | 'staff:viewer' | 'staff:operator' | 'staff:admin';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteResponse {
  description: string;
  /** Omitted for bodiless answers (204) and for non-JSON bodies described by `contentType`. */
  schema?: ZodType;
  contentType?: string;
  /** Response headers this answer carries besides the ones the OpenAPI builder derives (name -> description). */
  headers?: Record<string, string>;
  /** Other media types the same answer can take, chosen with Accept (content negotiation), e.g. text/csv. */
  alternativeContentTypes?: string[];
}

/**
 * One endpoint's contract: path, access, request schemas and responses. The server mounts
 * controllers from it, validation uses its schemas, /openapi.json is generated from the list of
 * them, and the tenant-isolation suite walks the same list: one source of truth.
 */
export interface RouteContract<P extends ZodType = ZodType, Q extends ZodType = ZodType, B extends ZodType = ZodType> {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI-style path, e.g. `/v1/clusters/{cluster_id}`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  access: RouteAccess;
  params?: P;
  query?: Q;
  body?: B;
  /** Writes that accept an `Idempotency-Key` header. */
  idempotent?: boolean;
  /** The answer carries a secret shown once (a token, a signing secret): sent with `Cache-Control: no-store`. */
  oneTimeSecret?: boolean;
  /** Updates that honour `If-Match`. */
  conditional?: boolean;
  responses: Record<number, RouteResponse>;
  /** Problem statuses this route can answer besides the ones every route can. */
  errors?: number[];
}

type Parsed<T> = [Exclude<T, undefined>] extends [ZodType] ? zod.output<Exclude<T, undefined>> : undefined;

/** The validated input a handler receives (a part the route does not declare is unknown). */
export interface RouteInput<R extends RouteContract<ZodType, ZodType, ZodType>> {
  params: Parsed<R['params']>;
  query: Parsed<R['query']>;
  body: Parsed<R['body']>;
}

const routes: RouteContract[] = [];

export function defineRoute<P extends ZodType, Q extends ZodType, B extends ZodType>(route: RouteContract<P, Q, B>): RouteContract<P, Q, B> {
  if (routes.some((r) => r.operationId === route.operationId)) {
    throw new Error(`duplicate operationId ${route.operationId}`);
  }
  routes.push(route as unknown as RouteContract);
  return route;
}

/** Every route defined so far (contracts register themselves when their module is loaded). */
export function allRoutes(): readonly RouteContract[] {
  return routes;
}
