import { locationOf } from '@capstan/platform';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, type Observable } from 'rxjs';

/**
 * Headers that follow from the body: an object with an `etag` answers with the ETag header, and
 * one created elsewhere (a 202 whose cluster or pool has its own URL) with Location.
 */
@Injectable()
export class ResponseHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((body: unknown) => {
        const reply = context.switchToHttp().getResponse<FastifyReply>();
        if (body && typeof body === 'object' && 'etag' in body && typeof body.etag === 'string') void reply.header('etag', body.etag);
        const location = locationOf(body);
        if (location) void reply.header('location', location);
        return body;
      }),
    );
  }
}
