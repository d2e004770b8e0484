import type { RouteContract } from '@capstan/contracts';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { parseRouteInput } from './input.decorator';

/**
 * Refuses query parameters on a route whose contract declares none, whether or not its handler
 * reads its input with `@Input()` (many take only the caller): the same 400 `validation-failed`
 * naming each parameter that a route with a query contract gives (docs/input-rules.md, "Unknown
 * fields"). A route guard, so it runs after authentication and the rate limit (global guards), as
 * `@Input()` does.
 */
export class UndeclaredQueryGuard implements CanActivate {
  constructor(private readonly route: RouteContract) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // Nearly every request has no query string: nothing to parse.
    if (!hasParameters(request.query)) return true;
    // Throws, naming the parameters, and with them any other bad input of the request: a handler
    // with `@Input()` would have reported them all at once too.
    parseRouteInput(this.route, request);
    return true;
  }
}

function hasParameters(query: unknown): boolean {
  if (query === null || typeof query !== 'object') return false;
  for (const _ in query) return true;
  return false;
}
