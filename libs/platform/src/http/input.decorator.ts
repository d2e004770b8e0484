import type { RouteContract } from '@capstan/contracts';
import { type FieldViolation, ValidationError } from '@capstan/domain';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ZodError, ZodType } from 'zod';
import { ROUTE_CONTRACT } from './endpoint.decorator';

/**
 * The handler's validated input, parsed with the route contract's schemas. Every violation in
 * path, query and body is reported at once, each named by its field, as one 400 problem.
 */
export const Input = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const route = Reflect.getMetadata(ROUTE_CONTRACT, ctx.getHandler()) as RouteContract | undefined;
  if (!route) throw new Error(`@Input() used on ${ctx.getHandler().name} without @Endpoint()`);
  return parseRouteInput(route, ctx.switchToHttp().getRequest<FastifyRequest>());
});

export function parseRouteInput(route: RouteContract, request: Pick<FastifyRequest, 'params' | 'query' | 'body'>) {
  const violations: FieldViolation[] = [];
  const parse = (schema: ZodType | undefined, value: unknown, location: string) => {
    if (!schema) return undefined;
    const result = schema.safeParse(value ?? (location === 'body' ? undefined : {}));
    if (result.success) return result.data;
    violations.push(...describe(result.error, location));
    return undefined;
  };
  const input = {
    params: parse(route.params, request.params, 'path'),
    query: parse(route.query, request.query, 'query'),
    body: parse(route.body, request.body, 'body'),
  };
  if (violations.length > 0) throw new ValidationError(violations);
  return input;
}

function describe(error: ZodError, location: string): FieldViolation[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const parent = issue.path.join('.');
      return { field: issue.keys.map((k) => (parent ? `${parent}.${k}` : k)).join(', '), message: 'is not a known field' };
    }
    const field = issue.path.join('.');
    if (location === 'body' && issue.path.length === 0 && issue.code === 'invalid_type') {
      return { field: 'body', message: 'a JSON object body is required' };
    }
    return { field: field || location, message: issue.message };
  });
}
