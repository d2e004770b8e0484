import { allRoutes } from '@capstan/contracts';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { outageLog } from './dependency-outage';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, toProblem } from './problem';

/** The one place every error becomes an HTTP answer (RFC 9457 application/problem+json). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(request, reply, error, this.logger);
  }
}

/**
 * Fastify's own refusals of a request (media type, body size, empty JSON body), kept by the
 * `onError` hook: Nest hands the filter only `new HttpException(message, status)` in their place,
 * which loses the error code and with it our wording (toProblem's describeFastifyError).
 */
const fastifyRefusals = new WeakMap<FastifyRequest, Error>();

export function keepFastifyRefusal(request: FastifyRequest, error: Error): void {
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) fastifyRefusals.set(request, error);
}

/** The Fastify error Nest wrapped into this HttpException, if it was one (same status). */
function unwrapped(request: FastifyRequest, error: unknown): unknown {
  if (!(error instanceof HttpException)) return error;
  const original = fastifyRefusals.get(request);
  return original && (original as { statusCode?: number }).statusCode === error.getStatus() ? original : error;
}

/**
 * `withInstance: false` for the router's own refusals (a bad or overlong path): the path is
 * exactly what was wrong, and an answer never reflects hostile input.
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown, logger: Pick<Logger, 'error'>, withInstance = true): void {
  const { status, problem, unexpected, dependency, retryAfter } = toProblem(
    unwrapped(request, error),
    withInstance ? request.url.split('?')[0] : undefined,
    String(request.id),
  );
  if (unexpected) logger.error({ err: error, requestId: request.id }, 'unhandled error');
  if (dependency) outageLog.failed(dependency, error);
  if (reply.sent) return;
  if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
  if (status === 404 && error instanceof NotFoundException) {
    // The router found no route for this method; if the path has routes for others, say which.
    const allow = allowedMethods(request);
    if (allow.length > 0) {
      const detail = `${request.method} is not allowed here; allowed: ${allow.join(', ')}`;
      void reply.status(405).header('allow', allow.join(', ')).header('content-type', PROBLEM_CONTENT_TYPE);
      void reply.send({ ...problem, type: `${PROBLEM_TYPE_BASE}method-not-allowed`, title: 'Method not allowed', status: 405, detail });
      return;
    }
  }
  // RFC 9110 11.6.1: a 401 says how to authenticate; RFC 6750 3.1 adds why a presented token failed.
  if (status === 401)
    void reply.header('www-authenticate', request.headers.authorization ? 'Bearer realm="capstan", error="invalid_token"' : 'Bearer realm="capstan"');
  void reply.status(status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
}

const PATTERNS = new Map<string, RegExp>();

/**
 * The methods this process serves on the request's path, from the route contracts, each checked
 * against the router (a process mounts only some contracts). GET implies HEAD, as Fastify serves it.
 */
function allowedMethods(request: FastifyRequest): string[] {
  const path = request.url.split('?')[0]!;
  const methods = new Set<string>();
  for (const route of allRoutes()) {
    let pattern = PATTERNS.get(route.path);
    if (!pattern) {
      pattern = new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?$`);
      PATTERNS.set(route.path, pattern);
    }
    if (!pattern.test(path)) continue;
    const url = route.path.replace(/\{([^}]+)\}/g, ':$1');
    if (!request.server.hasRoute({ url, method: route.method })) continue;
    methods.add(route.method);
    if (route.method === 'GET') methods.add('HEAD');
  }
  return [...methods].sort();
}
