import { noQuery, type RouteContract, textViolations } from '@capstan/contracts';
import { type FieldViolation, ValidationError } from '@capstan/domain';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ZodError, ZodType } from 'zod';
import { ROUTE_CONTRACT } from './route-contract.metadata';

/**
 * The handler's validated input, parsed with the route contract's schemas. Every violation in
 * path, query and body is reported at once, each named by its field, as one 400 problem.
 */
export const Input = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  return parseRouteInput(contractOf(ctx.getHandler()), ctx.switchToHttp().getRequest<FastifyRequest>());
});

/** Each handler's contract, read from its metadata once (reflect-metadata walks maps per lookup). */
const contracts = new WeakMap<object, RouteContract>();

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- what ExecutionContext.getHandler() returns
function contractOf(handler: Function): RouteContract {
  let route = contracts.get(handler);
  if (!route) {
    route = Reflect.getMetadata(ROUTE_CONTRACT, handler) as RouteContract | undefined;
    if (!route) throw new Error(`@Input() used on ${handler.name} without @Endpoint()`);
    contracts.set(handler, route);
  }
  return route;
}

export function parseRouteInput(route: RouteContract, request: Pick<FastifyRequest, 'params' | 'query' | 'body'>) {
  const violations: FieldViolation[] = [];
  const parse = (schema: ZodType | undefined, value: unknown, location: string) => {
    if (!schema) return undefined;
    // Before the schema: no string anywhere may hold what Postgres cannot store or what
    // disguises text (docs/input-rules.md), whatever field it is in or whether one is declared.
    const hostile = textViolations(value, location);
    if (hostile.length > 0) {
      violations.push(...hostile);
      return undefined;
    }
    const result = schema.safeParse(value ?? (location === 'body' ? undefined : {}));
    if (result.success) return result.data;
    // Two checks of one field can fail alike (zod's int and max on 1e21): say it once.
    for (const violation of describe(result.error, location, value))
      if (!violations.some((v) => v.field === violation.field && v.message === violation.message)) violations.push(violation);
    return undefined;
  };
  // A route without a query contract takes no parameters: an empty strict contract, so an unknown
  // one is refused as it is where a contract exists (docs/input-rules.md, "Unknown fields").
  const query = parse(route.query ?? noQuery, request.query, 'query');
  const input = {
    params: parse(route.params, request.params, 'path'),
    query: route.query ? query : undefined,
    body: parse(route.body, request.body, 'body'),
  };
  if (violations.length > 0) throw new ValidationError(violations);
  return input;
}

const PLAIN_KEY = /^[A-Za-z0-9_./-]{1,64}$/;

/**
 * A field's JSON path, cut before the first segment that is not a plain key: a label key is
 * input too, and an answer never reflects arbitrary input (a 10 KB key, markup) back.
 */
function fieldOf(path: readonly PropertyKey[]): string {
  const plain: string[] = [];
  for (const segment of path) {
    const text = String(segment);
    if (typeof segment !== 'number' && !PLAIN_KEY.test(text)) break;
    plain.push(text);
  }
  return plain.join('.');
}

/** The value a request gave at an issue's path (undefined where it gave none). */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function describe(error: ZodError, location: string, value: unknown): FieldViolation[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const parent = fieldOf(issue.path);
      // Unknown keys are named only when they look like field names (see fieldOf).
      const named = issue.keys.filter((k) => PLAIN_KEY.test(k));
      if (named.length < issue.keys.length) return { field: parent || location, message: 'has fields that are not known' };
      return { field: named.map((k) => (parent ? `${parent}.${k}` : k)).join(', '), message: 'is not a known field' };
    }
    const field = fieldOf(issue.path);
    if (location === 'body' && issue.path.length === 0 && issue.code === 'invalid_type') {
      return { field: 'body', message: 'a JSON object body is required' };
    }
    // zod says only "Invalid key in record": give the key's own rule, still without echoing the key.
    if (issue.code === 'invalid_key') {
      const rule = issue.issues[0]?.message;
      return { field: field || location, message: rule ? `has a key that ${rule}` : 'has a key that is not valid' };
    }
    // A repeated query parameter arrives as an array (parseQueryString): say so, rather than
    // zod's "expected number, received NaN" for `?limit=1&limit=2`.
    if (location === 'query' && issue.path.length === 1 && Array.isArray(valueAt(value, issue.path))) {
      return { field: field || location, message: 'must be given once' };
    }
    // zod's "Invalid input: expected string, received undefined" for a field that was left out.
    if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(value, issue.path) === undefined) {
      return { field: field || location, message: 'is required' };
    }
    return { field: field || location, message: issue.message };
  });
}
