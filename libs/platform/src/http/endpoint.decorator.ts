import type { RouteContract } from '@capstan/contracts';
import { applyDecorators, Header, HttpCode, RequestMethod, RequestMapping, SetMetadata, UseGuards, UseInterceptors } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { ROUTE_CONTRACT } from './route-contract.metadata';
import { UndeclaredQueryGuard } from './undeclared-query.guard';

export { ROUTE_CONTRACT } from './route-contract.metadata';

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
 * metadata for the access guard and the `@Input()` validator, Idempotency-Key handling on the
 * routes the contract marks idempotent, and the refusal of query parameters on routes that declare
 * none (their handlers need not take `@Input()`).
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
    ...(route.query ? [] : [UseGuards(new UndeclaredQueryGuard(route))]),
    ...(route.idempotent ? [UseInterceptors(IdempotencyInterceptor)] : []),
    // A secret shown once must not survive in a browser, proxy or CDN cache.
    ...(route.oneTimeSecret ? [Header('cache-control', 'no-store')] : []),
  );
}
