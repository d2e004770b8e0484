import type { RouteContract } from '@capstan/contracts';
import { applyDecorators, Header, HttpCode, RequestMethod, RequestMapping, SetMetadata, UseInterceptors } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor';

export const ROUTE_CONTRACT = Symbol('capstan:route-contract');

const METHODS: Record<RouteContract['method'], RequestMethod> = {
  GET: RequestMethod.GET,
  POST: RequestMethod.POST,
  PATCH: RequestMethod.PATCH,
  PUT: RequestMethod.PUT,
  DELETE: RequestMethod.DELETE,
};

/** `/v1/clusters/{cluster_id}` -> `/v1/clusters/:cluster_id` */
export function toRouterPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}

/**
 * Mounts a handler from its contract: method, path, success status, the contract itself as
 * metadata for the access guard and the `@Input()` validator, and Idempotency-Key handling on the
 * routes the contract marks idempotent.
 */
export function Endpoint(route: RouteContract): MethodDecorator {
  const success =
    Object.keys(route.responses)
      .map(Number)
      .find((status) => status >= 200 && status < 300) ?? 200;
  return applyDecorators(
    RequestMapping({ path: toRouterPath(route.path), method: METHODS[route.method] }),
    HttpCode(success),
    SetMetadata(ROUTE_CONTRACT, route),
    ...(route.idempotent ? [UseInterceptors(IdempotencyInterceptor)] : []),
    // A secret shown once must not survive in a browser, proxy or CDN cache.
    ...(route.oneTimeSecret ? [Header('cache-control', 'no-store')] : []),
  );
}
