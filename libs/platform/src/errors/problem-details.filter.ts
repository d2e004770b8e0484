import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OUTAGE_RETRY_AFTER_SECONDS, outageLog } from './dependency-outage';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';

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
 * `withInstance: false` for the router's own refusals (a bad or overlong path): the path is
 * exactly what was wrong, and an answer never reflects hostile input.
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown, logger: Pick<Logger, 'error'>, withInstance = true): void {
  const { status, problem, unexpected, dependency } = toProblem(error, withInstance ? request.url.split('?')[0] : undefined, String(request.id));
  if (unexpected) logger.error({ err: error, requestId: request.id }, 'unhandled error');
  if (dependency) outageLog.failed(dependency, error);
  if (reply.sent) return;
  if (dependency) void reply.header('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
  // RFC 9110 11.6.1: a 401 says how to authenticate; RFC 6750 3.1 adds why a presented token failed.
  if (status === 401) void reply.header('www-authenticate', request.headers.authorization ? 'Bearer realm="capstan", error="invalid_token"' : 'Bearer realm="capstan"');
  void reply.status(status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
}
